//! Listing assignments: a household's history, an officer's households.

use crate::api::assignments::{AssignmentQuery, AssignmentView};
use crate::auth::Caller;
use crate::db::{AnyConnection, assignments};
use crate::error::ApiError;
use crate::service::{authorize, page_limit};

/// Assignments, newest first: every one for a regency admin, their agency's for an agency
/// admin.
pub fn list_assignments(
    conn: &mut AnyConnection,
    caller: &Caller,
    q: AssignmentQuery,
) -> Result<Vec<AssignmentView>, ApiError> {
    let p = authorize::admin(conn, caller)?;
    let limit = page_limit(q.limit, 100, 1000)?;
    let filter = assignments::Filter {
        household: q.household_id.map(|h| h.to_string()),
        officer: q.officer_id.map(|o| o.to_string()),
        agency: p.agency_limit()?.map(|a| a.to_string()),
        active_only: q.active,
    };
    assignments::list(conn, &filter, limit)?
        .into_iter()
        .map(AssignmentView::try_from)
        .collect()
}
