//! `GET /v1/admin/assignments`: a household's history, an officer's households; filtered,
//! sorted and paged.

use crate::api::assignments::{AssignmentQuery, AssignmentView};
use crate::auth::Caller;
use crate::db::AnyConnection;
use crate::db::assignments::AssignmentRow;
use crate::db::listing::{After, Bind, Filter, Source};
use crate::db::lists::ASSIGNMENTS;
use crate::error::ApiError;
use crate::service::authorize;
use crate::service::csv_export::{Cell, CsvRecord};
use crate::service::listing::{self, List, Listed, Query, SortKey};

const KEYS: [SortKey; 2] = [SortKey::int("starts_at", "s.starts_at", false), SortKey::ID];

/// The assignments list.
pub struct Assignments;

/// Assignments, newest first by default: every one for a regency admin, their agency's for
/// an agency admin (by the agency the assignment was made with).
pub fn list_assignments(
    conn: &mut AnyConnection,
    caller: &Caller,
    q: AssignmentQuery,
) -> Result<Listed<Assignments>, ApiError> {
    let p = authorize::admin(conn, caller)?;
    let paging = q.paging();
    let mut f = Filter::default();
    if let Some(a) = listing::agency_scope(&p, q.agency)? {
        f.and("s.agency_id = ?", [Bind::Text(a)]);
    }
    if let Some(o) = listing::officer_in_scope(conn, &p, "officer_id", q.officer_id)? {
        f.and("s.officer_id = ?", [Bind::Text(o)]);
    }
    if let Some(h) = q.household_id {
        f.and("s.household_id = ?", [Bind::Text(h.to_string())]);
    }
    if q.active {
        f.and("s.ends_at IS NULL", []);
    }
    Query::new(Assignments, f, &paging, &KEYS, "-starts_at")?.answer(conn, paging.format)
}

impl List for Assignments {
    type Row = AssignmentRow;
    type Item = AssignmentView;
    const SOURCE: Source = ASSIGNMENTS;

    fn position(row: &AssignmentRow, key: &SortKey) -> After {
        let value = match key.name {
            "starts_at" => Bind::Int(row.starts_at),
            _ => Bind::Text(row.id.clone()),
        };
        After {
            key: Some(value),
            id: row.id.clone(),
        }
    }

    fn items(
        &self,
        _: &mut AnyConnection,
        rows: Vec<AssignmentRow>,
    ) -> Result<Vec<AssignmentView>, ApiError> {
        rows.into_iter().map(AssignmentView::try_from).collect()
    }
}

impl CsvRecord for AssignmentView {
    fn header() -> Vec<&'static str> {
        vec![
            "id",
            "household_id",
            "officer_id",
            "agency_id",
            "starts_at",
            "ends_at",
            "active",
            "reason",
            "end_reason",
            "assigned_by",
            "ended_by",
        ]
    }

    fn cells(&self) -> Vec<Cell> {
        vec![
            Cell::Plain(self.id.clone()),
            Cell::Plain(self.household_id.to_string()),
            Cell::Plain(self.officer_id.to_string()),
            Cell::plain(self.agency_id),
            Cell::plain(Some(self.starts_at)),
            Cell::plain(self.ends_at),
            Cell::plain(Some(self.active)),
            Cell::Text(self.reason.clone()),
            Cell::text(&self.end_reason),
            Cell::plain(self.assigned_by),
            Cell::plain(self.ended_by),
        ]
    }
}
