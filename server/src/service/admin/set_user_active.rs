//! Deactivating and reactivating users.

use crate::api::accounts::UserView;
use crate::auth::{Caller, Role};
use crate::db::{self, AnyConnection, tokens, users};
use crate::error::{ApiError, ErrorCode};
use crate::ids::UserId;
use crate::service::{audit, authorize};

/// Activates or deactivates a user. Deactivation revokes their refresh credentials; their
/// access tokens are refused from the next request.
pub fn set_user_active(
    conn: &mut AnyConnection,
    caller: &Caller,
    user_id: UserId,
    active: bool,
) -> Result<UserView, ApiError> {
    let p = authorize::admin(conn, caller)?;
    let target: UserView = users::by_id(conn, user_id)?
        .ok_or_else(|| ApiError::new(ErrorCode::UserNotFound, format!("no user {user_id}")))?
        .try_into()?;
    if let Some(own) = p.agency_limit()?
        && (target.agency_id != Some(own) || target.role != Role::Officer)
    {
        return Err(ApiError::new(
            ErrorCode::OtherAgency,
            "agency admins manage their own agency's officers only",
        ));
    }
    if target.id == p.user_id && !active {
        return Err(ApiError::new(
            ErrorCode::CannotDeactivateSelf,
            "you cannot deactivate yourself",
        ));
    }
    db::write_tx(conn, |c| {
        users::set_active(c, target.id, active)?;
        if !active {
            tokens::revoke_user(c, target.id)?;
        }
        Ok::<_, ApiError>(())
    })?;
    let action = if active {
        "user_activated"
    } else {
        "user_deactivated"
    };
    audit::append(
        conn,
        p.actor().action(
            action,
            Some(&target.id.to_string()),
            serde_json::json!({"username": target.username}),
        ),
    );
    Ok(UserView { active, ..target })
}
