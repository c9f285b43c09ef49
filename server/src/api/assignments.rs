//! Assignments: which officer fosters which household.

use serde::{Deserialize, Serialize};

use crate::db::assignments::AssignmentRow;
use crate::error::ApiError;
use crate::ids::{AgencyId, UserId};
use sync_protocol::RecordId;

use super::stored;

/// An assignment as administrators see it.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AssignmentView {
    /// Id.
    pub id: String,
    /// The household (its record id).
    pub household_id: RecordId,
    /// The officer.
    pub officer_id: UserId,
    /// The officer's agency when assigned.
    pub agency_id: Option<AgencyId>,
    /// From, ms since the Unix epoch.
    pub starts_at: i64,
    /// To, ms; `null` while active.
    pub ends_at: Option<i64>,
    /// Whether it is the household's current assignment.
    pub active: bool,
    /// Why it was made.
    pub reason: String,
    /// Why it ended.
    pub end_reason: Option<String>,
    /// Who made it (`null`: the command line).
    pub assigned_by: Option<UserId>,
    /// Who ended it.
    pub ended_by: Option<UserId>,
}

impl TryFrom<AssignmentRow> for AssignmentView {
    type Error = ApiError;
    fn try_from(a: AssignmentRow) -> Result<Self, ApiError> {
        let user = |v: &Option<String>| v.as_deref().map(|u| stored("user id", u)).transpose();
        Ok(AssignmentView {
            household_id: stored("household id", &a.household_id)?,
            officer_id: stored("user id", &a.officer_id)?,
            agency_id: a
                .agency_id
                .as_deref()
                .map(|x| stored("agency id", x))
                .transpose()?,
            starts_at: a.starts_at,
            ends_at: a.ends_at,
            active: a.ends_at.is_none(),
            assigned_by: user(&a.assigned_by)?,
            ended_by: user(&a.ended_by)?,
            reason: a.reason,
            end_reason: a.end_reason,
            id: a.id,
        })
    }
}

/// Assign a household to an officer (ending its current assignment, if any).
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAssignment {
    /// The household.
    pub household_id: RecordId,
    /// The officer.
    pub officer_id: UserId,
    /// Why (1-200 characters), for example `first assignment` or `officer moved`.
    #[serde(deserialize_with = "super::text::plain")]
    pub reason: String,
}

/// End an assignment without a successor.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndAssignment {
    /// Why (1-200 characters).
    #[serde(deserialize_with = "super::text::plain")]
    pub reason: String,
}

/// Which assignments to list.
#[derive(Clone, Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AssignmentQuery {
    /// One household's history.
    #[serde(alias = "household")]
    pub household_id: Option<RecordId>,
    /// One officer's.
    #[serde(alias = "officer")]
    pub officer_id: Option<UserId>,
    /// Made with this agency.
    pub agency: Option<AgencyId>,
    /// Only current ones (`true`), or all (default).
    #[serde(default)]
    pub active: bool,
    /// `starts_at` (default `-starts_at`) or `id`.
    pub sort: Option<String>,
    /// From the previous page.
    pub cursor: Option<String>,
    /// Rows per page (default 50, at most 500).
    pub limit: Option<i64>,
    /// `json` or `csv`.
    pub format: Option<super::lists::Format>,
}

impl AssignmentQuery {
    /// The paging parameters.
    pub fn paging(&self) -> super::lists::Paging {
        super::lists::Paging {
            sort: self.sort.clone(),
            cursor: self.cursor.clone(),
            limit: self.limit,
            format: self.format.unwrap_or_default(),
        }
    }
}

/// A write refused `out_of_scope`, kept for review: typically an officer's offline edit of a
/// household reassigned while the phone was away.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HeldWriteView {
    /// The device that sent it.
    pub device_id: String,
    /// Its sequence number there.
    pub seq: i64,
    /// The writer.
    pub user_id: UserId,
    /// The writer's user name.
    pub username: String,
    /// The writer's agency.
    pub agency_id: Option<AgencyId>,
    /// The record it would have written.
    pub record_id: RecordId,
    /// The household that was not in the writer's scope.
    pub household_id: Option<RecordId>,
    /// The operation as the server read it (its JSON, keys in the protocol's order).
    pub operation: serde_json::Value,
    /// When it was refused, ms since the Unix epoch.
    pub held_at: i64,
}

impl TryFrom<crate::db::held_writes::HeldWriteRow> for HeldWriteView {
    type Error = ApiError;
    fn try_from(h: crate::db::held_writes::HeldWriteRow) -> Result<Self, ApiError> {
        Ok(HeldWriteView {
            user_id: stored("user id", &h.user_id)?,
            agency_id: h
                .agency_id
                .as_deref()
                .map(|a| stored("agency id", a))
                .transpose()?,
            record_id: stored("record id", &h.record_id)?,
            household_id: h
                .household_id
                .as_deref()
                .map(|x| stored("household id", x))
                .transpose()?,
            operation: serde_json::from_str(&h.operation).map_err(|_| {
                ApiError::internal(format!(
                    "held write {}/{} is unreadable",
                    h.device_id, h.seq
                ))
            })?,
            device_id: h.device_id,
            seq: h.seq,
            username: h.username,
            held_at: h.held_at,
        })
    }
}

/// Which held writes to list.
#[derive(Clone, Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HeldWriteQuery {
    /// At most this many (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// How to import a file of assignments.
#[derive(Clone, Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Check every row and report, writing nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// What an import did, or would do, row by row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// The rows of the file, the header not counted.
    pub rows: usize,
    /// The rows that assigned a household (in a dry run: that would); 0 when any was refused.
    pub assigned: usize,
    /// The rows that named a household's current officer, which change nothing.
    pub unchanged: usize,
    /// Each row refused, in file order; with any, nothing was written.
    pub refused: Vec<RefusedRow>,
    /// Whether this was a dry run.
    pub dry_run: bool,
}

/// A row of the file that was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RefusedRow {
    /// The line it starts on (the header is line 1).
    pub line: usize,
    /// The column at fault; `null` when the row as a whole is.
    pub column: Option<String>,
    /// Why, for people.
    pub reason: String,
}

/// The `422 import_refused` answer of the assignment import.
pub type RefusedImport = super::imports::Refused<ImportReport>;
