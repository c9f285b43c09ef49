//! What a password must be.

use crate::auth::password;
use crate::error::{ApiError, ErrorCode};

/// Refuses a password shorter than the minimum.
pub(super) fn check_strength(p: &str) -> Result<(), ApiError> {
    if p.chars().count() < password::MIN_LENGTH {
        return Err(ApiError::new(
            ErrorCode::WeakPassword,
            format!(
                "a password has at least {} characters",
                password::MIN_LENGTH
            ),
        ));
    }
    Ok(())
}
