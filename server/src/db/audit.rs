//! The audit log: who did what, when, from where.

use diesel::prelude::*;

use super::schema::audit_log;
use super::{AnyConnection, DbResult};

/// One audit entry.
#[derive(Clone, Debug, Queryable)]
pub struct AuditRow {
    /// Entry id (UUID v7: ordered by time).
    pub id: String,
    /// When, ms since the Unix epoch.
    pub at: i64,
    /// The acting user, when known.
    pub actor_user_id: Option<String>,
    /// The acting user's name, or the name tried at a failed sign-in.
    pub actor_username: Option<String>,
    /// What happened (`login_succeeded`, `device_revoked`, ...).
    pub action: String,
    /// What it was done to (a user, a device).
    pub target: Option<String>,
    /// Details: the text of a JSON object.
    pub detail: String,
    /// The client's address.
    pub remote_addr: Option<String>,
    /// Whether the action succeeded.
    pub success: bool,
}

/// Appends an entry.
pub fn insert(conn: &mut AnyConnection, row: &AuditRow) -> DbResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::id.eq(&row.id),
            audit_log::at.eq(row.at),
            audit_log::actor_user_id.eq(&row.actor_user_id),
            audit_log::actor_username.eq(&row.actor_username),
            audit_log::action.eq(&row.action),
            audit_log::target.eq(&row.target),
            audit_log::detail.eq(&row.detail),
            audit_log::remote_addr.eq(&row.remote_addr),
            audit_log::success.eq(row.success),
        ))
        .execute(conn)?;
    Ok(())
}

/// The newest entries first, optionally only those older than `before` (an entry id), and
/// only one action.
pub fn list(
    conn: &mut AnyConnection,
    before: Option<&str>,
    action: Option<&str>,
    limit: i64,
) -> DbResult<Vec<AuditRow>> {
    let mut q = audit_log::table
        .order(audit_log::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(b) = before {
        q = q.filter(audit_log::id.lt(b));
    }
    if let Some(a) = action {
        q = q.filter(audit_log::action.eq(a));
    }
    Ok(q.load(conn)?)
}

/// The newest entry of `action` on `target` since `since`: its id and detail.
pub fn latest(
    conn: &mut AnyConnection,
    action: &str,
    target: &str,
    since: i64,
) -> DbResult<Option<(String, String)>> {
    Ok(audit_log::table
        .filter(audit_log::at.ge(since))
        .filter(audit_log::action.eq(action))
        .filter(audit_log::target.eq(target))
        .order(audit_log::id.desc())
        .select((audit_log::id, audit_log::detail))
        .first(conn)
        .optional()?)
}

/// Replaces an entry's detail: only for summaries that count repeats of one event.
pub fn set_detail(conn: &mut AnyConnection, id: &str, detail: &str) -> DbResult<()> {
    diesel::update(audit_log::table.find(id))
        .set(audit_log::detail.eq(detail))
        .execute(conn)?;
    Ok(())
}

/// Deletes entries older than `before`, ms; returns how many.
pub fn delete_before(conn: &mut AnyConnection, before: i64) -> DbResult<usize> {
    Ok(diesel::delete(audit_log::table.filter(audit_log::at.lt(before))).execute(conn)?)
}
