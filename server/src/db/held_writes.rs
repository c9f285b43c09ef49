//! Writes refused as outside the writer's scope, kept whole for review.

use diesel::prelude::*;

use super::schema::{held_writes, users};
use super::{AnyConnection, DbResult};

/// A held write with its writer's name and agency.
#[derive(Clone, Debug, Queryable)]
pub struct HeldWriteRow {
    /// The device that sent it.
    pub device_id: String,
    /// Its sequence number on that device.
    pub seq: i64,
    /// The writer.
    pub user_id: String,
    /// The record it would have written.
    pub record_id: String,
    /// The household outside the writer's scope.
    pub household_id: Option<String>,
    /// The operation as the device sent it (JSON).
    pub operation: String,
    /// When it was refused, ms.
    pub held_at: i64,
    /// The writer's user name.
    pub username: String,
    /// The writer's agency.
    pub agency_id: Option<String>,
}

/// Held writes, newest first, at most `limit`; of writers of `agency` only when given.
pub fn list(
    conn: &mut AnyConnection,
    agency: Option<&str>,
    limit: i64,
) -> DbResult<Vec<HeldWriteRow>> {
    let mut q = held_writes::table
        .inner_join(users::table.on(users::id.eq(held_writes::user_id)))
        .select((
            held_writes::device_id,
            held_writes::seq,
            held_writes::user_id,
            held_writes::record_id,
            held_writes::household_id,
            held_writes::operation,
            held_writes::held_at,
            users::username,
            users::agency_id,
        ))
        .order((
            held_writes::held_at.desc(),
            held_writes::device_id,
            held_writes::seq,
        ))
        .limit(limit)
        .into_boxed();
    if let Some(a) = agency {
        q = q.filter(users::agency_id.eq(a.to_owned()));
    }
    Ok(q.load(conn)?)
}
