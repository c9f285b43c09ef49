//! Users and agencies.

use diesel::prelude::*;

use super::schema::{agencies, devices, users};
use super::{AnyConnection, DbResult, now_ms};

/// A user row.
#[derive(Clone, Debug, Queryable)]
pub struct UserRow {
    /// User id (UUID).
    pub id: String,
    /// Lowercase sign-in name.
    pub username: String,
    /// Name shown to people.
    pub display_name: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// `officer`, `agency_admin` or `regency_admin`.
    pub role: String,
    /// The agency of an officer or agency admin.
    pub agency_id: Option<String>,
    /// Deactivated users cannot sign in or sync.
    pub active: bool,
    /// Creation time, ms.
    pub created_at: i64,
    /// Last change, ms.
    pub updated_at: i64,
}

/// A new user.
pub struct NewUser<'a> {
    /// Id.
    pub id: &'a str,
    /// Lowercase sign-in name.
    pub username: &'a str,
    /// Display name.
    pub display_name: &'a str,
    /// PHC hash.
    pub password_hash: &'a str,
    /// Role name.
    pub role: &'a str,
    /// Agency.
    pub agency_id: Option<&'a str>,
}

/// Inserts a user.
pub fn insert(conn: &mut AnyConnection, u: &NewUser<'_>) -> DbResult<()> {
    let now = now_ms();
    diesel::insert_into(users::table)
        .values((
            users::id.eq(u.id),
            users::username.eq(u.username),
            users::display_name.eq(u.display_name),
            users::password_hash.eq(u.password_hash),
            users::role.eq(u.role),
            users::agency_id.eq(u.agency_id),
            users::active.eq(true),
            users::created_at.eq(now),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// A user by id.
pub fn by_id(conn: &mut AnyConnection, id: &str) -> DbResult<Option<UserRow>> {
    Ok(users::table
        .find(id)
        .select(users::all_columns)
        .first(conn)
        .optional()?)
}

/// A user by sign-in name.
pub fn by_username(conn: &mut AnyConnection, username: &str) -> DbResult<Option<UserRow>> {
    Ok(users::table
        .filter(users::username.eq(username))
        .select(users::all_columns)
        .first(conn)
        .optional()?)
}

/// Users, all or of one agency, by name.
pub fn list(conn: &mut AnyConnection, agency: Option<&str>) -> DbResult<Vec<UserRow>> {
    let mut q = users::table
        .select(users::all_columns)
        .order(users::username)
        .into_boxed();
    if let Some(a) = agency {
        q = q.filter(users::agency_id.eq(a));
    }
    Ok(q.load(conn)?)
}

/// How many users exist.
pub fn count(conn: &mut AnyConnection) -> DbResult<i64> {
    Ok(users::table.count().get_result(conn)?)
}

/// Activates or deactivates a user.
pub fn set_active(conn: &mut AnyConnection, id: &str, active: bool) -> DbResult<()> {
    diesel::update(users::table.find(id))
        .set((users::active.eq(active), users::updated_at.eq(now_ms())))
        .execute(conn)?;
    Ok(())
}

/// Replaces a user's password hash.
pub fn set_password(conn: &mut AnyConnection, id: &str, hash: &str) -> DbResult<()> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(hash),
            users::updated_at.eq(now_ms()),
        ))
        .execute(conn)?;
    Ok(())
}

/// An agency row: id, name, kind, created_at.
pub type AgencyRow = (String, String, String, i64);

/// Inserts an agency.
pub fn insert_agency(conn: &mut AnyConnection, id: &str, name: &str, kind: &str) -> DbResult<()> {
    diesel::insert_into(agencies::table)
        .values((
            agencies::id.eq(id),
            agencies::name.eq(name),
            agencies::kind.eq(kind),
            agencies::created_at.eq(now_ms()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Agencies, all or one.
pub fn agencies(conn: &mut AnyConnection, only: Option<&str>) -> DbResult<Vec<AgencyRow>> {
    let mut q = agencies::table
        .select((
            agencies::id,
            agencies::name,
            agencies::kind,
            agencies::created_at,
        ))
        .order(agencies::name)
        .into_boxed();
    if let Some(id) = only {
        q = q.filter(agencies::id.eq(id));
    }
    Ok(q.load(conn)?)
}

/// Whether an agency exists.
pub fn agency_exists(conn: &mut AnyConnection, id: &str) -> DbResult<bool> {
    Ok(agencies::table
        .find(id)
        .select(agencies::id)
        .first::<String>(conn)
        .optional()?
        .is_some())
}

/// A device as administrators see it.
#[derive(Clone, Debug, Queryable)]
pub struct DeviceRow {
    /// Installation id.
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// Owner's sign-in name.
    pub username: String,
    /// Owner's role.
    pub role: String,
    /// Owner's agency.
    pub agency_id: Option<String>,
    /// Last processed sequence number.
    pub last_seq: i64,
    /// Revoked or not.
    pub revoked: bool,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
    /// Why.
    pub revoked_reason: Option<String>,
    /// Caught sequence-number reuses.
    pub seq_reuse_count: i64,
    /// Registered at.
    pub created_at: i64,
    /// Last push.
    pub last_push_at: Option<i64>,
}

/// Devices with their owners, all or of one agency.
pub fn devices(conn: &mut AnyConnection, agency: Option<&str>) -> DbResult<Vec<DeviceRow>> {
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
            devices::created_at,
            devices::last_push_at,
        ))
        .order(devices::created_at)
        .into_boxed();
    if let Some(a) = agency {
        q = q.filter(users::agency_id.eq(a));
    }
    Ok(q.load(conn)?)
}
