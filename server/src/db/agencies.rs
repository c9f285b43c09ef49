//! Agencies: the officers' workplaces.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::schema::agencies;
use super::{AnyConnection, DbResult, now_ms, per_backend, write_tx};
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

/// Inserts an agency unless its id is taken or an agency's name is `same` as `name`; returns
/// that agency's name when one is. Agencies are few and made rarely, so the check reads them
/// all, under a lock on PostgreSQL (SQLite's write transaction already excludes other
/// writers): two administrators adding `Dinas Sosial` and `DINAS SOSIAL` at once cannot both
/// succeed.
pub fn insert_unless_named(
    conn: &mut AnyConnection,
    id: AgencyId,
    name: &str,
    kind: &str,
    same: fn(&str, &str) -> bool,
) -> DbResult<Option<String>> {
    write_tx(conn, |conn| {
        if let AnyConnection::Postgresql(c) = conn {
            c.batch_execute("LOCK TABLE agencies IN SHARE ROW EXCLUSIVE MODE")?;
        }
        let names: Vec<String> = agencies::table.select(agencies::name).load(conn)?;
        if let Some(taken) = names.into_iter().find(|n| same(n, name)) {
            return Ok(Some(taken));
        }
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
        Ok((n == 0).then(|| name.to_owned()))
    })
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
