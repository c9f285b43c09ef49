//! Devices and their exactly-once watermark.

use diesel::prelude::*;
use sync_protocol::DeviceId;

use super::schema::{devices, users};
use super::{AnyConnection, DbResult, now_ms, per_backend, to_u64};
use crate::ids::{AgencyId, UserId};

/// Whose a device is, and whether it was revoked.
#[derive(Clone, Debug, Queryable)]
pub struct DeviceOwner {
    /// The user the device is registered to (as stored).
    pub user_id: String,
    /// Whether the device was revoked.
    pub revoked: bool,
}

#[derive(Queryable)]
struct LockedRow {
    user_id: String,
    owner_active: bool,
    owner_role: String,
    owner_agency: Option<String>,
    last_seq: i64,
    revoked: bool,
}

/// A device row and its owner's, locked for the rest of the transaction.
#[derive(Clone, Debug)]
pub struct LockedDevice {
    /// The user the device is registered to (as stored).
    pub user_id: String,
    /// Whether that user is active.
    pub owner_active: bool,
    /// That user's role, as stored.
    pub owner_role: String,
    /// That user's agency.
    pub owner_agency: Option<String>,
    /// The last processed sequence number.
    pub last_seq: u64,
    /// Whether the device was revoked.
    pub revoked: bool,
}

impl LockedDevice {
    /// Whether `user` may sync through this device now: it is theirs, they are active, and
    /// it is not revoked.
    pub fn serves(&self, user: UserId) -> bool {
        self.owner_active && !self.revoked && self.user_id == user.to_string()
    }
}

/// Registers a device to `user_id` at sign-in, if it is new. Returns the device's owner and
/// whether it is revoked, which may show it belongs to someone else.
pub fn register(
    conn: &mut AnyConnection,
    device: DeviceId,
    user_id: UserId,
) -> DbResult<DeviceOwner> {
    let id = device.to_string();
    let user_id = user_id.to_string();
    per_backend!(conn, c => diesel::insert_into(devices::table)
        .values((
            devices::id.eq(&id),
            devices::user_id.eq(&user_id),
            devices::last_seq.eq(0),
            devices::revoked.eq(false),
            devices::seq_reuse_count.eq(0),
            devices::created_at.eq(now_ms()),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(devices::table
        .find(&id)
        .select((devices::user_id, devices::revoked))
        .first(conn)?)
}

/// Locks a registered device's row, and its owner's, for the rest of the transaction, in
/// one statement. Locking the device first serialises its batches across server instances:
/// a retry racing the original waits, then sees the original's watermark.
pub fn lock_with_owner(
    conn: &mut AnyConnection,
    device: DeviceId,
) -> DbResult<Option<LockedDevice>> {
    let query = devices::table
        .inner_join(users::table)
        .filter(devices::id.eq(device.to_string()))
        .select((
            devices::user_id,
            users::active,
            users::role,
            users::agency_id,
            devices::last_seq,
            devices::revoked,
        ));
    let row: Option<LockedRow> = match conn {
        AnyConnection::Postgresql(c) => query.for_update().first(c).optional()?,
        // BEGIN IMMEDIATE already holds the database's write lock.
        AnyConnection::Sqlite(c) => query.first(c).optional()?,
    };
    row.map(|r| {
        Ok(LockedDevice {
            user_id: r.user_id,
            owner_active: r.owner_active,
            owner_role: r.owner_role,
            owner_agency: r.owner_agency,
            last_seq: to_u64(r.last_seq)?,
            revoked: r.revoked,
        })
    })
    .transpose()
}

/// Revokes a device, keeping the first revocation's time and reason if it already was.
/// Returns whether this call revoked it.
pub fn revoke(conn: &mut AnyConnection, device: DeviceId, reason: &str) -> DbResult<bool> {
    let n = diesel::update(
        devices::table
            .find(device.to_string())
            .filter(devices::revoked.eq(false)),
    )
    .set((
        devices::revoked.eq(true),
        devices::revoked_at.eq(Some(now_ms())),
        devices::revoked_reason.eq(Some(reason)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Moves the watermark and notes the push time.
pub fn set_last_seq(conn: &mut AnyConnection, device: DeviceId, seq: i64) -> DbResult<()> {
    diesel::update(devices::table.find(device.to_string()))
        .set((
            devices::last_seq.eq(seq),
            devices::last_push_at.eq(Some(now_ms())),
        ))
        .execute(conn)?;
    Ok(())
}

/// Counts a caught sequence-number reuse, for the operator's alert.
pub fn note_seq_reuse(conn: &mut AnyConnection, device: DeviceId) -> DbResult<()> {
    diesel::update(devices::table.find(device.to_string()))
        .set(devices::seq_reuse_count.eq(devices::seq_reuse_count + 1))
        .execute(conn)?;
    Ok(())
}

/// How many sequence-number reuses were caught for a device.
pub fn seq_reuse_count(conn: &mut AnyConnection, device: DeviceId) -> DbResult<i64> {
    Ok(devices::table
        .find(device.to_string())
        .select(devices::seq_reuse_count)
        .first(conn)
        .optional()?
        .unwrap_or(0))
}

/// A device's owner and revocation flag, if the device is known.
pub fn find(conn: &mut AnyConnection, device: DeviceId) -> DbResult<Option<DeviceOwner>> {
    Ok(devices::table
        .find(device.to_string())
        .select((devices::user_id, devices::revoked))
        .first(conn)
        .optional()?)
}

/// A device with its owner, as administrators list them.
#[derive(Clone, Debug, Queryable, diesel::QueryableByName)]
pub struct DeviceWithOwner {
    /// Installation id.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub id: String,
    /// Owner.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub user_id: String,
    /// Owner's sign-in name.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub username: String,
    /// Owner's role.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub role: String,
    /// Owner's agency.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub agency_id: Option<String>,
    /// Last processed sequence number.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub last_seq: i64,
    /// Revoked or not.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub revoked: bool,
    /// When it was revoked.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    pub revoked_at: Option<i64>,
    /// Why.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub revoked_reason: Option<String>,
    /// Caught sequence-number reuses.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub seq_reuse_count: i64,
    /// `field` (a phone that signs in) or `console` (an administrator's server-side writer).
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub kind: String,
    /// Registered at.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub created_at: i64,
    /// Last push.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    pub last_push_at: Option<i64>,
}

/// Devices with their owners, in registration order: all, or those of one agency's users,
/// or only one device.
pub fn with_owners(
    conn: &mut AnyConnection,
    agency: Option<AgencyId>,
    only: Option<DeviceId>,
) -> DbResult<Vec<DeviceWithOwner>> {
    let mut q = devices::table
        .inner_join(users::table)
        .select((
            devices::id,
            devices::user_id,
            users::username,
            users::role,
            users::agency_id,
            devices::last_seq,
            devices::revoked,
            devices::revoked_at,
            devices::revoked_reason,
            devices::seq_reuse_count,
            devices::kind,
            devices::created_at,
            devices::last_push_at,
        ))
        .order(devices::created_at)
        .into_boxed();
    if let Some(a) = agency {
        q = q.filter(users::agency_id.eq(a.to_string()));
    }
    if let Some(d) = only {
        q = q.filter(devices::id.eq(d.to_string()));
    }
    Ok(q.load(conn)?)
}

/// The kind of a device that signs in.
pub const FIELD: &str = "field";
/// The kind of an administrator's server-side writer.
pub const CONSOLE: &str = "console";

/// The console device of administrator `user`, created on first use. It is stored revoked,
/// so that the checks every sign-in, refresh and push make refuse it: only the server
/// writes through it. Its id is random, not derived from the user's, so that no phone can
/// register it first.
pub fn console_of(conn: &mut AnyConnection, user: UserId) -> DbResult<DeviceId> {
    let user = user.to_string();
    let find = |conn: &mut AnyConnection| -> DbResult<Option<String>> {
        Ok(devices::table
            .filter(devices::user_id.eq(&user))
            .filter(devices::kind.eq(CONSOLE))
            .select(devices::id)
            .first(conn)
            .optional()?)
    };
    let id = match find(conn)? {
        Some(id) => id,
        None => {
            let id = DeviceId(uuid::Uuid::now_v7()).to_string();
            // A concurrent first edit by the same administrator may insert theirs first:
            // the unique index keeps one, and both read it back.
            per_backend!(conn, c => diesel::insert_into(devices::table)
                .values((
                    devices::id.eq(&id),
                    devices::user_id.eq(&user),
                    devices::last_seq.eq(0),
                    devices::revoked.eq(true),
                    devices::revoked_at.eq(Some(now_ms())),
                    devices::revoked_reason.eq(Some(
                        "console device: the server writes this administrator's edits and \
                         imports through it; it never signs in",
                    )),
                    devices::seq_reuse_count.eq(0),
                    devices::created_at.eq(now_ms()),
                    devices::kind.eq(CONSOLE),
                ))
                .on_conflict_do_nothing()
                .execute(c))?;
            find(conn)?.ok_or_else(|| {
                super::DbError::Corrupt(format!("console device of {user} vanished"))
            })?
        }
    };
    id.parse()
        .map_err(|_| super::DbError::Corrupt(format!("device id {id}")))
}

/// The owners of `ids` (device id, user id, user name, device kind), for showing who wrote
/// a value; unknown ids are left out.
pub fn owners_of(
    conn: &mut AnyConnection,
    ids: &[String],
) -> DbResult<Vec<(String, String, String, String)>> {
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(super::records::CHUNK) {
        found.extend(
            devices::table
                .inner_join(users::table)
                .filter(devices::id.eq_any(chunk))
                .select((
                    devices::id,
                    devices::user_id,
                    users::username,
                    devices::kind,
                ))
                .load::<(String, String, String, String)>(conn)?,
        );
    }
    Ok(found)
}
