//! A record's row in the typed query tables, computed from its merge state alone: the
//! winning value of every field, whether it is deleted or in conflict, and which device
//! wrote it. The server writes these rows in the same transaction as the state, and can
//! rebuild and verify them at any time from the states, because nothing else goes in.

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use serde_json::{Map, Value};

use crate::ids::DeviceId;
use crate::review::{RECEIVED, VISIT_FIELD};
use crate::schema::{ASPECTS, Collection};
use crate::scope::HOUSEHOLD_FIELD;
use crate::state::RecordState;

/// A household's row.
#[derive(Clone, Debug, PartialEq)]
pub struct HouseholdRow {
    /// Record id.
    pub id: String,
    /// Registry id (DTKS, DTSEN, P3KE, or local).
    pub registry_id: Option<String>,
    /// Registry the id belongs to.
    pub registry_source: Option<String>,
    /// Head of household.
    pub head_name: Option<String>,
    /// Desa or kelurahan (10 digits).
    pub desa_code: Option<String>,
    /// Kecamatan: the first 7 digits of the desa code.
    pub kecamatan_code: Option<String>,
    /// Welfare decile, 1-10.
    pub welfare_decile: Option<i64>,
    /// Home point.
    pub home_lat: Option<f64>,
    /// Home point.
    pub home_lon: Option<f64>,
    /// `active`, `graduated`, `moved`, ...
    pub status: Option<String>,
    /// Deleted.
    pub deleted: bool,
    /// Some field holds concurrent values.
    pub conflicted: bool,
}

/// A visit report's row.
#[derive(Clone, Debug, PartialEq)]
pub struct VisitRow {
    /// Record id.
    pub id: String,
    /// Its household.
    pub household_id: String,
    /// When, by the device's clock (RFC 3339 as sent).
    pub visited_at: Option<String>,
    /// `visited_at` in UTC as [`utc_instant`] writes it: offsets differ between devices, so
    /// only this form orders as text (the latest completed visit, overdue cut-offs).
    pub visited_at_utc: Option<String>,
    /// `completed`, `nobody_home`, ...
    pub outcome: Option<String>,
    /// Scores per aspect, in the order of [`ASPECTS`].
    pub scores: [Option<i64>; 5],
    /// GPS point.
    pub gps_lat: Option<f64>,
    /// GPS point.
    pub gps_lon: Option<f64>,
    /// GPS accuracy, metres.
    pub gps_accuracy_m: Option<f64>,
    /// The phone reported a mock location.
    pub gps_mock: Option<bool>,
    /// Next visit due (a date).
    pub next_visit_due: Option<String>,
    /// The visit this one amends.
    pub amends: Option<String>,
    /// Deleted.
    pub deleted: bool,
    /// Some field holds concurrent values.
    pub conflicted: bool,
    /// The device that wrote it.
    pub device_id: Option<DeviceId>,
}

/// An aid record's row.
#[derive(Clone, Debug, PartialEq)]
pub struct AidRow {
    /// Record id.
    pub id: String,
    /// Its household.
    pub household_id: String,
    /// When given (RFC 3339 as sent).
    pub given_at: Option<String>,
    /// `given_at` in UTC as [`utc_instant`] writes it, for date ranges and ordering.
    pub given_at_utc: Option<String>,
    /// `tunai`, `beras`, ...
    pub kind: Option<String>,
    /// Quantity in `unit`.
    pub quantity: Option<f64>,
    /// Unit.
    pub unit: Option<String>,
    /// Value in whole rupiah.
    pub value_rupiah: Option<i64>,
    /// Where the aid came from.
    pub source: Option<String>,
    /// Voided (a void is a delete): totals leave it out.
    pub voided: bool,
    /// Some field holds concurrent values.
    pub conflicted: bool,
    /// The device that wrote it.
    pub device_id: Option<DeviceId>,
}

/// A visit review's row. It has no table of its own: the server keeps it in its visit's
/// row (`q_visits.review_*`).
#[derive(Clone, Debug, PartialEq)]
pub struct ReviewRow {
    /// Record id (derived from the visit's, [`crate::review::review_id`]).
    pub id: String,
    /// The visit reviewed.
    pub visit_id: Option<String>,
    /// Its household.
    pub household_id: String,
    /// `approved`, `has_issues`, `rejected`; `None` for `received` (nobody's decision yet,
    /// or a decision taken back), as a visit without a review reads.
    pub state: Option<String>,
    /// The supervisor's comment.
    pub comment: Option<String>,
    /// When the winning decision was written, in the form of [`utc_instant`] (from its
    /// ordering stamp, which is never ahead of the server's clock).
    pub reviewed_at: Option<String>,
    /// Deleted: the visit reads as not reviewed.
    pub deleted: bool,
    /// Two decisions were written concurrently.
    pub conflicted: bool,
    /// The device that wrote the winning decision.
    pub device_id: Option<DeviceId>,
}

/// A record's typed row.
#[derive(Clone, Debug, PartialEq)]
pub enum TypedRow {
    /// Of `households`.
    Household(HouseholdRow),
    /// Of `visits`.
    Visit(VisitRow),
    /// Of `aid`.
    Aid(AidRow),
    /// Of `reviews`.
    Review(ReviewRow),
}

/// The typed row of `state`; `None` for a record nothing was written to.
pub fn typed_row(state: &RecordState) -> Option<TypedRow> {
    if state.version == 0 {
        return None;
    }
    let f = state.fields();
    let id = state.id.to_string();
    let (deleted, conflicted) = (state.deleted(), state.conflicted());
    Some(match state.collection {
        Collection::Households => {
            let desa_code = text(&f, "desa_code");
            TypedRow::Household(HouseholdRow {
                kecamatan_code: desa_code
                    .as_deref()
                    .and_then(|d| d.get(..7))
                    .map(str::to_owned),
                registry_id: text(&f, "registry_id"),
                registry_source: text(&f, "registry_source"),
                head_name: text(&f, "head_name"),
                desa_code,
                welfare_decile: int(&f, "welfare_decile"),
                home_lat: number(&f, "home_lat"),
                home_lon: number(&f, "home_lon"),
                status: text(&f, "status"),
                deleted,
                conflicted,
                id,
            })
        }
        Collection::Visits => TypedRow::Visit(VisitRow {
            household_id: text(&f, HOUSEHOLD_FIELD).unwrap_or_default(),
            visited_at_utc: text(&f, "visited_at").as_deref().and_then(utc_instant),
            visited_at: text(&f, "visited_at"),
            outcome: text(&f, "outcome"),
            scores: std::array::from_fn(|i| int(&f, &format!("{}_score", ASPECTS[i]))),
            gps_lat: number(&f, "gps_lat"),
            gps_lon: number(&f, "gps_lon"),
            gps_accuracy_m: number(&f, "gps_accuracy_m"),
            gps_mock: f.get("gps_mock").and_then(Value::as_bool),
            next_visit_due: text(&f, "next_visit_due"),
            amends: text(&f, "amends"),
            deleted,
            conflicted,
            device_id: writer(state),
            id,
        }),
        Collection::Aid => TypedRow::Aid(AidRow {
            household_id: text(&f, HOUSEHOLD_FIELD).unwrap_or_default(),
            given_at: text(&f, "given_at"),
            given_at_utc: text(&f, "given_at").as_deref().and_then(utc_instant),
            kind: text(&f, "kind"),
            quantity: number(&f, "quantity"),
            unit: text(&f, "unit"),
            value_rupiah: int(&f, "value_rupiah"),
            source: text(&f, "source"),
            voided: deleted,
            conflicted,
            device_id: writer(state),
            id,
        }),
        Collection::Reviews => {
            let decision = state.registers.get(DECISION).and_then(|r| r.winner());
            TypedRow::Review(ReviewRow {
                household_id: text(&f, HOUSEHOLD_FIELD).unwrap_or_default(),
                visit_id: text(&f, VISIT_FIELD),
                state: text(&f, "state").filter(|s| s != RECEIVED),
                comment: text(&f, "comment"),
                reviewed_at: decision
                    .and_then(|d| i64::try_from(d.order_hlc.wall_ms).ok())
                    .and_then(DateTime::from_timestamp_millis)
                    .map(utc_text),
                deleted,
                conflicted,
                device_id: decision.map(|d| d.dot.device),
                id,
            })
        }
    })
}

/// The register of a review's `state` and `comment`.
const DECISION: &str = "decision";

/// The mean Earth radius (IUGG), metres: haversine on a sphere is off by at most about 0.5%,
/// far inside GPS error and the implausible-distance threshold.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// The outcome a visit must have to count as the household's last visit.
pub const COMPLETED: &str = "completed";

/// Great-circle distance in metres between two points given in degrees.
pub fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    // Clamped: rounding can push `a` a hair over 1 for antipodal points.
    2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
}

/// Distance in metres between two points, `None` when either is missing.
pub fn point_distance_m(a: Option<(f64, f64)>, b: Option<(f64, f64)>) -> Option<f64> {
    let ((lat1, lon1), (lat2, lon2)) = (a?, b?);
    Some(haversine_m(lat1, lon1, lat2, lon2))
}

impl HouseholdRow {
    /// The home point, when both halves are set.
    pub fn home_point(&self) -> Option<(f64, f64)> {
        Some((self.home_lat?, self.home_lon?))
    }
}

impl VisitRow {
    /// The GPS point, when both halves are set.
    pub fn gps_point(&self) -> Option<(f64, f64)> {
        Some((self.gps_lat?, self.gps_lon?))
    }
}

/// How far from its household's home point a visit was reported, in metres; `None` when
/// the visit has no GPS point or the household no home point.
pub fn visit_distance_m(visit: &VisitRow, household: &HouseholdRow) -> Option<f64> {
    point_distance_m(visit.gps_point(), household.home_point())
}

/// Whether a visit's location deserves a second look: the phone said the location was
/// mocked, or the point is more than `threshold_m` from the home point. A missing distance
/// is not suspect by itself: older phones and households without a home point have none.
pub fn location_suspect(gps_mock: Option<bool>, distance_m: Option<f64>, threshold_m: f64) -> bool {
    gps_mock == Some(true) || distance_m.is_some_and(|d| d > threshold_m)
}

/// An RFC 3339 date-time as the UTC instant `YYYY-MM-DDTHH:MM:SS.mmmZ`: one fixed width, so
/// text order is time order on both databases. `None` when it does not parse.
pub fn utc_instant(s: &str) -> Option<String> {
    let t = DateTime::parse_from_rfc3339(s).ok()?.with_timezone(&Utc);
    Some(utc_text(t))
}

/// `t` in the form of [`utc_instant`].
pub fn utc_text(t: DateTime<Utc>) -> String {
    // A leap second's nanoseconds run past 999,999,999; it stays in its own second.
    let ms = (t.nanosecond() / 1_000_000).min(999);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Whether a household is overdue at `now`: no completed visit in the last `days` days.
/// Time moves while the tables stand still, so this is asked at read time, never stored.
/// `last_completed_visit_at` is in the form of [`utc_instant`].
pub fn overdue(last_completed_visit_at: Option<&str>, now: DateTime<Utc>, days: u32) -> bool {
    let cutoff = utc_text(now - Duration::days(i64::from(days)));
    last_completed_visit_at.is_none_or(|last| last < cutoff.as_str())
}

/// A household's totals over its visits and aid, as the typed tables keep them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HouseholdTotals {
    /// The latest `visited_at_utc` of a completed visit that is not deleted.
    pub last_completed_visit_at: Option<String>,
    /// Visits not deleted.
    pub visit_count: i64,
    /// Aid records not voided.
    pub aid_count: i64,
    /// Their value, in whole rupiah (a missing value counts as none).
    pub aid_value_rupiah: i64,
}

impl HouseholdTotals {
    /// Counts a visit in.
    pub fn add_visit(
        &mut self,
        deleted: bool,
        outcome: Option<&str>,
        visited_at_utc: Option<&str>,
    ) {
        if deleted {
            return;
        }
        self.visit_count += 1;
        if outcome == Some(COMPLETED)
            && let Some(at) = visited_at_utc
            && self
                .last_completed_visit_at
                .as_deref()
                .is_none_or(|l| at > l)
        {
            self.last_completed_visit_at = Some(at.to_owned());
        }
    }

    /// Counts an aid record in.
    pub fn add_aid(&mut self, voided: bool, value_rupiah: Option<i64>) {
        if voided {
            return;
        }
        self.aid_count += 1;
        self.aid_value_rupiah = self
            .aid_value_rupiah
            .saturating_add(value_rupiah.unwrap_or(0));
    }
}

/// The device whose write made the record: visits and aid are written once, and their
/// `household_id` keeps that write's dot even after a void (which writes existence only).
fn writer(state: &RecordState) -> Option<DeviceId> {
    state
        .registers
        .get(HOUSEHOLD_FIELD)?
        .winner()
        .map(|s| s.dot.device)
}

fn text(f: &Map<String, Value>, name: &str) -> Option<String> {
    f.get(name).and_then(Value::as_str).map(str::to_owned)
}

fn int(f: &Map<String, Value>, name: &str) -> Option<i64> {
    f.get(name).and_then(Value::as_i64)
}

fn number(f: &Map<String, Value>, name: &str) -> Option<f64> {
    f.get(name).and_then(Value::as_f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haversine_matches_known_distances() {
        assert_eq!(haversine_m(-8.2, 114.3, -8.2, 114.3), 0.0);
        // One degree of latitude is about 111.2 km on the mean sphere.
        let d = haversine_m(-8.0, 114.0, -9.0, 114.0);
        assert!((d - 111_195.0).abs() < 1.0, "{d}");
        // Along the equator a degree of longitude is the same length.
        let d = haversine_m(0.0, 114.0, 0.0, 115.0);
        assert!((d - 111_195.0).abs() < 1.0, "{d}");
        // Symmetric, and the antipode is half the circumference.
        assert_eq!(
            haversine_m(-8.2, 114.3, -8.3, 114.1),
            haversine_m(-8.3, 114.1, -8.2, 114.3)
        );
        let half = std::f64::consts::PI * EARTH_RADIUS_M;
        assert!((haversine_m(0.0, 0.0, 0.0, 180.0) - half).abs() < 1e-6);
    }

    #[test]
    fn a_distance_needs_both_points() {
        assert_eq!(point_distance_m(None, Some((0.0, 0.0))), None);
        assert_eq!(point_distance_m(Some((0.0, 0.0)), None), None);
        let d = point_distance_m(Some((-8.2, 114.3)), Some((-8.2009, 114.3)));
        assert!(d.is_some_and(|d| (d - 100.0).abs() < 0.5), "{d:?}");
    }

    #[test]
    fn suspect_when_mocked_or_far() {
        assert!(location_suspect(Some(true), Some(5.0), 1000.0));
        assert!(location_suspect(Some(true), None, 1000.0));
        assert!(location_suspect(None, Some(1000.5), 1000.0));
        assert!(!location_suspect(Some(false), Some(1000.0), 1000.0));
        assert!(!location_suspect(None, None, 1000.0));
    }

    #[test]
    fn utc_instants_order_as_text_across_offsets() {
        let a = utc_instant("2026-11-28T09:30:00+07:00");
        let b = utc_instant("2026-11-28T03:00:00Z");
        assert_eq!(a.as_deref(), Some("2026-11-28T02:30:00.000Z"));
        assert!(a < b, "09:30 in Banyuwangi is before 03:00 UTC");
        assert_eq!(
            utc_instant("2026-11-28T02:30:00.1234Z").as_deref(),
            Some("2026-11-28T02:30:00.123Z")
        );
        assert_eq!(utc_instant("yesterday"), None);
    }

    #[test]
    fn overdue_after_the_configured_days() {
        let Ok(now) = DateTime::parse_from_rfc3339("2026-12-31T00:00:00Z") else {
            panic!("a date-time");
        };
        let now = now.with_timezone(&Utc);
        assert!(overdue(None, now, 30));
        assert!(!overdue(Some("2026-12-01T00:00:00.000Z"), now, 30));
        assert!(overdue(Some("2026-11-30T23:59:59.999Z"), now, 30));
        assert!(!overdue(Some("2026-11-30T23:59:59.999Z"), now, 31));
    }

    #[test]
    fn totals_leave_out_deleted_visits_and_voided_aid() {
        let mut t = HouseholdTotals::default();
        t.add_visit(false, Some("completed"), Some("2026-11-02T00:00:00.000Z"));
        t.add_visit(false, Some("nobody_home"), Some("2026-11-09T00:00:00.000Z"));
        t.add_visit(true, Some("completed"), Some("2026-11-10T00:00:00.000Z"));
        t.add_visit(false, Some("completed"), Some("2026-11-01T00:00:00.000Z"));
        t.add_aid(false, Some(50_000));
        t.add_aid(false, None);
        t.add_aid(true, Some(1_000_000));
        assert_eq!(
            t,
            HouseholdTotals {
                last_completed_visit_at: Some("2026-11-02T00:00:00.000Z".into()),
                visit_count: 3,
                aid_count: 2,
                aid_value_rupiah: 50_000,
            }
        );
    }
}
