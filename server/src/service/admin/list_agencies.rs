//! Listing agencies.

use crate::api::admin::AgencyView;
use crate::auth::Caller;
use crate::db::{AnyConnection, agencies};
use crate::error::ApiError;
use crate::service::authorize;

/// All agencies for a regency admin, their own for an agency admin.
pub fn list_agencies(
    conn: &mut AnyConnection,
    caller: &Caller,
) -> Result<Vec<AgencyView>, ApiError> {
    let p = authorize::admin(conn, caller)?;
    agencies::list(conn, p.agency_limit()?)?
        .into_iter()
        .map(AgencyView::try_from)
        .collect()
}
