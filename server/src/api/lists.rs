//! The admin lists: their query parameters, their items and the page they come in. Every
//! list answers `{"items": [...], "next_cursor": "..." | null}`, or CSV with `format=csv`.

use serde::{Deserialize, Serialize};
use sync_protocol::RecordId;

use crate::ids::{AgencyId, UserId};

/// One page of a list.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// The rows of this page, in the asked order.
    pub items: Vec<T>,
    /// Pass as `cursor` (with the same `sort`) for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// How a list is answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// One page of JSON (the default).
    #[default]
    Json,
    /// Every matching row as CSV, streamed.
    Csv,
}

/// A visit's review state, as a filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewFilter {
    /// Not reviewed yet.
    Received,
    /// Approved.
    Approved,
    /// Needs a second look.
    HasIssues,
    /// Rejected.
    Rejected,
}

impl ReviewFilter {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewFilter::Received => "received",
            ReviewFilter::Approved => "approved",
            ReviewFilter::HasIssues => "has_issues",
            ReviewFilter::Rejected => "rejected",
        }
    }
}

/// What every list takes besides its filters.
#[derive(Clone, Debug, Default)]
pub struct Paging {
    /// `key` or `-key`.
    pub sort: Option<String>,
    /// From the previous page.
    pub cursor: Option<String>,
    /// Rows per page.
    pub limit: Option<i64>,
    /// JSON or CSV.
    pub format: Format,
}

macro_rules! paging {
    ($t:ty) => {
        impl $t {
            /// The paging parameters.
            pub fn paging(&self) -> Paging {
                Paging {
                    sort: self.sort.clone(),
                    cursor: self.cursor.clone(),
                    limit: self.limit,
                    format: self.format.unwrap_or_default(),
                }
            }
        }
    };
}

/// `GET /v1/admin/households`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HouseholdListQuery {
    /// Kecamatan code.
    pub kecamatan: Option<String>,
    /// Desa code.
    pub desa: Option<String>,
    /// Actively assigned to an officer of this agency.
    pub agency: Option<AgencyId>,
    /// Actively assigned to this officer.
    pub officer: Option<UserId>,
    /// No completed visit within the overdue days (`true`), or one (`false`).
    pub overdue: Option<bool>,
    /// Some field holds concurrent values.
    pub conflicted: Option<bool>,
    /// Status, as stored.
    pub status: Option<String>,
    /// Deleted households instead of live ones.
    pub deleted: Option<bool>,
    /// Part of the head's name or the registry id, any case.
    pub q: Option<String>,
    /// Sort key.
    pub sort: Option<String>,
    /// Cursor.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: Option<i64>,
    /// `json` or `csv`.
    pub format: Option<Format>,
    /// CSV only, regency admins only: add the KK and NIK numbers.
    pub include_identity: Option<bool>,
    /// Why the numbers are exported (kept in the audit log).
    pub reason: Option<String>,
}
paging!(HouseholdListQuery);

/// `GET /v1/admin/visits`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VisitListQuery {
    /// The household's kecamatan.
    pub kecamatan: Option<String>,
    /// The household's desa.
    pub desa: Option<String>,
    /// The household is actively assigned to an officer of this agency.
    pub agency: Option<AgencyId>,
    /// Written by this officer.
    pub officer: Option<UserId>,
    /// Of this household.
    pub household: Option<RecordId>,
    /// Visited at or after (RFC 3339, or a date: its start in UTC).
    pub from: Option<String>,
    /// Visited before (RFC 3339), or on or before (a date).
    pub to: Option<String>,
    /// Outcome.
    pub outcome: Option<String>,
    /// Concurrent values.
    pub conflicted: Option<bool>,
    /// A mocked location or one too far from home (`true`), or neither (`false`).
    pub suspect: Option<bool>,
    /// Review state.
    pub review: Option<ReviewFilter>,
    /// Deleted visits instead of live ones.
    pub deleted: Option<bool>,
    /// Sort key.
    pub sort: Option<String>,
    /// Cursor.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: Option<i64>,
    /// `json` or `csv`.
    pub format: Option<Format>,
}
paging!(VisitListQuery);

/// `GET /v1/admin/aid`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AidListQuery {
    /// The household's kecamatan.
    pub kecamatan: Option<String>,
    /// The household's desa.
    pub desa: Option<String>,
    /// The household is actively assigned to an officer of this agency.
    pub agency: Option<AgencyId>,
    /// Written by this officer.
    pub officer: Option<UserId>,
    /// Of this household.
    pub household: Option<RecordId>,
    /// Given at or after.
    pub from: Option<String>,
    /// Given before (or on, for a date).
    pub to: Option<String>,
    /// Kind.
    pub kind: Option<String>,
    /// Source.
    pub source: Option<String>,
    /// Concurrent values.
    pub conflicted: Option<bool>,
    /// Voided (`true`) or not (`false`); both when absent.
    pub voided: Option<bool>,
    /// Sort key.
    pub sort: Option<String>,
    /// Cursor.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: Option<i64>,
    /// `json` or `csv`.
    pub format: Option<Format>,
}
paging!(AidListQuery);

/// `GET /v1/admin/officers`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OfficerListQuery {
    /// Of this agency.
    pub agency: Option<AgencyId>,
    /// Active accounts (`true`) or deactivated ones (`false`).
    pub active: Option<bool>,
    /// Sort key.
    pub sort: Option<String>,
    /// Cursor.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: Option<i64>,
    /// `json` or `csv`.
    pub format: Option<Format>,
}
paging!(OfficerListQuery);

/// `GET /v1/admin/devices`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeviceListQuery {
    /// Of users of this agency.
    pub agency: Option<AgencyId>,
    /// Of this user.
    pub user: Option<UserId>,
    /// Revoked (`true`) or not (`false`).
    pub revoked: Option<bool>,
    /// `field` or `console`.
    pub kind: Option<String>,
    /// Sort key.
    pub sort: Option<String>,
    /// Cursor.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: Option<i64>,
    /// `json` or `csv`.
    pub format: Option<Format>,
}
paging!(DeviceListQuery);

/// A household in a list.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HouseholdItem {
    /// Record id.
    pub id: String,
    /// Registry id.
    pub registry_id: Option<String>,
    /// Registry.
    pub registry_source: Option<String>,
    /// Head of household.
    pub head_name: Option<String>,
    /// Desa code.
    pub desa_code: Option<String>,
    /// Kecamatan code.
    pub kecamatan_code: Option<String>,
    /// Welfare decile.
    pub welfare_decile: Option<i64>,
    /// Home point.
    pub home_lat: Option<f64>,
    /// Home point.
    pub home_lon: Option<f64>,
    /// Status.
    pub status: Option<String>,
    /// Deleted.
    pub deleted: bool,
    /// Concurrent values.
    pub conflicted: bool,
    /// Latest completed visit, UTC.
    pub last_completed_visit_at: Option<String>,
    /// No completed visit within the overdue days.
    pub overdue: bool,
    /// Visits not deleted.
    pub visit_count: i64,
    /// Aid not voided.
    pub aid_count: i64,
    /// Its value.
    pub aid_value_rupiah: i64,
    /// The officer actively assigned.
    pub officer_id: Option<String>,
    /// Their agency.
    pub agency_id: Option<String>,
}

/// A visit in a list.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VisitItem {
    /// Record id.
    pub id: String,
    /// Household.
    pub household_id: String,
    /// As the device sent it.
    pub visited_at: Option<String>,
    /// In UTC (what `from`, `to` and the sort use).
    pub visited_at_utc: Option<String>,
    /// Outcome.
    pub outcome: Option<String>,
    /// Score.
    pub kesehatan_score: Option<i64>,
    /// Score.
    pub pendidikan_score: Option<i64>,
    /// Score.
    pub pangan_score: Option<i64>,
    /// Score.
    pub papan_score: Option<i64>,
    /// Score.
    pub ekonomi_score: Option<i64>,
    /// GPS point.
    pub gps_lat: Option<f64>,
    /// GPS point.
    pub gps_lon: Option<f64>,
    /// Accuracy.
    pub gps_accuracy_m: Option<f64>,
    /// Mock location reported.
    pub gps_mock: Option<bool>,
    /// Metres from the home point, to 0.1 m.
    pub distance_m: Option<f64>,
    /// Mocked, or too far from home.
    pub location_suspect: bool,
    /// Deleted.
    pub deleted: bool,
    /// Concurrent values.
    pub conflicted: bool,
    /// Writer.
    pub user_id: Option<String>,
    /// Writer's device.
    pub device_id: Option<String>,
    /// Writer's agency.
    pub agency_id: Option<String>,
    /// `received`, `approved`, `has_issues` or `rejected`.
    pub review_state: String,
}

/// An aid record in a list.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AidItem {
    /// Record id.
    pub id: String,
    /// Household.
    pub household_id: String,
    /// As sent.
    pub given_at: Option<String>,
    /// In UTC (what `from`, `to` and the sort use).
    pub given_at_utc: Option<String>,
    /// Kind.
    pub kind: Option<String>,
    /// Quantity.
    pub quantity: Option<f64>,
    /// Unit.
    pub unit: Option<String>,
    /// Value in rupiah.
    pub value_rupiah: Option<i64>,
    /// Source.
    pub source: Option<String>,
    /// Voided.
    pub voided: bool,
    /// Concurrent values.
    pub conflicted: bool,
    /// Writer.
    pub user_id: Option<String>,
    /// Writer's device.
    pub device_id: Option<String>,
    /// Writer's agency.
    pub agency_id: Option<String>,
}

/// An officer in a list.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OfficerItem {
    /// User id.
    pub id: String,
    /// Sign-in name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Agency.
    pub agency_id: Option<String>,
    /// Active account.
    pub active: bool,
    /// Households actively assigned now.
    pub households_assigned: i64,
    /// The latest push from any of their devices, ms since the Unix epoch.
    pub last_push_at: Option<i64>,
}
