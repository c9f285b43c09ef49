//! `GET /v1/admin/visits`: visits filtered, sorted and paged, or exported as CSV.

use crate::api::lists::{VisitItem, VisitListQuery};
use crate::auth::Caller;
use crate::config::ReportingArgs;
use crate::db::AnyConnection;
use crate::db::listing::{After, Bind, Filter, Source};
use crate::db::lists::{VISITS, VisitRow};
use crate::error::ApiError;
use crate::service::authorize;
use crate::service::csv_export::{Cell, CsvRecord};
use crate::service::listing::{self, List, Listed, Query, SortKey, text_key};

const KEYS: [SortKey; 2] = [
    SortKey::text("visited_at", "v.visited_at_utc", true),
    SortKey::ID,
];

/// The visits list.
pub struct Visits {
    implausible_distance_m: f64,
}

/// Visits in the caller's scope: a regency admin's all, an agency admin's those of the
/// households actively assigned to their agency.
pub fn list_visits(
    conn: &mut AnyConnection,
    caller: &Caller,
    q: VisitListQuery,
    reporting: ReportingArgs,
) -> Result<Listed<Visits>, ApiError> {
    let p = authorize::admin(conn, caller)?;
    let paging = q.paging();
    let mut f = Filter::default();
    let agency = listing::agency_scope(&p, q.agency)?;
    listing::household_conditions(&mut f, "v.household_id", q.kecamatan, q.desa, agency);
    if let Some(o) = listing::officer_in_scope(conn, &p, "officer", q.officer)? {
        f.and("v.user_id = ?", [Bind::Text(o)]);
    }
    if let Some(h) = q.household {
        f.and("v.household_id = ?", [Bind::Text(h.to_string())]);
    }
    listing::time_conditions(
        &mut f,
        "v.visited_at_utc",
        q.from.as_deref(),
        q.to.as_deref(),
    )?;
    if let Some(o) = q.outcome {
        f.and("v.outcome = ?", [Bind::Text(o)]);
    }
    if let Some(c) = q.conflicted {
        f.and("v.conflicted = ?", [Bind::Bool(c)]);
    }
    let far = f64::from(reporting.implausible_distance_m);
    // The rule of `sync_protocol::rows::location_suspect`, in SQL.
    match q.suspect {
        Some(true) => f.and(
            "v.gps_mock = ? OR v.distance_m > ?",
            [Bind::Bool(true), Bind::Real(far)],
        ),
        Some(false) => f.and(
            "(v.gps_mock IS NULL OR v.gps_mock = ?) AND (v.distance_m IS NULL OR v.distance_m <= ?)",
            [Bind::Bool(false), Bind::Real(far)],
        ),
        None => {}
    }
    match q.review {
        // Most visits are not reviewed yet (`review_state` null). As an `OR` of the null
        // and the value, SQLite without statistics (a serving database has none) read both
        // from the review index and sorted every visit by time: 2.5 s on the seeded
        // programme, where walking the visits by time finds a page at once.
        Some(r) if r.as_str() == "received" => f.and(
            "COALESCE(v.review_state, ?) = ?",
            [Bind::Text(r.as_str().into()), Bind::Text(r.as_str().into())],
        ),
        Some(r) => f.and("v.review_state = ?", [Bind::Text(r.as_str().into())]),
        None => {}
    }
    f.and("v.deleted = ?", [Bind::Bool(q.deleted.unwrap_or(false))]);
    let list = Visits {
        implausible_distance_m: far,
    };
    Query::new(list, f, &paging, &KEYS, "-visited_at")?.answer(conn, paging.format)
}

impl List for Visits {
    type Row = VisitRow;
    type Item = VisitItem;
    const SOURCE: Source = VISITS;

    fn position(row: &VisitRow, key: &SortKey) -> After {
        let value = match key.name {
            "visited_at" => text_key(&row.visited_at_utc),
            _ => Some(Bind::Text(row.id.clone())),
        };
        After {
            key: value,
            id: row.id.clone(),
        }
    }

    fn items(
        &self,
        _: &mut AnyConnection,
        rows: Vec<VisitRow>,
    ) -> Result<Vec<VisitItem>, ApiError> {
        Ok(rows.into_iter().map(|v| self.item(v)).collect())
    }
}

impl Visits {
    fn item(&self, v: VisitRow) -> VisitItem {
        VisitItem {
            location_suspect: sync_protocol::rows::location_suspect(
                v.gps_mock,
                v.distance_m,
                self.implausible_distance_m,
            ),
            // Decimetres, as the household view shows them.
            distance_m: v.distance_m.map(|d| (d * 10.0).round() / 10.0),
            review_state: v.review_state.unwrap_or_else(|| "received".into()),
            id: v.id,
            household_id: v.household_id,
            visited_at: v.visited_at,
            visited_at_utc: v.visited_at_utc,
            outcome: v.outcome,
            kesehatan_score: v.kesehatan_score,
            pendidikan_score: v.pendidikan_score,
            pangan_score: v.pangan_score,
            papan_score: v.papan_score,
            ekonomi_score: v.ekonomi_score,
            gps_lat: v.gps_lat,
            gps_lon: v.gps_lon,
            gps_accuracy_m: v.gps_accuracy_m,
            gps_mock: v.gps_mock,
            deleted: v.deleted,
            conflicted: v.conflicted,
            user_id: v.user_id,
            device_id: v.device_id,
            agency_id: v.agency_id,
        }
    }
}

impl CsvRecord for VisitItem {
    fn header() -> Vec<&'static str> {
        vec![
            "id",
            "household_id",
            "visited_at",
            "visited_at_utc",
            "outcome",
            "kesehatan_score",
            "pendidikan_score",
            "pangan_score",
            "papan_score",
            "ekonomi_score",
            "gps_lat",
            "gps_lon",
            "gps_accuracy_m",
            "gps_mock",
            "distance_m",
            "location_suspect",
            "deleted",
            "conflicted",
            "user_id",
            "device_id",
            "agency_id",
            "review_state",
        ]
    }

    fn cells(&self) -> Vec<Cell> {
        vec![
            Cell::Plain(self.id.clone()),
            Cell::Plain(self.household_id.clone()),
            Cell::text(&self.visited_at),
            Cell::text(&self.visited_at_utc),
            Cell::text(&self.outcome),
            Cell::plain(self.kesehatan_score),
            Cell::plain(self.pendidikan_score),
            Cell::plain(self.pangan_score),
            Cell::plain(self.papan_score),
            Cell::plain(self.ekonomi_score),
            Cell::plain(self.gps_lat),
            Cell::plain(self.gps_lon),
            Cell::plain(self.gps_accuracy_m),
            Cell::plain(self.gps_mock),
            Cell::plain(self.distance_m),
            Cell::plain(Some(self.location_suspect)),
            Cell::plain(Some(self.deleted)),
            Cell::plain(Some(self.conflicted)),
            Cell::text(&self.user_id),
            Cell::text(&self.device_id),
            Cell::text(&self.agency_id),
            Cell::Plain(self.review_state.clone()),
        ]
    }
}
