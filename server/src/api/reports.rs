//! Supervisors' reports on the typed query tables.

use serde::{Deserialize, Serialize};

use sync_protocol::review::ReviewState;

use crate::ids::{AgencyId, DeviceId, UserId};

/// `GET /v1/admin/households/{id}`: a household's typed row with its totals, and its visits
/// and aid records. Deleted visits and voided aid are listed, marked, and left out of the
/// totals.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HouseholdReport {
    /// Record id.
    pub id: String,
    /// Registry id.
    pub registry_id: Option<String>,
    /// `DTKS`, `DTSEN`, `P3KE` or `local`.
    pub registry_source: Option<String>,
    /// Head of household.
    pub head_name: Option<String>,
    /// Desa or kelurahan code (10 digits).
    pub desa_code: Option<String>,
    /// Kecamatan code (7 digits).
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
    /// When the latest completed visit was, in UTC (`2026-11-28T02:30:00.000Z`); `null`
    /// without one.
    pub last_completed_visit_at: Option<String>,
    /// No completed visit within the configured number of days, as of this answer.
    pub overdue: bool,
    /// Visits, not counting deleted ones.
    pub visit_count: i64,
    /// Aid records, not counting voided ones.
    pub aid_count: i64,
    /// Their value in whole rupiah.
    pub aid_value_rupiah: i64,
    /// Visits, newest first.
    pub visits: Vec<VisitReport>,
    /// Aid records, newest first.
    pub aid: Vec<AidReport>,
}

/// A visit in a household report.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VisitReport {
    /// Record id.
    pub id: String,
    /// By the device's clock, as sent.
    pub visited_at: Option<String>,
    /// `completed`, `nobody_home`, ...
    pub outcome: Option<String>,
    /// Score 1-5.
    pub kesehatan_score: Option<i64>,
    /// Score 1-5.
    pub pendidikan_score: Option<i64>,
    /// Score 1-5.
    pub pangan_score: Option<i64>,
    /// Score 1-5.
    pub papan_score: Option<i64>,
    /// Score 1-5.
    pub ekonomi_score: Option<i64>,
    /// GPS point.
    pub gps_lat: Option<f64>,
    /// GPS point.
    pub gps_lon: Option<f64>,
    /// GPS accuracy, metres.
    pub gps_accuracy_m: Option<f64>,
    /// The phone reported a mock location.
    pub gps_mock: Option<bool>,
    /// Metres from the household's home point, to 0.1 m; `null` when either point is missing.
    pub distance_m: Option<f64>,
    /// Mock location, or farther than the configured implausible distance.
    pub location_suspect: bool,
    /// Deleted.
    pub deleted: bool,
    /// Some field holds concurrent values.
    pub conflicted: bool,
    /// The officer who pushed it.
    pub user_id: Option<UserId>,
    /// The device that pushed it.
    pub device_id: Option<DeviceId>,
    /// The officer's agency.
    pub agency_id: Option<AgencyId>,
    /// The visit this one amends (an officer's answer to a review).
    pub amends: Option<String>,
    /// `received` until a supervisor reviews it, then `approved`, `has_issues` or
    /// `rejected` (`POST /v1/admin/visits/{id}/review`).
    pub review_state: ReviewState,
    /// The supervisor's comment.
    pub review_comment: Option<String>,
    /// When the decision was written, UTC.
    pub reviewed_at: Option<String>,
    /// Who wrote it.
    pub reviewed_by: Option<UserId>,
}

/// An aid record in a household report.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AidReport {
    /// Record id.
    pub id: String,
    /// When given, as sent.
    pub given_at: Option<String>,
    /// `tunai`, `beras`, ...
    pub kind: Option<String>,
    /// Quantity in `unit`.
    pub quantity: Option<f64>,
    /// Unit.
    pub unit: Option<String>,
    /// Value in whole rupiah.
    pub value_rupiah: Option<i64>,
    /// Where it came from.
    pub source: Option<String>,
    /// Voided: left out of the totals.
    pub voided: bool,
    /// Some field holds concurrent values.
    pub conflicted: bool,
    /// The officer who pushed it.
    pub user_id: Option<UserId>,
    /// The device that pushed it.
    pub device_id: Option<DeviceId>,
    /// The officer's agency.
    pub agency_id: Option<AgencyId>,
}
