//! Reading the audit log.

use crate::api::admin::{AuditEntryView, AuditQuery};
use crate::auth::Caller;
use crate::db::{AnyConnection, audit};
use crate::error::{ApiError, ErrorCode};
use crate::service::authorize;
use crate::service::page_limit;

/// The newest entries first (regency admins).
pub fn read_audit_log(
    conn: &mut AnyConnection,
    caller: &Caller,
    q: AuditQuery,
) -> Result<Vec<AuditEntryView>, ApiError> {
    authorize::regency_admin(conn, caller)?;
    let limit = page_limit(q.limit, 100, 1000)?;
    // Entry ids are UUIDs: text that is not one would compare as a string and page nowhere.
    let before = q
        .before
        .as_deref()
        .map(|b| {
            b.parse::<uuid::Uuid>()
                .map(|u| u.hyphenated().to_string())
                .map_err(|_| {
                    ApiError::new(
                        ErrorCode::InvalidQuery,
                        "`before` is the `id` of an audit entry (a UUID) from an earlier page",
                    )
                })
        })
        .transpose()?;
    audit::list(conn, before.as_deref(), q.action.as_deref(), limit)?
        .into_iter()
        .map(AuditEntryView::try_from)
        .collect()
}
