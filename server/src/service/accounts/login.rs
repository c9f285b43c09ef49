//! Sign-in: password check under the throttle, device registration, tokens.

use uuid::Uuid;

use crate::api::accounts::{LoginRequest, TokenResponse, UserView};
use crate::auth::{Keys, password};
use crate::config::AuthPolicy;
use crate::db::{self, AnyConnection, devices, now_ms, users};
use crate::error::{ApiError, ErrorCode};
use crate::service::audit::{self, Entry};

use super::login_throttle::ThrottleKeys;
use super::session_tokens;

/// Signs in: checks the password (throttled per user name and per address), registers the
/// device to the user, and issues an access token and a refresh credential bound to it.
pub fn login(
    conn: &mut AnyConnection,
    keys: &Keys,
    policy: &AuthPolicy,
    req: LoginRequest,
    addr: Option<String>,
) -> Result<TokenResponse, ApiError> {
    let username = req.username.trim().to_lowercase();
    let throttle = ThrottleKeys::new(&username, addr.as_deref());
    let now = now_ms();
    if let Some(retry_after_secs) = throttle.locked_for_secs(conn, now)? {
        audit::append(
            conn,
            Entry::failed_login(&username, addr.clone(), "throttled"),
        );
        return Err(ApiError::TooManyAttempts { retry_after_secs });
    }
    // Verify outside any transaction: hashing is slow and must not hold the write lock.
    let user = users::by_username(conn, &username)?;
    let ok = match &user {
        Some(u) => password::verify(&req.password, &u.password_hash),
        None => {
            password::verify_dummy(&req.password);
            false
        }
    };
    let user = match (user, ok) {
        (Some(u), true) => u,
        _ => {
            db::write_tx(conn, |c| throttle.count_failure(c, now))?;
            audit::append(
                conn,
                Entry::failed_login(&username, addr, "wrong user name or password"),
            );
            return Err(ApiError::new(
                ErrorCode::InvalidCredentials,
                "wrong user name or password",
            ));
        }
    };
    if !user.active {
        audit::append(conn, Entry::failed_login(&username, addr, "deactivated"));
        return Err(ApiError::user_deactivated());
    }
    let view = UserView::try_from(user)?;
    let issued = db::write_tx(conn, |c| {
        throttle.clear_user(c)?;
        let known = devices::find(c, req.device_id)?.is_some();
        let registered = devices::register(c, req.device_id, view.id)?;
        if registered.user_id != view.id.to_string() {
            return Err(ApiError::device_registered_to_another_user(req.device_id));
        }
        if registered.revoked {
            return Err(ApiError::device_revoked(req.device_id));
        }
        let family = Uuid::now_v7().to_string();
        let refresh = session_tokens::store_refresh(c, &family, req.device_id, view.id, policy)?;
        Ok((known, refresh))
    });
    let (known, refresh_credential) = match issued {
        Ok(v) => v,
        Err(e) => {
            audit::append(
                conn,
                Entry::failed_login(&username, addr, e.code().as_str()),
            );
            return Err(e);
        }
    };
    let who = Entry::by(view.id, &view.username, addr);
    let device = req.device_id.to_string();
    if !known {
        audit::append(
            conn,
            who.clone()
                .action("device_registered", Some(&device), serde_json::json!({})),
        );
    }
    audit::append(
        conn,
        who.action("login_succeeded", Some(&device), serde_json::json!({})),
    );
    session_tokens::token_response(keys, policy, req.device_id, refresh_credential, view)
}
