//! Sign-in, tokens and the caller's own account.

use serde::{Deserialize, Serialize};
use sync_protocol::DeviceId;

use super::stored;
use crate::auth::Role;
use crate::db::users::UserRow;
use crate::error::ApiError;
use crate::ids::{AgencyId, UserId};

/// A user as the API shows it (never the password hash).
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UserView {
    /// Id.
    pub id: UserId,
    /// Sign-in name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Agency.
    pub agency_id: Option<AgencyId>,
    /// Active or deactivated.
    pub active: bool,
}

impl TryFrom<UserRow> for UserView {
    type Error = ApiError;
    fn try_from(u: UserRow) -> Result<Self, ApiError> {
        Ok(UserView {
            id: stored("user id", &u.id)?,
            role: stored("role", &u.role)?,
            agency_id: u
                .agency_id
                .as_deref()
                .map(|a| stored("agency id", a))
                .transpose()?,
            username: u.username,
            display_name: u.display_name,
            active: u.active,
        })
    }
}

/// A new account.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    /// Sign-in name: 3-64 of a-z, 0-9, `.`, `_`, `-` (stored lowercase).
    #[serde(deserialize_with = "super::text::plain")]
    pub username: String,
    /// Name shown to people.
    #[serde(deserialize_with = "super::text::plain")]
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Agency: required for officers and agency admins.
    #[serde(default)]
    pub agency_id: Option<AgencyId>,
    /// Initial password, at least 10 characters.
    #[serde(deserialize_with = "super::text::plain")]
    pub password: String,
}

/// A sign-in.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Sign-in name.
    #[serde(deserialize_with = "super::text::plain")]
    pub username: String,
    /// Password.
    #[serde(deserialize_with = "super::text::plain")]
    pub password: String,
    /// The installation id of the device signing in.
    pub device_id: DeviceId,
}

/// A refresh.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh credential from the last sign-in or refresh.
    #[serde(deserialize_with = "super::text::plain")]
    pub refresh_token: String,
}

/// Tokens for a device.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenResponse {
    /// Bearer token for API requests.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Exchange it at `/v1/auth/refresh` for new tokens; bound to this device; single use.
    pub refresh_token: String,
    /// Seconds until the refresh credential expires.
    pub refresh_expires_in: i64,
    /// The device the tokens are bound to.
    pub device_id: DeviceId,
    /// The password is one-time: until it is changed, every endpoint but the password
    /// change, `/v1/me` and refresh answers `403 password_change_required`.
    pub must_change_password: bool,
    /// Who signed in.
    pub user: UserView,
}

/// A password change.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The current password.
    #[serde(deserialize_with = "super::text::plain")]
    pub current_password: String,
    /// The new one, at least 10 characters.
    #[serde(deserialize_with = "super::text::plain")]
    pub new_password: String,
}
