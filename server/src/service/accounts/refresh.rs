//! Refresh: a single-use credential exchanged for new tokens, with replay detection and a
//! grace period for answers lost on the way back.

use sync_protocol::DeviceId;

use crate::api::accounts::{RefreshRequest, TokenResponse, UserView};
use crate::auth::{Caller, Keys, refresh as credential};
use crate::config::AuthPolicy;
use crate::db::tokens::{self, RefreshRow};
use crate::db::{self, AnyConnection, now_ms, users};
use crate::error::{ApiError, ErrorCode};
use crate::ids::UserId;
use crate::service::audit::{self, Entry};
use crate::service::authorize::authorize_own_account;

use super::session_tokens;

/// How long after a credential was used it may be presented again without counting as a
/// copy: on a village connection the answer to a refresh is often lost, and the app retries
/// with the credential it still holds.
const REUSE_GRACE_MS: i64 = 2 * 60 * 1000;

/// Exchanges a refresh credential for new tokens. Each credential works once: presenting a
/// used one again means it was copied, so every credential of the device is revoked and the
/// device must sign in again.
pub fn refresh(
    conn: &mut AnyConnection,
    keys: &Keys,
    policy: &AuthPolicy,
    req: RefreshRequest,
    addr: Option<String>,
) -> Result<TokenResponse, ApiError> {
    let invalid = || {
        ApiError::new(
            ErrorCode::InvalidRefreshToken,
            "the refresh credential is not valid",
        )
    };
    let (id, hash) = credential::parse(req.refresh_token.trim()).ok_or_else(invalid)?;
    let row = tokens::find(conn, id)?.ok_or_else(invalid)?;
    if row.secret_hash != hash {
        return Err(invalid());
    }
    if row.revoked_at.is_some() {
        return Err(ApiError::new(
            ErrorCode::RefreshTokenRevoked,
            "this refresh credential was revoked: sign in again",
        ));
    }
    let reused = || {
        ApiError::new(
            ErrorCode::RefreshTokenReused,
            "this refresh credential was already used; every credential of the device is now \
             revoked: sign in again",
        )
    };
    let caller = Caller::new(stored_user(&row)?, stored_device(&row)?, addr.clone());
    if let Some(used_at) = row.used_at {
        if now_ms() - used_at <= REUSE_GRACE_MS
            && let Some(credential) = reissue_after_lost_answer(conn, &row, policy)?
        {
            authorize_own_account(conn, &caller)?;
            return answer(conn, keys, policy, &caller, credential);
        }
        revoke_chain(conn, &row, addr)?;
        return Err(reused());
    }
    if row.expires_at <= now_ms() {
        return Err(ApiError::new(
            ErrorCode::RefreshTokenExpired,
            "the refresh credential has expired: sign in again",
        ));
    }
    authorize_own_account(conn, &caller)?;
    let rotated = db::write_tx(conn, |c| {
        if !tokens::mark_used(c, &row.id)? {
            return Ok(None);
        }
        session_tokens::store_refresh(c, &row.family_id, caller.device, caller.user_id, policy)
            .map(Some)
    })?;
    let credential = match rotated {
        Some(c) => c,
        // Another refresh with this credential won the race: the app's own retry, unless
        // what that refresh issued has been used already.
        None => match reissue_after_lost_answer(conn, &row, policy)? {
            Some(c) => c,
            None => {
                revoke_chain(conn, &row, addr)?;
                return Err(reused());
            }
        },
    };
    answer(conn, keys, policy, &caller, credential)
}

fn answer(
    conn: &mut AnyConnection,
    keys: &Keys,
    policy: &AuthPolicy,
    caller: &Caller,
    credential: String,
) -> Result<TokenResponse, ApiError> {
    let row =
        users::by_id(conn, caller.user_id)?.ok_or_else(|| ApiError::internal("user vanished"))?;
    let must_change_password = row.must_change_password;
    let user = UserView::try_from(row)?;
    session_tokens::token_response(
        keys,
        policy,
        caller.device,
        credential,
        user,
        must_change_password,
    )
}

/// Within the grace period, and only if nothing issued since was used (the device never got
/// its answer), replaces the unused successor with a new credential.
fn reissue_after_lost_answer(
    conn: &mut AnyConnection,
    row: &RefreshRow,
    policy: &AuthPolicy,
) -> Result<Option<String>, ApiError> {
    let device = stored_device(row)?;
    let user = stored_user(row)?;
    db::write_tx(conn, |c| {
        let later: Vec<RefreshRow> = tokens::successors(c, &row.family_id, row.issued_at)?
            .into_iter()
            .filter(|t| t.id != row.id)
            .collect();
        if later
            .iter()
            .any(|t| t.used_at.is_some() || t.revoked_at.is_some())
        {
            return Ok(None);
        }
        for t in &later {
            tokens::revoke(c, &t.id)?;
        }
        session_tokens::store_refresh(c, &row.family_id, device, user, policy).map(Some)
    })
}

fn stored_device(row: &RefreshRow) -> Result<DeviceId, ApiError> {
    row.device_id
        .parse()
        .map_err(|_| ApiError::internal(format!("stored device id {}", row.device_id)))
}

fn stored_user(row: &RefreshRow) -> Result<UserId, ApiError> {
    row.user_id
        .parse()
        .map_err(|_| ApiError::internal(format!("stored user id {}", row.user_id)))
}

fn revoke_chain(
    conn: &mut AnyConnection,
    row: &RefreshRow,
    addr: Option<String>,
) -> Result<(), ApiError> {
    let n = tokens::revoke_device(conn, stored_device(row)?)?;
    tracing::warn!(device = %row.device_id, "refresh credential replayed: device's credentials revoked");
    audit::append(
        conn,
        Entry {
            actor_user_id: Some(stored_user(row)?),
            actor_username: None,
            remote_addr: addr,
            success: false,
            ..Entry::system(
                "refresh_token_reused",
                Some(&row.device_id),
                serde_json::json!({"revoked_credentials": n}),
            )
        },
    );
    Ok(())
}
