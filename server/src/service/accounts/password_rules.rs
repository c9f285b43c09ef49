//! What a password must be.

use crate::auth::password;
use crate::error::{ApiError, ErrorCode};

/// Refuses a password shorter than the minimum, not counting white space at its ends: ten
/// spaces are no password, while inner spaces of a passphrase count. The password is kept
/// as typed.
pub(super) fn check_strength(p: &str) -> Result<(), ApiError> {
    if p.trim().chars().count() < password::MIN_LENGTH {
        return Err(ApiError::new(
            ErrorCode::WeakPassword,
            format!(
                "a password has at least {} characters, not counting spaces at its start and end",
                password::MIN_LENGTH
            ),
        ));
    }
    Ok(())
}
