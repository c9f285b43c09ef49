//! The page size and keyset cursor rules shared by the history and the conflict inbox.

use crate::error::{ApiError, ErrorCode};

/// Items per page when the query names no limit.
pub(super) const DEFAULT_LIMIT: i64 = 50;
/// The most items a page may ask for.
pub(super) const MAX_LIMIT: i64 = 500;

/// The page size asked for, refused when outside 1 to [`MAX_LIMIT`].
pub(super) fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::new(
            ErrorCode::InvalidQuery,
            format!("`limit`: {n} is outside 1 to {MAX_LIMIT}"),
        )),
    }
}

pub(super) fn bad_cursor(cursor: &str) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidCursor,
        format!("`cursor`: `{cursor}` is not a cursor this list issued"),
    )
}
