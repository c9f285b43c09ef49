//! Assigning a household to an officer, and what that changes for the devices.

use chrono::Utc;
use uuid::Uuid;

use crate::api::assignments::{AssignmentView, NewAssignment};
use crate::auth::{Caller, Role};
use crate::db::assignments::{self as rows, AssignmentRow};
use crate::db::users::{self, UserRow};
use crate::db::{self, AnyConnection, records, removals};
use crate::error::{ApiError, ErrorCode};
use crate::service::authorize::{self, Principal};
use crate::service::{audit, names};

/// Makes `req.officer_id` the household's officer from now, ending the current assignment
/// (`reassigned`). In the same transaction the household's records are stamped as changed,
/// so the new officer's devices pull it with its whole history, and the old officer's
/// devices get a removal for each of them. Assigning a household to its current officer
/// changes nothing and answers the current assignment.
pub fn assign_household(
    conn: &mut AnyConnection,
    caller: &Caller,
    req: NewAssignment,
) -> Result<AssignmentView, ApiError> {
    let p = authorize::admin(conn, caller)?;
    let reason = checked_reason(&req.reason)?;
    let officer = users::by_id(conn, req.officer_id)?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::UserNotFound,
            format!("no user {}", req.officer_id),
        )
    })?;
    if officer.role != Role::Officer.as_str() {
        return Err(ApiError::new(
            ErrorCode::NotAnOfficer,
            format!(
                "{} is not an officer: households are assigned to officers",
                officer.username
            ),
        ));
    }
    within_agency(&p, officer.agency_id.as_deref())?;
    let household = req.household_id.to_string();
    let (view, previous) = db::write_tx(conn, |c| {
        if !records::household_exists(c, req.household_id)? {
            return Err(ApiError::new(
                ErrorCode::HouseholdNotFound,
                format!("no household {household}"),
            ));
        }
        let current = rows::active_for_household(c, &household)?;
        if let Some(cur) = &current {
            if cur.officer_id == officer.id {
                return Ok((AssignmentView::try_from(cur.clone())?, None));
            }
            within_agency(&p, cur.agency_id.as_deref())?;
        }
        let by = p.user_id.to_string();
        let made = hand_over(c, &household, current.as_ref(), &officer, reason, Some(&by))?;
        Ok((AssignmentView::try_from(made)?, current))
    })?;
    if view.active && previous.as_ref().is_none_or(|prev| prev.id != view.id) {
        audit::append(
            conn,
            p.actor().action(
                "household_assigned",
                Some(&household),
                serde_json::json!({
                    "assignment": view.id,
                    "officer": officer.id,
                    "previous_officer": previous.map(|prev| prev.officer_id),
                    "reason": view.reason,
                }),
            ),
        );
    }
    Ok(view)
}

/// Makes `officer` the household's officer from now: ends `current` (`reassigned`), removes
/// the household from the devices that lose it, inserts the new assignment and stamps the
/// household's records as changed so the new officer's devices pull its whole history.
/// Within the caller's write transaction, after `current` was read through its lock. `by`
/// is `None` from the command line.
pub(crate) fn hand_over(
    c: &mut AnyConnection,
    household: &str,
    current: Option<&AssignmentRow>,
    officer: &UserRow,
    reason: &str,
    by: Option<&str>,
) -> Result<AssignmentRow, ApiError> {
    let now = Utc::now().timestamp_millis();
    if let Some(cur) = current {
        rows::end(c, &cur.id, now, "reassigned", by)?;
        remove_from_devices(c, cur, officer.agency_id.as_deref())?;
    }
    let id = Uuid::now_v7().to_string();
    rows::insert(
        c,
        &rows::NewAssignment {
            id: &id,
            household_id: household,
            officer_id: &officer.id,
            agency_id: officer.agency_id.as_deref(),
            starts_at: now,
            reason,
            assigned_by: by,
        },
    )?;
    records::restamp_household(c, household)?;
    rows::by_id(c, &id)?.ok_or_else(|| ApiError::internal(format!("assignment {id} vanished")))
}

/// The records of `old`'s household become removals for the users who lose it: its officer,
/// and its agency's admins when the household leaves that agency (`next_agency` is where it
/// goes, `None` when nowhere).
pub(super) fn remove_from_devices(
    c: &mut AnyConnection,
    old: &AssignmentRow,
    next_agency: Option<&str>,
) -> Result<(), ApiError> {
    let mut losing = vec![old.officer_id.clone()];
    if let Some(agency) = old.agency_id.as_deref()
        && next_agency != Some(agency)
    {
        losing.extend(users::agency_admins_of(c, agency)?);
    }
    let held = records::of_household(c, &old.household_id)?;
    removals::insert_for(c, &losing, &held)?;
    Ok(())
}

/// An agency admin acts within their own agency only.
pub(super) fn within_agency(p: &Principal, agency: Option<&str>) -> Result<(), ApiError> {
    match p.agency_limit()? {
        Some(own) if agency != Some(own.to_string().as_str()) => Err(ApiError::new(
            ErrorCode::OtherAgency,
            "agency admins assign their own agency's officers and households only",
        )),
        _ => Ok(()),
    }
}

/// A reason as stored: 1 to 200 characters that read as they are.
pub(super) fn checked_reason(raw: &str) -> Result<&str, ApiError> {
    reason_rule(raw).map_err(|why| ApiError::new(ErrorCode::InvalidReason, why))
}

/// [`checked_reason`]'s rule, with why not for a message.
pub(super) fn reason_rule(raw: &str) -> Result<&str, String> {
    names::visible_name(raw, 200).map_err(|why| format!("the reason {why}"))
}
