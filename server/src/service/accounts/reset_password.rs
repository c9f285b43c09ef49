//! A new one-time password for a user who lost theirs: the way back in for an operator with
//! access to the database (the command line's `user reset-password`).

use crate::api::accounts::UserView;
use crate::auth::password;
use crate::db::{self, AnyConnection, tokens, users};
use crate::error::{ApiError, ErrorCode};
use crate::service::audit::{self, Entry};

use super::password_rules;

/// A reset, as committed.
pub struct Reset {
    /// Whose password it is.
    pub user: UserView,
    /// Refresh credentials revoked.
    pub revoked_credentials: usize,
}

/// Gives `username` the password `new_password`, which must be changed at the next
/// sign-in, and revokes every refresh credential of theirs: whoever held the old password
/// keeps no session beyond their current access tokens, which the due change confines to
/// the account's own endpoints. `show` runs before the commit (to hand the password to the
/// operator): when it fails, nothing changes.
pub fn reset_password(
    conn: &mut AnyConnection,
    username: &str,
    new_password: &str,
    show: impl FnOnce(&Reset) -> Result<(), ApiError>,
) -> Result<Reset, ApiError> {
    password_rules::check_strength(new_password)?;
    let name = username.trim().to_lowercase();
    let user: UserView = users::by_username(conn, &name)?
        .ok_or_else(|| ApiError::new(ErrorCode::UserNotFound, format!("no user `{name}`")))?
        .try_into()?;
    let hash = password::hash(new_password).map_err(ApiError::Internal)?;
    let reset = db::write_tx(conn, |c| {
        users::set_password(c, user.id, &hash, true)?;
        let reset = Reset {
            revoked_credentials: tokens::revoke_user(c, user.id)?,
            user,
        };
        show(&reset)?;
        Ok::<_, ApiError>(reset)
    })?;
    audit::append(
        conn,
        Entry::system(
            "password_reset",
            Some(&reset.user.id.to_string()),
            serde_json::json!({
                "username": reset.user.username,
                "revoked_credentials": reset.revoked_credentials,
                "via": "command line",
            }),
        ),
    );
    Ok(reset)
}
