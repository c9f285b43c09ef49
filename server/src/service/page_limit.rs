//! The one rule for a list's `limit` parameter.

use crate::error::{ApiError, ErrorCode};

/// `limit` as asked, `default` when absent, lowered to `max`. Zero and negative numbers are
/// refused: they ask for nothing, and silently answering one row hid client bugs.
pub fn page_limit(asked: Option<i64>, default: u32, max: u32) -> Result<i64, ApiError> {
    match asked {
        None => Ok(i64::from(default.min(max))),
        Some(n) if n < 1 => Err(ApiError::new(
            ErrorCode::InvalidQuery,
            format!("`limit` is a whole number from 1 (at most {max} are sent); {n} asks for none"),
        )),
        Some(n) => Ok(n.min(i64::from(max))),
    }
}
