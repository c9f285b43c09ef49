//! Supervisors' grouped reports (`/v1/admin/reports/...`): queries and answers. Every
//! answer is a list of small grouped rows, also written as CSV (`format=csv`), whose
//! columns are the row's fields in order (see [`CsvRow`]).

use serde::{Deserialize, Serialize};

use crate::ids::{AgencyId, DeviceId, UserId};

/// `GET /v1/admin/reports/coverage`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CoverageQuery {
    /// `kecamatan`, `desa` or `agency`; none: one row for the whole scope.
    #[serde(deserialize_with = "super::text::plain_opt", default)]
    pub group_by: Option<String>,
    /// A completed visit within this many days counts as covered (default 30, 1-3650).
    pub days: Option<u32>,
    /// `json` (default) or `csv`.
    #[serde(deserialize_with = "super::text::plain_opt", default)]
    pub format: Option<String>,
}

/// `GET /v1/admin/reports/aid`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AidQuery {
    /// `kecamatan`, `desa`, `agency` or `month`.
    #[serde(deserialize_with = "super::text::plain_opt", default)]
    pub group_by: Option<String>,
    /// Start, inclusive: RFC 3339, or a date (its start in WIB).
    #[serde(deserialize_with = "super::text::plain_opt", default)]
    pub from: Option<String>,
    /// End: RFC 3339 (exclusive), or a date (inclusive: up to its end in WIB).
    #[serde(deserialize_with = "super::text::plain_opt", default)]
    pub to: Option<String>,
    /// Only this kind of aid.
    #[serde(deserialize_with = "super::text::plain_opt", default)]
    pub kind: Option<String>,
    /// Only aid from this source.
    #[serde(deserialize_with = "super::text::plain_opt", default)]
    pub source: Option<String>,
    /// `json` or `csv`.
    #[serde(deserialize_with = "super::text::plain_opt", default)]
    pub format: Option<String>,
}

/// `GET /v1/admin/reports/conditions` and `/locations`: a grouping and a period.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PeriodQuery {
    /// `kecamatan`, `desa`, `agency` or `month`.
    #[serde(deserialize_with = "super::text::plain_opt", default)]
    pub group_by: Option<String>,
    /// Start, as for [`AidQuery::from`].
    #[serde(deserialize_with = "super::text::plain_opt", default)]
    pub from: Option<String>,
    /// End, as for [`AidQuery::to`].
    #[serde(deserialize_with = "super::text::plain_opt", default)]
    pub to: Option<String>,
    /// `json` or `csv`.
    #[serde(deserialize_with = "super::text::plain_opt", default)]
    pub format: Option<String>,
}

/// `GET /v1/admin/reports/officers`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OfficersQuery {
    /// Start, as for [`AidQuery::from`].
    #[serde(deserialize_with = "super::text::plain_opt", default)]
    pub from: Option<String>,
    /// End, as for [`AidQuery::to`].
    #[serde(deserialize_with = "super::text::plain_opt", default)]
    pub to: Option<String>,
    /// Only this agency's officers (an agency admin: their own, the default).
    #[serde(deserialize_with = "super::text::plain_opt", default)]
    pub agency: Option<String>,
    /// `json` or `csv`.
    #[serde(deserialize_with = "super::text::plain_opt", default)]
    pub format: Option<String>,
}

/// A report: what it covers and its rows.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Report<R> {
    /// The grouping, `null` for one row over the whole scope (or per officer).
    pub group_by: Option<String>,
    /// Start of the period (UTC), for reports over one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub from: Option<String>,
    /// End of the period (UTC, exclusive).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub to: Option<String>,
    /// The rows, ordered by their key.
    pub rows: Vec<R>,
}

/// A row that is also written as CSV: its header and its fields in the same order.
pub trait CsvRow {
    /// Column names.
    fn header() -> &'static [&'static str];
    /// The fields, as text (empty for none).
    fn fields(&self) -> Vec<String>;
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// One group of [`CoverageQuery`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CoverageRow {
    /// Kecamatan or desa code, agency id; `null` for no group (or unassigned households).
    pub key: Option<String>,
    /// The area's or agency's name.
    pub name: Option<String>,
    /// Active households (status `active`, not deleted).
    pub households: i64,
    /// Of those, with a completed visit within `days`.
    pub visited: i64,
    /// `visited / households` (0 when there are none).
    pub coverage: f64,
    /// Of those, overdue: no completed visit within `KAMPUNG_OVERDUE_DAYS`.
    pub overdue: i64,
    /// Of those, never visited with a completed visit.
    pub never_visited: i64,
}

impl CsvRow for CoverageRow {
    fn header() -> &'static [&'static str] {
        &[
            "key",
            "name",
            "households",
            "visited",
            "coverage",
            "overdue",
            "never_visited",
        ]
    }
    fn fields(&self) -> Vec<String> {
        vec![
            opt(&self.key),
            opt(&self.name),
            self.households.to_string(),
            self.visited.to_string(),
            self.coverage.to_string(),
            self.overdue.to_string(),
            self.never_visited.to_string(),
        ]
    }
}

/// The coverage report, with the windows it used.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CoverageReport {
    /// The grouping.
    pub group_by: Option<String>,
    /// The coverage window in days.
    pub days: u32,
    /// The overdue window in days (`KAMPUNG_OVERDUE_DAYS`).
    pub overdue_days: u32,
    /// When it was computed (UTC): the windows end here.
    pub as_of: String,
    /// The rows.
    pub rows: Vec<CoverageRow>,
}

/// One group of aid: a kind, source and unit within a group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AidRow {
    /// The group's key (area code, agency id, month `YYYY-MM`), `null` for none.
    pub key: Option<String>,
    /// The area's or agency's name.
    pub name: Option<String>,
    /// Kind of aid.
    pub kind: Option<String>,
    /// Source (programme, funding).
    pub source: Option<String>,
    /// Unit of the quantity.
    pub unit: Option<String>,
    /// Records, voided ones left out.
    pub count: i64,
    /// Total quantity, in `unit`.
    pub quantity: f64,
    /// Total value in rupiah.
    pub value_rupiah: i64,
}

impl CsvRow for AidRow {
    fn header() -> &'static [&'static str] {
        &[
            "key",
            "name",
            "kind",
            "source",
            "unit",
            "count",
            "quantity",
            "value_rupiah",
        ]
    }
    fn fields(&self) -> Vec<String> {
        vec![
            opt(&self.key),
            opt(&self.name),
            opt(&self.kind),
            opt(&self.source),
            opt(&self.unit),
            self.count.to_string(),
            self.quantity.to_string(),
            self.value_rupiah.to_string(),
        ]
    }
}

/// An aspect's scores in one group and month.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConditionsRow {
    /// The group's key, `null` for none (and with `group_by=month`).
    pub key: Option<String>,
    /// The area's or agency's name.
    pub name: Option<String>,
    /// Month `YYYY-MM` in WIB.
    pub month: String,
    /// Visits (not deleted) in the group and month.
    pub visits: i64,
    /// Mean `kesehatan_score` of those that have one.
    pub kesehatan_average: Option<f64>,
    /// How many have one.
    pub kesehatan_count: i64,
    /// Mean `pendidikan_score`.
    pub pendidikan_average: Option<f64>,
    /// How many have one.
    pub pendidikan_count: i64,
    /// Mean `pangan_score`.
    pub pangan_average: Option<f64>,
    /// How many have one.
    pub pangan_count: i64,
    /// Mean `papan_score`.
    pub papan_average: Option<f64>,
    /// How many have one.
    pub papan_count: i64,
    /// Mean `ekonomi_score`.
    pub ekonomi_average: Option<f64>,
    /// How many have one.
    pub ekonomi_count: i64,
}

impl CsvRow for ConditionsRow {
    fn header() -> &'static [&'static str] {
        &[
            "key",
            "name",
            "month",
            "visits",
            "kesehatan_average",
            "kesehatan_count",
            "pendidikan_average",
            "pendidikan_count",
            "pangan_average",
            "pangan_count",
            "papan_average",
            "papan_count",
            "ekonomi_average",
            "ekonomi_count",
        ]
    }
    fn fields(&self) -> Vec<String> {
        vec![
            opt(&self.key),
            opt(&self.name),
            self.month.clone(),
            self.visits.to_string(),
            opt(&self.kesehatan_average),
            self.kesehatan_count.to_string(),
            opt(&self.pendidikan_average),
            self.pendidikan_count.to_string(),
            opt(&self.pangan_average),
            self.pangan_count.to_string(),
            opt(&self.papan_average),
            self.papan_count.to_string(),
            opt(&self.ekonomi_average),
            self.ekonomi_count.to_string(),
        ]
    }
}

/// Suspect locations in one group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LocationsRow {
    /// The group's key, `null` for none.
    pub key: Option<String>,
    /// The area's or agency's name.
    pub name: Option<String>,
    /// Visits (not deleted) in the period.
    pub visits: i64,
    /// Of those, with a GPS point.
    pub with_gps: i64,
    /// Of those, reported as a mock location by the phone.
    pub mock: i64,
    /// Of those, farther from the home point than `KAMPUNG_IMPLAUSIBLE_DISTANCE_M`.
    pub implausible: i64,
    /// Mock or implausible (a visit that is both counts once).
    pub suspect: i64,
}

impl CsvRow for LocationsRow {
    fn header() -> &'static [&'static str] {
        &[
            "key",
            "name",
            "visits",
            "with_gps",
            "mock",
            "implausible",
            "suspect",
        ]
    }
    fn fields(&self) -> Vec<String> {
        vec![
            opt(&self.key),
            opt(&self.name),
            self.visits.to_string(),
            self.with_gps.to_string(),
            self.mock.to_string(),
            self.implausible.to_string(),
            self.suspect.to_string(),
        ]
    }
}

/// One of an officer's devices.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OfficerDevice {
    /// Device id.
    pub id: DeviceId,
    /// Last push received (RFC 3339), `null` for never.
    pub last_sync_at: Option<String>,
    /// Backlog: its writes held for review (refused as out of scope) and not yet resolved.
    pub held_writes: i64,
    /// Its operations in the period whose clock was too far ahead (`clock_skew`).
    pub clock_skew_writes: i64,
    /// Revoked.
    pub revoked: bool,
}

/// One officer's activity in the period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OfficerRow {
    /// User id.
    pub user_id: UserId,
    /// Sign-in name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Agency.
    pub agency_id: Option<AgencyId>,
    /// Active account.
    pub active: bool,
    /// Visits written in the period (not deleted).
    pub visits: i64,
    /// Of those, completed.
    pub completed_visits: i64,
    /// Aid records given in the period (not voided).
    pub aid: i64,
    /// Their value in rupiah.
    pub aid_value_rupiah: i64,
    /// The latest push of any of their devices.
    pub last_sync_at: Option<String>,
    /// Held writes over their devices.
    pub held_writes: i64,
    /// Clock-skewed operations over their devices.
    pub clock_skew_writes: i64,
    /// Their devices (CSV leaves the list out: the totals above are its columns).
    pub devices: Vec<OfficerDevice>,
}

impl CsvRow for OfficerRow {
    fn header() -> &'static [&'static str] {
        &[
            "user_id",
            "username",
            "display_name",
            "agency_id",
            "active",
            "visits",
            "completed_visits",
            "aid",
            "aid_value_rupiah",
            "last_sync_at",
            "held_writes",
            "clock_skew_writes",
            "devices",
        ]
    }
    fn fields(&self) -> Vec<String> {
        vec![
            self.user_id.to_string(),
            self.username.clone(),
            self.display_name.clone(),
            opt(&self.agency_id),
            self.active.to_string(),
            self.visits.to_string(),
            self.completed_visits.to_string(),
            self.aid.to_string(),
            self.aid_value_rupiah.to_string(),
            opt(&self.last_sync_at),
            self.held_writes.to_string(),
            self.clock_skew_writes.to_string(),
            self.devices.len().to_string(),
        ]
    }
}
