//! Changing one's own password.

use crate::api::accounts::PasswordChange;
use crate::auth::{Caller, password};
use crate::db::{AnyConnection, users};
use crate::error::{ApiError, ErrorCode};
use crate::service::audit;
use crate::service::authorize::authorize;

use super::password_rules;

/// Changes the caller's own password, given the current one.
pub fn change_password(
    conn: &mut AnyConnection,
    caller: &Caller,
    req: PasswordChange,
) -> Result<(), ApiError> {
    let principal = authorize(conn, caller)?;
    password_rules::check_strength(&req.new_password)?;
    let user = users::by_id(conn, principal.user_id)?
        .ok_or_else(|| ApiError::internal("user vanished"))?;
    if !password::verify(&req.current_password, &user.password_hash) {
        return Err(ApiError::new(
            ErrorCode::WrongCurrentPassword,
            "the current password is wrong",
        ));
    }
    let hash = password::hash(&req.new_password).map_err(ApiError::Internal)?;
    users::set_password(conn, principal.user_id, &hash)?;
    audit::append(
        conn,
        principal.actor().action(
            "password_changed",
            Some(&principal.user_id.to_string()),
            serde_json::json!({}),
        ),
    );
    Ok(())
}
