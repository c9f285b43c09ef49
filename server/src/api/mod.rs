//! API types: the JSON that clients send and receive, kept apart from database rows (which
//! never reach a client). Views are built from rows; a row that cannot be read back as a
//! view is corrupt data, answered `internal_error`.
//!
//! The sync endpoints' types are the protocol's own, in `sync_protocol::wire`, except the
//! pull page the server writes ([`sync::PullPage`]).

pub mod accounts;
pub mod admin;
pub mod admin_reports;
pub mod areas;
pub mod assignments;
pub mod conflicts;
pub mod health;
pub mod identity;
pub mod imports;
pub mod lists;
pub mod records;
pub mod reports;
pub mod reviews;
pub mod sync;
pub mod text;

use std::str::FromStr;

use crate::error::ApiError;

/// Reads a stored value back into its type.
pub(crate) fn stored<T: FromStr>(what: &str, value: &str) -> Result<T, ApiError> {
    value
        .parse()
        .map_err(|_| ApiError::internal(format!("stored {what} `{value}` cannot be read")))
}
