//! Agencies: the officers' workplaces.

use diesel::prelude::*;

use super::schema::agencies;
use super::{AnyConnection, DbResult, now_ms, per_backend};
use crate::ids::AgencyId;

/// An agency row.
#[derive(Clone, Debug, Queryable)]
pub struct AgencyRow {
    /// Agency id (UUID).
    pub id: String,
    /// Unique name.
    pub name: String,
    /// `opd`, `school`, `partner`, ...
    pub kind: String,
    /// Creation time, ms.
    pub created_at: i64,
}

/// Inserts an agency unless the name (or the id) is taken; returns whether it was inserted.
pub fn insert(conn: &mut AnyConnection, id: AgencyId, name: &str, kind: &str) -> DbResult<bool> {
    let row = (
        agencies::id.eq(id.to_string()),
        agencies::name.eq(name),
        agencies::kind.eq(kind),
        agencies::created_at.eq(now_ms()),
    );
    let n = per_backend!(conn, c => diesel::insert_into(agencies::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(n == 1)
}

/// Agencies by name, all or only one.
pub fn list(conn: &mut AnyConnection, only: Option<AgencyId>) -> DbResult<Vec<AgencyRow>> {
    let mut q = agencies::table
        .select(agencies::all_columns)
        .order(agencies::name)
        .into_boxed();
    if let Some(id) = only {
        q = q.filter(agencies::id.eq(id.to_string()));
    }
    Ok(q.load(conn)?)
}

/// Whether an agency exists.
pub fn exists(conn: &mut AnyConnection, id: AgencyId) -> DbResult<bool> {
    Ok(agencies::table
        .find(id.to_string())
        .select(agencies::id)
        .first::<String>(conn)
        .optional()?
        .is_some())
}
