//! Which households an administrator may give numbers to or find by number: all for a
//! regency admin, those assigned to their agency's officers for an agency admin, as they
//! sync (`service::sync::scope_of`).

use sync_protocol::RecordId;

use crate::db::AnyConnection;
use crate::db::scope::Scope;
use crate::error::{ApiError, ErrorCode};
use crate::service::authorize::Principal;
use crate::service::sync::scope_of;

/// The caller's scope.
pub(super) fn scope(c: &mut AnyConnection, p: &Principal) -> Result<Scope, ApiError> {
    let agency = p.agency_id.map(|a| a.to_string());
    scope_of(c, p.role, &p.user_id.to_string(), agency.as_deref(), false)
}

/// `403 other_agency` unless `household` is in the caller's scope.
pub(super) fn require(
    c: &mut AnyConnection,
    p: &Principal,
    household: RecordId,
) -> Result<(), ApiError> {
    if scope(c, p)?.contains(&household.to_string()) {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::OtherAgency,
        format!("household {household} is not assigned to your agency's officers"),
    ))
}
