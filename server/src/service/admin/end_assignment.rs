//! Ending an assignment without a successor: the household has no officer until the next.

use chrono::Utc;

use crate::api::assignments::{AssignmentView, EndAssignment};
use crate::auth::Caller;
use crate::db::{self, AnyConnection, assignments as rows};
use crate::error::{ApiError, ErrorCode};
use crate::service::{audit, authorize};

use super::assign_household::{checked_reason, remove_from_devices, within_agency};

/// Ends assignment `id`. The officer's devices (and the agency admins') get a removal for
/// each of the household's records. Ending an ended assignment answers it as it is.
pub fn end_assignment(
    conn: &mut AnyConnection,
    caller: &Caller,
    id: &str,
    req: EndAssignment,
) -> Result<AssignmentView, ApiError> {
    let p = authorize::admin(conn, caller)?;
    let reason = checked_reason(&req.reason)?;
    let not_found = || ApiError::new(ErrorCode::AssignmentNotFound, format!("no assignment {id}"));
    let (view, ended) = db::write_tx(conn, |c| {
        let found = rows::by_id(c, id)?.ok_or_else(not_found)?;
        within_agency(&p, found.agency_id.as_deref()).map_err(|_| not_found())?;
        // Through the household's lock, so that a reassignment racing this one waits.
        let active = rows::active_for_household(c, &found.household_id)?;
        let ended = match active {
            Some(a) if a.id == found.id => {
                rows::end(
                    c,
                    &a.id,
                    Utc::now().timestamp_millis(),
                    reason,
                    Some(&p.user_id.to_string()),
                )?;
                remove_from_devices(c, &a, None)?;
                true
            }
            _ => false,
        };
        let now = rows::by_id(c, id)?.ok_or_else(not_found)?;
        Ok::<_, ApiError>((AssignmentView::try_from(now)?, ended))
    })?;
    if ended {
        audit::append(
            conn,
            p.actor().action(
                "assignment_ended",
                Some(&view.household_id.to_string()),
                serde_json::json!({"assignment": view.id, "officer": view.officer_id, "reason": reason}),
            ),
        );
    }
    Ok(view)
}
