//! Failed sign-in counters, per user name and per address.

use diesel::prelude::*;

use super::schema::login_attempts;
use super::{AnyConnection, DbResult, per_backend};

/// A counter: failures in the current window, when the window started, locked until.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Queryable)]
pub struct Attempts {
    /// Failures counted.
    pub failures: i64,
    /// Start of the counting window, ms.
    pub window_start: i64,
    /// No attempt is checked before this time, ms.
    pub locked_until: i64,
}

/// The counter for `key`, zero if none.
pub fn get(conn: &mut AnyConnection, key: &str) -> DbResult<Attempts> {
    let row: Option<Attempts> = login_attempts::table
        .find(key)
        .select((
            login_attempts::failures,
            login_attempts::window_start,
            login_attempts::locked_until,
        ))
        .first(conn)
        .optional()?;
    Ok(row.unwrap_or_default())
}

/// Stores the counter for `key`.
pub fn put(conn: &mut AnyConnection, key: &str, a: Attempts) -> DbResult<()> {
    let row = (
        login_attempts::key.eq(key),
        login_attempts::failures.eq(a.failures),
        login_attempts::window_start.eq(a.window_start),
        login_attempts::locked_until.eq(a.locked_until),
    );
    per_backend!(conn, c => diesel::insert_into(login_attempts::table)
        .values(row)
        .on_conflict(login_attempts::key)
        .do_update()
        .set(row)
        .execute(c))?;
    Ok(())
}

/// Forgets the counter for `key`.
pub fn clear(conn: &mut AnyConnection, key: &str) -> DbResult<()> {
    diesel::delete(login_attempts::table.find(key)).execute(conn)?;
    Ok(())
}

/// Forgets counters whose window ended and whose lock expired, so names tried once by
/// someone guessing do not pile up.
pub fn purge_stale(
    conn: &mut AnyConnection,
    window_started_before: i64,
    now: i64,
) -> DbResult<usize> {
    Ok(diesel::delete(
        login_attempts::table
            .filter(login_attempts::window_start.lt(window_started_before))
            .filter(login_attempts::locked_until.lt(now)),
    )
    .execute(conn)?)
}
