//! The caller's own account.

use crate::api::accounts::UserView;
use crate::auth::Caller;
use crate::db::{AnyConnection, users};
use crate::error::ApiError;
use crate::service::authorize::authorize_own_account;

/// The caller's own account.
pub fn me(conn: &mut AnyConnection, caller: &Caller) -> Result<UserView, ApiError> {
    let principal = authorize_own_account(conn, caller)?;
    users::by_id(conn, principal.user_id)?
        .ok_or_else(|| ApiError::internal("user vanished"))?
        .try_into()
}
