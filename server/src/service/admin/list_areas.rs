//! Listing areas.

use crate::api::areas::{AreaQuery, AreaView};
use crate::auth::Caller;
use crate::db::{AnyConnection, areas};
use crate::error::ApiError;
use crate::service::authorize;

/// The areas, by code, of one level or under one parent when asked (any admin: every
/// agency works across the whole regency).
pub fn list_areas(
    conn: &mut AnyConnection,
    caller: &Caller,
    q: AreaQuery,
) -> Result<Vec<AreaView>, ApiError> {
    authorize::admin(conn, caller)?;
    areas::list(conn, q.level.map(|l| l.as_str()), q.parent.as_deref())?
        .into_iter()
        .map(AreaView::try_from)
        .collect()
}
