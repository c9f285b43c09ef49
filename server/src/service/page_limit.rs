//! The one rule for a list's `limit` parameter.

use crate::error::{ApiError, ErrorCode};

/// `limit` as asked, `default` when absent. Zero and negative numbers are refused: they ask
/// for nothing, and silently answering one row hid client bugs. More than `max` is refused
/// too: a client that silently got fewer rows than it asked for would take a short page
/// for the last one.
pub fn page_limit(asked: Option<i64>, default: u32, max: u32) -> Result<i64, ApiError> {
    match asked {
        None => Ok(i64::from(default.min(max))),
        Some(n) if n < 1 => Err(ApiError::new(
            ErrorCode::InvalidQuery,
            format!("`limit` is a whole number from 1 to {max}; {n} asks for none"),
        )),
        Some(n) if n > i64::from(max) => Err(ApiError::new(
            ErrorCode::InvalidQuery,
            format!("`limit` is a whole number from 1 to {max}; {n} is over the largest page"),
        )),
        Some(n) => Ok(n),
    }
}

/// The pull's `limit`: the sync protocol promises that a larger one gets the server's page
/// size (sync-protocol.md 7.5), and a pull page says itself whether more follow, so it is
/// lowered rather than refused.
pub fn pull_limit(asked: Option<i64>, page_size: u32) -> Result<i64, ApiError> {
    page_limit(
        asked.map(|n| n.min(i64::from(page_size))),
        page_size,
        page_size,
    )
}
