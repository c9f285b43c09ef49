//! Listing the writes held as outside their writer's scope.

use crate::api::assignments::{HeldWriteQuery, HeldWriteView};
use crate::auth::Caller;
use crate::db::{AnyConnection, held_writes};
use crate::error::ApiError;
use crate::service::{authorize, page_limit};

/// Held writes, newest first: every one for a regency admin, those of their agency's
/// officers for an agency admin.
pub fn list_held_writes(
    conn: &mut AnyConnection,
    caller: &Caller,
    q: HeldWriteQuery,
) -> Result<Vec<HeldWriteView>, ApiError> {
    let p = authorize::admin(conn, caller)?;
    let limit = page_limit(q.limit, 100, 1000)?;
    let agency = p.agency_limit()?.map(|a| a.to_string());
    held_writes::list(conn, agency.as_deref(), limit)?
        .into_iter()
        .map(HeldWriteView::try_from)
        .collect()
}
