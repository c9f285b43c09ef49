//! Reading the audit log.

use crate::api::admin::{AuditEntryView, AuditQuery};
use crate::auth::Caller;
use crate::db::{AnyConnection, audit};
use crate::error::ApiError;
use crate::service::authorize;

/// The newest entries first (regency admins).
pub fn read_audit_log(
    conn: &mut AnyConnection,
    caller: &Caller,
    q: AuditQuery,
) -> Result<Vec<AuditEntryView>, ApiError> {
    authorize::regency_admin(conn, caller)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    audit::list(conn, q.before.as_deref(), q.action.as_deref(), limit)?
        .into_iter()
        .map(AuditEntryView::try_from)
        .collect()
}
