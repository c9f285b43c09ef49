//! Listing devices.

use crate::api::admin::DeviceView;
use crate::auth::Caller;
use crate::db::{AnyConnection, devices};
use crate::error::ApiError;
use crate::service::authorize;

/// The devices the caller may see: all for a regency admin, those of their agency's users
/// for an agency admin.
pub fn list_devices(
    conn: &mut AnyConnection,
    caller: &Caller,
) -> Result<Vec<DeviceView>, ApiError> {
    let p = authorize::admin(conn, caller)?;
    devices::with_owners(conn, p.agency_limit()?, None)?
        .into_iter()
        .map(DeviceView::try_from)
        .collect()
}
