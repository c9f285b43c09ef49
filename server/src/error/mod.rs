//! Request-level errors and their JSON: `{"error": {"code": "snake_case", "message": "..."}}`.
//!
//! Which error type where: `db::DbResult` in `db/`, [`ApiError`] in `service/` and
//! `routes/`, `anyhow` in startup and command-line code. Every code a client can receive is
//! an [`ErrorCode`]; internal causes go to the log, never to the client.

mod code;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use sync_protocol::DeviceId;
use sync_protocol::wire::ErrorBody;

pub use code::ErrorCode;

use crate::db::DbError;

/// An error answered to the client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The client's request cannot be served as sent.
    #[error("{code}: {message}")]
    Request {
        /// What went wrong, for programs; it decides the status.
        code: ErrorCode,
        /// Explanation for people.
        message: String,
    },
    /// Not now: the client waits `retry_after_secs` (sent as `Retry-After`) and tries again.
    #[error("{code}: {message}")]
    RetryLater {
        /// Why (`too_many_attempts`, `too_many_requests`, `sign_in_busy`).
        code: ErrorCode,
        /// Explanation for people.
        message: String,
        /// Seconds to wait.
        retry_after_secs: i64,
    },
    /// The database could not be reached or was busy: retry later.
    #[error("database unavailable")]
    Unavailable(#[source] DbError),
    /// A bug or corrupt data; details are in the log only.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// An error with `code` (and so its status) and a message for people.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError::Request {
            code,
            message: message.into(),
        }
    }

    /// A bug or corrupt data, explained in the log only.
    pub fn internal(message: impl std::fmt::Display) -> Self {
        ApiError::Internal(anyhow::anyhow!("{message}"))
    }

    /// The account is deactivated.
    pub fn user_deactivated() -> Self {
        Self::new(
            ErrorCode::UserDeactivated,
            "this account has been deactivated",
        )
    }

    /// The device is revoked.
    pub fn device_revoked(device: DeviceId) -> Self {
        Self::new(
            ErrorCode::DeviceRevoked,
            format!("device {device} has been revoked; nothing it sends is accepted"),
        )
    }

    /// The device belongs to someone else.
    pub fn device_registered_to_another_user(device: DeviceId) -> Self {
        Self::new(
            ErrorCode::DeviceRegisteredToAnotherUser,
            format!("device {device} is registered to another user"),
        )
    }

    /// The device never signed in.
    pub fn device_not_registered() -> Self {
        Self::new(
            ErrorCode::DeviceNotRegistered,
            "this device is not registered: sign in on it first",
        )
    }

    /// Too many failed sign-ins for this user name, address, or the whole server.
    pub fn too_many_attempts(retry_after_secs: i64) -> Self {
        ApiError::RetryLater {
            code: ErrorCode::TooManyAttempts,
            message: format!("too many failed sign-ins: try again in {retry_after_secs} s"),
            retry_after_secs,
        }
    }

    /// The caller's password is one-time and must be changed first.
    pub fn password_change_required() -> Self {
        Self::new(
            ErrorCode::PasswordChangeRequired,
            "change your one-time password first (POST /v1/auth/password)",
        )
    }

    /// The caller's role does not allow the action.
    pub fn forbidden_role() -> Self {
        Self::new(ErrorCode::ForbiddenRole, "your role does not allow this")
    }

    /// The wire code.
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::Request { code, .. } => *code,
            ApiError::RetryLater { code, .. } => *code,
            ApiError::Unavailable(_) => ErrorCode::DatabaseUnavailable,
            ApiError::Internal(_) => ErrorCode::InternalError,
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        if e.is_transient() {
            ApiError::Unavailable(e)
        } else {
            ApiError::Internal(e.into())
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::internal(format!("blocking task failed: {e}"))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code().status()
    }

    fn error_response(&self) -> HttpResponse {
        let message = match self {
            ApiError::Request { message, .. } => message.clone(),
            ApiError::RetryLater {
                message,
                retry_after_secs,
                ..
            } => {
                return HttpResponse::build(self.status_code())
                    .insert_header(("Retry-After", retry_after_secs.to_string()))
                    .json(ErrorBody::new(self.code().as_str(), message.clone()));
            }
            ApiError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                "the database is unavailable or busy; nothing was changed, retry later".into()
            }
            ApiError::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                "internal error; nothing was changed, retry later".into()
            }
        };
        HttpResponse::build(self.status_code()).json(ErrorBody::new(self.code().as_str(), message))
    }
}
