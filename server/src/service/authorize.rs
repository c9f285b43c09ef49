//! The check every authenticated request goes through, and the role rules built on it.

use sync_protocol::DeviceId;

use crate::auth::{Caller, Role};
use crate::db::{AnyConnection, devices, users};
use crate::error::{ApiError, ErrorCode};
use crate::ids::{AgencyId, UserId};
use crate::service::audit::Entry;

/// An authenticated, authorised caller: an active user on a device registered to them and
/// not revoked.
#[derive(Clone, Debug)]
pub struct Principal {
    /// User id.
    pub user_id: UserId,
    /// Sign-in name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Agency, for officers and agency admins.
    pub agency_id: Option<AgencyId>,
    /// The device the token was issued to.
    pub device: DeviceId,
    /// Client address.
    pub remote_addr: Option<String>,
}

impl Principal {
    /// The agency an agency admin is limited to; `None` for a regency admin (no limit).
    pub fn agency_limit(&self) -> Result<Option<AgencyId>, ApiError> {
        match self.role {
            Role::RegencyAdmin => Ok(None),
            Role::AgencyAdmin => self.agency_id.map(Some).ok_or_else(|| {
                ApiError::internal(format!("agency admin {} has no agency", self.user_id))
            }),
            Role::Officer => Err(ApiError::forbidden_role()),
        }
    }

    /// An audit entry with this caller as the actor.
    pub fn actor(&self) -> Entry {
        Entry::by(self.user_id, &self.username, self.remote_addr.clone())
    }
}

/// Checks the caller against the database: the user exists and is active, the device is
/// registered to them and not revoked, and no password change is due. Run inside the
/// request's transaction.
pub fn authorize(conn: &mut AnyConnection, caller: &Caller) -> Result<Principal, ApiError> {
    let (principal, must_change_password) = check(conn, caller)?;
    if must_change_password {
        return Err(ApiError::password_change_required());
    }
    Ok(principal)
}

/// [`authorize`] for what a user with a one-time password may still do: change it, read
/// their own account, refresh. Someone else chose or saw that password, so until it is
/// replaced it opens nothing else.
pub fn authorize_own_account(
    conn: &mut AnyConnection,
    caller: &Caller,
) -> Result<Principal, ApiError> {
    check(conn, caller).map(|(principal, _)| principal)
}

/// The caller, and whether their password must be changed.
fn check(conn: &mut AnyConnection, caller: &Caller) -> Result<(Principal, bool), ApiError> {
    let user = users::by_id(conn, caller.user_id)?
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidToken, "the token's user does not exist"))?;
    if !user.active {
        return Err(ApiError::user_deactivated());
    }
    match devices::find(conn, caller.device)? {
        None => return Err(ApiError::device_not_registered()),
        Some(d) if d.user_id != user.id => {
            return Err(ApiError::device_registered_to_another_user(caller.device));
        }
        Some(d) if d.revoked => return Err(ApiError::device_revoked(caller.device)),
        Some(_) => {}
    }
    let must_change_password = user.must_change_password;
    let view = crate::api::accounts::UserView::try_from(user)?;
    let principal = Principal {
        user_id: view.id,
        username: view.username,
        role: view.role,
        agency_id: view.agency_id,
        device: caller.device,
        remote_addr: caller.remote_addr.clone(),
    };
    Ok((principal, must_change_password))
}

/// An agency or regency administrator.
pub fn admin(conn: &mut AnyConnection, caller: &Caller) -> Result<Principal, ApiError> {
    let p = authorize(conn, caller)?;
    match p.role {
        Role::RegencyAdmin | Role::AgencyAdmin => Ok(p),
        Role::Officer => Err(ApiError::forbidden_role()),
    }
}

/// A regency administrator.
pub fn regency_admin(conn: &mut AnyConnection, caller: &Caller) -> Result<Principal, ApiError> {
    let p = authorize(conn, caller)?;
    match p.role {
        Role::RegencyAdmin => Ok(p),
        _ => Err(ApiError::forbidden_role()),
    }
}
