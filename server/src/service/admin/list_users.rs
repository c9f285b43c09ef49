//! Listing users.

use crate::api::accounts::UserView;
use crate::auth::Caller;
use crate::db::{AnyConnection, users};
use crate::error::ApiError;
use crate::service::authorize;

/// The users the caller may see: all for a regency admin, their agency's for an agency
/// admin.
pub fn list_users(conn: &mut AnyConnection, caller: &Caller) -> Result<Vec<UserView>, ApiError> {
    let p = authorize::admin(conn, caller)?;
    users::list(conn, p.agency_limit()?)?
        .into_iter()
        .map(UserView::try_from)
        .collect()
}
