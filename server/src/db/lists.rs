//! The admin lists' rows and what they are selected from; the filters and the order are
//! the caller's ([`super::listing`]).

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Bool, Double, Nullable, Text};

use super::listing::Source;

/// A household with its totals and its active assignment.
#[derive(Clone, Debug, QueryableByName)]
pub struct HouseholdRow {
    /// Record id.
    #[diesel(sql_type = Text)]
    pub id: String,
    /// Registry id.
    #[diesel(sql_type = Nullable<Text>)]
    pub registry_id: Option<String>,
    /// Registry.
    #[diesel(sql_type = Nullable<Text>)]
    pub registry_source: Option<String>,
    /// Head of household.
    #[diesel(sql_type = Nullable<Text>)]
    pub head_name: Option<String>,
    /// Desa code.
    #[diesel(sql_type = Nullable<Text>)]
    pub desa_code: Option<String>,
    /// Kecamatan code.
    #[diesel(sql_type = Nullable<Text>)]
    pub kecamatan_code: Option<String>,
    /// Welfare decile.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub welfare_decile: Option<i64>,
    /// Home point.
    #[diesel(sql_type = Nullable<Double>)]
    pub home_lat: Option<f64>,
    /// Home point.
    #[diesel(sql_type = Nullable<Double>)]
    pub home_lon: Option<f64>,
    /// Status.
    #[diesel(sql_type = Nullable<Text>)]
    pub status: Option<String>,
    /// Deleted.
    #[diesel(sql_type = Bool)]
    pub deleted: bool,
    /// Concurrent values.
    #[diesel(sql_type = Bool)]
    pub conflicted: bool,
    /// Latest completed visit, UTC.
    #[diesel(sql_type = Nullable<Text>)]
    pub last_completed_visit_at: Option<String>,
    /// Visits not deleted.
    #[diesel(sql_type = BigInt)]
    pub visit_count: i64,
    /// Aid not voided.
    #[diesel(sql_type = BigInt)]
    pub aid_count: i64,
    /// Its value.
    #[diesel(sql_type = BigInt)]
    pub aid_value_rupiah: i64,
    /// The officer of the active assignment.
    #[diesel(sql_type = Nullable<Text>)]
    pub officer_id: Option<String>,
    /// That assignment's agency.
    #[diesel(sql_type = Nullable<Text>)]
    pub agency_id: Option<String>,
}

/// Households, `h`, with their active assignment, `a`.
pub const HOUSEHOLDS: Source = Source {
    select: "SELECT h.id, h.registry_id, h.registry_source, h.head_name, h.desa_code, \
             h.kecamatan_code, h.welfare_decile, h.home_lat, h.home_lon, h.status, h.deleted, \
             h.conflicted, h.last_completed_visit_at, h.visit_count, h.aid_count, \
             h.aid_value_rupiah, a.officer_id, a.agency_id \
             FROM q_households h \
             LEFT JOIN assignments a ON a.household_id = h.id AND a.ends_at IS NULL",
    id: "h.id",
};

/// A visit's row.
#[derive(Clone, Debug, QueryableByName)]
pub struct VisitRow {
    /// Record id.
    #[diesel(sql_type = Text)]
    pub id: String,
    /// Household.
    #[diesel(sql_type = Text)]
    pub household_id: String,
    /// As the device sent it.
    #[diesel(sql_type = Nullable<Text>)]
    pub visited_at: Option<String>,
    /// In UTC.
    #[diesel(sql_type = Nullable<Text>)]
    pub visited_at_utc: Option<String>,
    /// Outcome.
    #[diesel(sql_type = Nullable<Text>)]
    pub outcome: Option<String>,
    /// Score.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub kesehatan_score: Option<i64>,
    /// Score.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub pendidikan_score: Option<i64>,
    /// Score.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub pangan_score: Option<i64>,
    /// Score.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub papan_score: Option<i64>,
    /// Score.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub ekonomi_score: Option<i64>,
    /// GPS point.
    #[diesel(sql_type = Nullable<Double>)]
    pub gps_lat: Option<f64>,
    /// GPS point.
    #[diesel(sql_type = Nullable<Double>)]
    pub gps_lon: Option<f64>,
    /// Accuracy.
    #[diesel(sql_type = Nullable<Double>)]
    pub gps_accuracy_m: Option<f64>,
    /// Mock location.
    #[diesel(sql_type = Nullable<Bool>)]
    pub gps_mock: Option<bool>,
    /// Distance from the home point.
    #[diesel(sql_type = Nullable<Double>)]
    pub distance_m: Option<f64>,
    /// Deleted.
    #[diesel(sql_type = Bool)]
    pub deleted: bool,
    /// Concurrent values.
    #[diesel(sql_type = Bool)]
    pub conflicted: bool,
    /// Writer's device.
    #[diesel(sql_type = Nullable<Text>)]
    pub device_id: Option<String>,
    /// Writer.
    #[diesel(sql_type = Nullable<Text>)]
    pub user_id: Option<String>,
    /// Writer's agency.
    #[diesel(sql_type = Nullable<Text>)]
    pub agency_id: Option<String>,
    /// Review state; `None` is received.
    #[diesel(sql_type = Nullable<Text>)]
    pub review_state: Option<String>,
}

/// Visits, `v`.
pub const VISITS: Source = Source {
    select: "SELECT v.id, v.household_id, v.visited_at, v.visited_at_utc, v.outcome, \
             v.kesehatan_score, v.pendidikan_score, v.pangan_score, v.papan_score, \
             v.ekonomi_score, v.gps_lat, v.gps_lon, v.gps_accuracy_m, v.gps_mock, v.distance_m, \
             v.deleted, v.conflicted, v.device_id, v.user_id, v.agency_id, v.review_state \
             FROM q_visits v",
    id: "v.id",
};

/// An aid record's row.
#[derive(Clone, Debug, QueryableByName)]
pub struct AidRow {
    /// Record id.
    #[diesel(sql_type = Text)]
    pub id: String,
    /// Household.
    #[diesel(sql_type = Text)]
    pub household_id: String,
    /// As sent.
    #[diesel(sql_type = Nullable<Text>)]
    pub given_at: Option<String>,
    /// In UTC.
    #[diesel(sql_type = Nullable<Text>)]
    pub given_at_utc: Option<String>,
    /// Kind.
    #[diesel(sql_type = Nullable<Text>)]
    pub kind: Option<String>,
    /// Quantity.
    #[diesel(sql_type = Nullable<Double>)]
    pub quantity: Option<f64>,
    /// Unit.
    #[diesel(sql_type = Nullable<Text>)]
    pub unit: Option<String>,
    /// Value in rupiah.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub value_rupiah: Option<i64>,
    /// Source.
    #[diesel(sql_type = Nullable<Text>)]
    pub source: Option<String>,
    /// Voided.
    #[diesel(sql_type = Bool)]
    pub voided: bool,
    /// Concurrent values.
    #[diesel(sql_type = Bool)]
    pub conflicted: bool,
    /// Writer's device.
    #[diesel(sql_type = Nullable<Text>)]
    pub device_id: Option<String>,
    /// Writer.
    #[diesel(sql_type = Nullable<Text>)]
    pub user_id: Option<String>,
    /// Writer's agency.
    #[diesel(sql_type = Nullable<Text>)]
    pub agency_id: Option<String>,
}

/// Aid, `x`.
pub const AID: Source = Source {
    select: "SELECT x.id, x.household_id, x.given_at, x.given_at_utc, x.kind, x.quantity, \
             x.unit, x.value_rupiah, x.source, x.voided, x.conflicted, x.device_id, x.user_id, \
             x.agency_id FROM q_aid x",
    id: "x.id",
};

/// An officer with their households and last push.
#[derive(Clone, Debug, QueryableByName)]
pub struct OfficerRow {
    /// User id.
    #[diesel(sql_type = Text)]
    pub id: String,
    /// Sign-in name.
    #[diesel(sql_type = Text)]
    pub username: String,
    /// Display name.
    #[diesel(sql_type = Text)]
    pub display_name: String,
    /// Agency.
    #[diesel(sql_type = Nullable<Text>)]
    pub agency_id: Option<String>,
    /// Active.
    #[diesel(sql_type = Bool)]
    pub active: bool,
    /// Households actively assigned.
    #[diesel(sql_type = BigInt)]
    pub households_assigned: i64,
    /// The latest push of any of their devices, ms.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub last_push_at: Option<i64>,
}

/// Users, `u`, with their active assignments counted and their devices' last push; the
/// caller filters on the role.
pub const OFFICERS: Source = Source {
    select: "SELECT u.id, u.username, u.display_name, u.agency_id, u.active, \
             (SELECT CAST(COUNT(*) AS BIGINT) FROM assignments asg \
              WHERE asg.officer_id = u.id AND asg.ends_at IS NULL) AS households_assigned, \
             (SELECT MAX(d.last_push_at) FROM devices d WHERE d.user_id = u.id) AS last_push_at \
             FROM users u",
    id: "u.id",
};

/// Devices, `d`, with their owners, `u`.
pub const DEVICES: Source = Source {
    select: "SELECT d.id, d.user_id, u.username, u.role, u.agency_id, d.last_seq, d.revoked, \
             d.revoked_at, d.revoked_reason, d.seq_reuse_count, d.kind, d.created_at, \
             d.last_push_at FROM devices d JOIN users u ON u.id = d.user_id",
    id: "d.id",
};

/// Assignments, `s`.
pub const ASSIGNMENTS: Source = Source {
    select: "SELECT s.id, s.household_id, s.officer_id, s.agency_id, s.starts_at, s.ends_at, \
             s.reason, s.end_reason, s.assigned_by, s.ended_by FROM assignments s",
    id: "s.id",
};
