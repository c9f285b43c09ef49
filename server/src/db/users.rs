//! Users.

use diesel::prelude::*;

use super::schema::users;
use super::{AnyConnection, DbResult, now_ms, per_backend};
use crate::ids::{AgencyId, UserId};

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
    /// Until the user changes the password, they may do nothing else.
    pub must_change_password: bool,
}

/// A new user.
pub struct NewUser<'a> {
    /// Id.
    pub id: UserId,
    /// Lowercase sign-in name.
    pub username: &'a str,
    /// Display name.
    pub display_name: &'a str,
    /// PHC hash.
    pub password_hash: &'a str,
    /// Role name.
    pub role: &'static str,
    /// Agency.
    pub agency_id: Option<AgencyId>,
    /// The password is one-time: it must be changed before anything else.
    pub must_change_password: bool,
}

/// Inserts a user unless the user name (or the id) is taken; returns whether it was
/// inserted.
pub fn insert(conn: &mut AnyConnection, u: &NewUser<'_>) -> DbResult<bool> {
    let now = now_ms();
    let row = (
        users::id.eq(u.id.to_string()),
        users::username.eq(u.username),
        users::display_name.eq(u.display_name),
        users::password_hash.eq(u.password_hash),
        users::role.eq(u.role),
        users::agency_id.eq(u.agency_id.map(|a| a.to_string())),
        users::active.eq(true),
        users::created_at.eq(now),
        users::updated_at.eq(now),
        users::must_change_password.eq(u.must_change_password),
    );
    let n = per_backend!(conn, c => diesel::insert_into(users::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(n == 1)
}

/// A user by id.
pub fn by_id(conn: &mut AnyConnection, id: UserId) -> DbResult<Option<UserRow>> {
    Ok(users::table
        .find(id.to_string())
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
pub fn list(conn: &mut AnyConnection, agency: Option<AgencyId>) -> DbResult<Vec<UserRow>> {
    let mut q = users::table
        .select(users::all_columns)
        .order(users::username)
        .into_boxed();
    if let Some(a) = agency {
        q = q.filter(users::agency_id.eq(a.to_string()));
    }
    Ok(q.load(conn)?)
}

/// How many users exist.
pub fn count(conn: &mut AnyConnection) -> DbResult<i64> {
    Ok(users::table.count().get_result(conn)?)
}

/// Activates or deactivates a user.
pub fn set_active(conn: &mut AnyConnection, id: UserId, active: bool) -> DbResult<()> {
    diesel::update(users::table.find(id.to_string()))
        .set((users::active.eq(active), users::updated_at.eq(now_ms())))
        .execute(conn)?;
    Ok(())
}

/// Replaces a user's password hash; `must_change` says whether the new password is one-time.
pub fn set_password(
    conn: &mut AnyConnection,
    id: UserId,
    hash: &str,
    must_change: bool,
) -> DbResult<()> {
    diesel::update(users::table.find(id.to_string()))
        .set((
            users::password_hash.eq(hash),
            users::must_change_password.eq(must_change),
            users::updated_at.eq(now_ms()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The ids of `agency`'s agency admins.
pub fn agency_admins_of(conn: &mut AnyConnection, agency: &str) -> DbResult<Vec<String>> {
    Ok(users::table
        .filter(users::agency_id.eq(agency))
        .filter(users::role.eq("agency_admin"))
        .select(users::id)
        .load(conn)?)
}

/// The sign-in names of `ids`, by id; unknown ids are left out.
pub fn names_of(
    conn: &mut AnyConnection,
    ids: &[String],
) -> DbResult<std::collections::HashMap<String, String>> {
    let mut found = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(super::records::CHUNK) {
        found.extend(
            users::table
                .filter(users::id.eq_any(chunk))
                .select((users::id, users::username))
                .load::<(String, String)>(conn)?,
        );
    }
    Ok(found)
}
