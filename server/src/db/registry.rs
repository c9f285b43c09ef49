//! Households by their registry entry, for imports that must not register one twice.

use diesel::prelude::*;

use super::schema::q_households;
use super::{AnyConnection, DbResult, records};

/// A household already registered: its record id and registry key as stored.
#[derive(Clone, Debug, Queryable)]
pub struct Registered {
    /// The household's record id.
    pub id: String,
    /// The registry, as stored (`dtks`, ...).
    pub registry_source: Option<String>,
    /// The id in that registry.
    pub registry_id: Option<String>,
}

/// The households whose registry id is one of `ids`, deleted ones included (their record
/// stays, and an administrator can restore it).
pub fn by_registry_ids(conn: &mut AnyConnection, ids: &[&str]) -> DbResult<Vec<Registered>> {
    let mut found = Vec::new();
    for chunk in ids.chunks(records::CHUNK) {
        found.extend(
            q_households::table
                .filter(q_households::registry_id.eq_any(chunk))
                .select((
                    q_households::id,
                    q_households::registry_source,
                    q_households::registry_id,
                ))
                .load::<Registered>(conn)?,
        );
    }
    Ok(found)
}

/// Serialises household imports until the transaction ends, so that two imports of one
/// file cannot both find a registry entry new and both create it. SQLite's write
/// transaction already does.
pub fn lock_imports(conn: &mut AnyConnection) -> DbResult<()> {
    if let AnyConnection::Postgresql(c) = conn {
        // An arbitrary constant naming "household import" among advisory locks.
        diesel::sql_query("SELECT pg_advisory_xact_lock(7368210001)").execute(c)?;
    }
    Ok(())
}
