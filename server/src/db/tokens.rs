//! Refresh credentials: one row per issued secret, only its hash kept.

use diesel::prelude::*;

use super::schema::refresh_tokens;
use super::{AnyConnection, DbResult, now_ms};
use crate::ids::{DeviceId, UserId};

/// A refresh credential row.
#[derive(Clone, Debug, Queryable)]
pub struct RefreshRow {
    /// Token id (the public half of the credential).
    pub id: String,
    /// The sign-in chain it belongs to.
    pub family_id: String,
    /// The device it is bound to.
    pub device_id: String,
    /// The user.
    pub user_id: String,
    /// SHA-256 of the secret half, hex.
    pub secret_hash: String,
    /// Issued at, ms.
    pub issued_at: i64,
    /// Expires at, ms.
    pub expires_at: i64,
    /// When it was exchanged for a new one.
    pub used_at: Option<i64>,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
}

/// Stores a new refresh credential.
pub fn insert(conn: &mut AnyConnection, row: &RefreshRow) -> DbResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(&row.id),
            refresh_tokens::family_id.eq(&row.family_id),
            refresh_tokens::device_id.eq(&row.device_id),
            refresh_tokens::user_id.eq(&row.user_id),
            refresh_tokens::secret_hash.eq(&row.secret_hash),
            refresh_tokens::issued_at.eq(row.issued_at),
            refresh_tokens::expires_at.eq(row.expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// A credential by id.
pub fn find(conn: &mut AnyConnection, id: &str) -> DbResult<Option<RefreshRow>> {
    Ok(refresh_tokens::table.find(id).first(conn).optional()?)
}

/// Marks a credential used, if it was not already: true when this call used it, so two
/// racing refreshes with one credential cannot both succeed.
pub fn mark_used(conn: &mut AnyConnection, id: &str) -> DbResult<bool> {
    let n = diesel::update(
        refresh_tokens::table
            .find(id)
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(Some(now_ms())))
    .execute(conn)?;
    Ok(n == 1)
}

/// Revokes every live credential of a device.
pub fn revoke_device(conn: &mut AnyConnection, device: DeviceId) -> DbResult<usize> {
    Ok(diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::device_id.eq(device.to_string()))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(now_ms())))
    .execute(conn)?)
}

/// Revokes every live credential of a user.
pub fn revoke_user(conn: &mut AnyConnection, user: UserId) -> DbResult<usize> {
    Ok(diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user.to_string()))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(now_ms())))
    .execute(conn)?)
}

/// The credentials of a family issued after `issued_at`: the successors of one credential.
pub fn successors(
    conn: &mut AnyConnection,
    family_id: &str,
    issued_at: i64,
) -> DbResult<Vec<RefreshRow>> {
    Ok(refresh_tokens::table
        .filter(refresh_tokens::family_id.eq(family_id))
        .filter(refresh_tokens::issued_at.ge(issued_at))
        .order(refresh_tokens::issued_at)
        .load(conn)?)
}

/// Revokes one credential.
pub fn revoke(conn: &mut AnyConnection, id: &str) -> DbResult<()> {
    diesel::update(
        refresh_tokens::table
            .find(id)
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(now_ms())))
    .execute(conn)?;
    Ok(())
}

/// Deletes credentials that expired or were revoked before `before`, ms; returns how many.
/// Used credentials stay until they expire, so a replay is recognised for as long as the
/// credential could have been valid.
pub fn delete_dead(conn: &mut AnyConnection, before: i64) -> DbResult<usize> {
    Ok(diesel::delete(
        refresh_tokens::table.filter(
            refresh_tokens::expires_at
                .lt(before)
                .or(refresh_tokens::revoked_at.lt(before)),
        ),
    )
    .execute(conn)?)
}
