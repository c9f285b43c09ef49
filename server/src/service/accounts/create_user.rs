//! Creating an account: the checks on the account itself. Who may create whom is the
//! caller's rule (the admin service, the command line, the first start).

use crate::api::accounts::{NewUserRequest, UserView};
use crate::auth::{Role, password};
use crate::db::users::NewUser;
use crate::db::{self, AnyConnection, agencies, users};
use crate::error::{ApiError, ErrorCode};
use crate::ids::UserId;

use super::password_rules;
use crate::service::names::visible_name;

/// Creates an account.
pub fn create_user(conn: &mut AnyConnection, req: NewUserRequest) -> Result<UserView, ApiError> {
    create(conn, req, false, || Ok(()))
}

/// Creates an account whose password must be changed at the first sign-in. `keep` runs
/// once the user is inserted, before the commit: if it fails, the user is not created.
pub(super) fn create_user_with_one_time_password(
    conn: &mut AnyConnection,
    req: NewUserRequest,
    keep: impl FnOnce() -> Result<(), ApiError>,
) -> Result<UserView, ApiError> {
    create(conn, req, true, keep)
}

/// Whether `name` (trimmed, lower case) is a user name: 3 to 64 characters of a-z, 0-9,
/// `.`, `_` and `-`.
pub fn valid_username(name: &str) -> bool {
    (3..=64).contains(&name.len())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
}

fn create(
    conn: &mut AnyConnection,
    req: NewUserRequest,
    must_change_password: bool,
    keep: impl FnOnce() -> Result<(), ApiError>,
) -> Result<UserView, ApiError> {
    let username = req.username.trim().to_lowercase();
    if !valid_username(&username) {
        return Err(ApiError::new(
            ErrorCode::InvalidUsername,
            "a user name is 3 to 64 characters of a-z, 0-9, '.', '_' and '-'",
        ));
    }
    password_rules::check_strength(&req.password)?;
    let display_name = visible_name(&req.display_name, 200).map_err(|why| {
        ApiError::new(
            ErrorCode::InvalidDisplayName,
            format!("the display name {why}"),
        )
    })?;
    match (req.role, req.agency_id) {
        (Role::Officer | Role::AgencyAdmin, None) => {
            return Err(ApiError::new(
                ErrorCode::AgencyRequired,
                "officers and agency admins belong to an agency: give agency_id",
            ));
        }
        (_, Some(a)) if !agencies::exists(conn, a)? => {
            return Err(ApiError::new(
                ErrorCode::UnknownAgency,
                format!("no agency {a}"),
            ));
        }
        _ => {}
    }
    let hash = password::hash(&req.password).map_err(ApiError::Internal)?;
    let id = UserId::generate();
    let inserted = db::write_tx(conn, |c| {
        let inserted = users::insert(
            c,
            &NewUser {
                id,
                username: &username,
                display_name,
                password_hash: &hash,
                role: req.role.as_str(),
                agency_id: req.agency_id,
                must_change_password,
            },
        )?;
        if inserted {
            keep()?;
        }
        Ok::<_, ApiError>(inserted)
    })?;
    if !inserted {
        return Err(ApiError::new(
            ErrorCode::UsernameTaken,
            format!("`{username}` is taken"),
        ));
    }
    users::by_id(conn, id)?
        .ok_or_else(|| ApiError::internal(format!("user {id} vanished")))?
        .try_into()
}
