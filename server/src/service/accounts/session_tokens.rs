//! Issuing a device's tokens: a short-lived access token and a single-use refresh
//! credential of a sign-in's chain (family).

use sync_protocol::DeviceId;

use crate::api::accounts::{TokenResponse, UserView};
use crate::auth::{Keys, refresh};
use crate::config::AuthPolicy;
use crate::db::tokens::{self, RefreshRow};
use crate::db::{AnyConnection, now_ms};
use crate::error::ApiError;
use crate::ids::UserId;

/// Stores a new refresh credential in `family` and returns the credential to hand out.
pub(super) fn store_refresh(
    c: &mut AnyConnection,
    family: &str,
    device: DeviceId,
    user_id: UserId,
    policy: &AuthPolicy,
) -> Result<String, ApiError> {
    let issued = refresh::issue().map_err(ApiError::Internal)?;
    let now = now_ms();
    tokens::insert(
        c,
        &RefreshRow {
            id: issued.id,
            family_id: family.to_owned(),
            device_id: device.to_string(),
            user_id: user_id.to_string(),
            secret_hash: issued.secret_hash,
            issued_at: now,
            expires_at: now + policy.refresh_ttl_secs * 1000,
            used_at: None,
            revoked_at: None,
        },
    )?;
    Ok(issued.credential)
}

/// The answer to a sign-in or refresh: a new access token beside `refresh_token`.
pub(super) fn token_response(
    keys: &Keys,
    policy: &AuthPolicy,
    device: DeviceId,
    refresh_token: String,
    user: UserView,
    must_change_password: bool,
) -> Result<TokenResponse, ApiError> {
    Ok(TokenResponse {
        access_token: keys
            .mint(&user.id.to_string(), device, policy.access_ttl_secs)
            .map_err(ApiError::Internal)?,
        token_type: "Bearer".into(),
        expires_in: policy.access_ttl_secs,
        refresh_token,
        refresh_expires_in: policy.refresh_ttl_secs,
        device_id: device,
        must_change_password,
        user,
    })
}
