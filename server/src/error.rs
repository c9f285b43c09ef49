//! Request-level errors and their JSON: `{"error": {"code": "snake_case", "message": "..."}}`.
//!
//! Which error type where: `db::DbResult` in `db/`, [`ApiError`] in `service/` and
//! `routes/`, `anyhow` in startup and command-line code. Internal causes go to the log,
//! never to the client.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use sync_protocol::wire::ErrorBody;

use crate::db::DbError;

/// An error answered to the client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The client's request cannot be served as sent.
    #[error("{code}: {message}")]
    Request {
        /// HTTP status.
        status: StatusCode,
        /// snake_case code.
        code: &'static str,
        /// Explanation for people.
        message: String,
    },
    /// Too many failed sign-ins: wait before trying again.
    #[error("too many attempts")]
    TooManyAttempts {
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
    fn request(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Request {
            status,
            code,
            message: message.into(),
        }
    }
    /// 400.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::request(StatusCode::BAD_REQUEST, code, message)
    }
    /// 401.
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::request(StatusCode::UNAUTHORIZED, code, message)
    }
    /// 403.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::request(StatusCode::FORBIDDEN, code, message)
    }
    /// 404.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::request(StatusCode::NOT_FOUND, code, message)
    }
    /// 409.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::request(StatusCode::CONFLICT, code, message)
    }
    /// 413.
    pub fn too_large(code: &'static str, message: impl Into<String>) -> Self {
        Self::request(StatusCode::PAYLOAD_TOO_LARGE, code, message)
    }
    /// Any status.
    pub fn with_status(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self::request(status, code, message)
    }

    /// The wire code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Request { code, .. } => code,
            ApiError::TooManyAttempts { .. } => "too_many_attempts",
            ApiError::Unavailable(_) => "database_unavailable",
            ApiError::Internal(_) => "internal_error",
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
        ApiError::Internal(anyhow::anyhow!("blocking task failed: {e}"))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Request { status, .. } => *status,
            ApiError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let message = match self {
            ApiError::Request { message, .. } => message.clone(),
            ApiError::TooManyAttempts { retry_after_secs } => {
                return HttpResponse::build(self.status_code())
                    .insert_header(("Retry-After", retry_after_secs.to_string()))
                    .json(ErrorBody::new(
                        self.code(),
                        format!("too many failed sign-ins: try again in {retry_after_secs} s"),
                    ));
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
        HttpResponse::build(self.status_code()).json(ErrorBody::new(self.code(), message))
    }
}

/// Maps JSON body extraction failures to clear codes.
pub fn json_error(err: actix_web::error::JsonPayloadError) -> ApiError {
    use actix_web::error::JsonPayloadError as E;
    match err {
        E::OverflowKnownLength { length, limit } => ApiError::too_large(
            "payload_too_large",
            format!(
                "the body is {length} bytes; the limit is {limit}: send fewer operations per batch"
            ),
        ),
        E::Overflow { limit } => ApiError::too_large(
            "payload_too_large",
            format!("the body exceeds {limit} bytes: send fewer operations per batch"),
        ),
        E::ContentType => ApiError::with_status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send Content-Type: application/json",
        ),
        E::Deserialize(e) if e.is_data() => ApiError::bad_request("invalid_request", e.to_string()),
        E::Deserialize(e) => ApiError::bad_request("malformed_json", e.to_string()),
        E::Payload(e) => ApiError::bad_request("unreadable_body", e.to_string()),
        other => ApiError::bad_request("invalid_request", other.to_string()),
    }
}
