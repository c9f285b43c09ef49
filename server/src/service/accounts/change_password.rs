//! Changing one's own password.

use actix_web::web;

use crate::api::accounts::PasswordChange;
use crate::auth::{Caller, password};
use crate::db::users;
use crate::error::{ApiError, ErrorCode};
use crate::service::authorize::authorize_own_account;
use crate::service::{audit, with_conn};
use crate::startup::AppState;

use super::{first_admin_file, password_rules};

/// Changes the caller's own password, given the current one, which ends a due change. Both
/// hashings run on the password-check threads, with no database connection held.
pub async fn change_password(
    state: &web::Data<AppState>,
    caller: Caller,
    req: PasswordChange,
) -> Result<(), ApiError> {
    password_rules::check_strength(&req.new_password)?;
    let (principal, stored_hash) = with_conn(state, move |conn, _| {
        let principal = authorize_own_account(conn, &caller)?;
        let user = users::by_id(conn, principal.user_id)?
            .ok_or_else(|| ApiError::internal("user vanished"))?;
        Ok((principal, user.password_hash))
    })
    .await?;
    let current = req.current_password.clone();
    let new_hash = state
        .hashing
        .run(move || {
            if !password::verify(&req.current_password, &stored_hash) {
                return Ok(None);
            }
            password::hash(&req.new_password).map(Some)
        })
        .await?
        .map_err(ApiError::Internal)?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::WrongCurrentPassword,
                "the current password is wrong",
            )
        })?;
    with_conn(state, move |conn, st| {
        users::set_password(conn, principal.user_id, &new_hash, false)?;
        audit::append(
            conn,
            principal.actor().action(
                "password_changed",
                Some(&principal.user_id.to_string()),
                serde_json::json!({}),
            ),
        );
        first_admin_file::forget(&first_admin_file::path(&st.data_dir), &current);
        Ok(())
    })
    .await
}
