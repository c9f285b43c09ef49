//! Reads of the typed query tables for supervisors' reports.

use diesel::prelude::*;

use super::schema::{q_aid, q_households, q_visits};
use super::{AnyConnection, DbResult};

/// A household's row with its totals.
#[derive(Clone, Debug, Queryable)]
pub struct HouseholdFacts {
    /// Record id.
    pub id: String,
    /// Registry id.
    pub registry_id: Option<String>,
    /// Registry the id belongs to.
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
    /// Some field holds concurrent values.
    pub conflicted: bool,
    /// Latest completed visit, UTC.
    pub last_completed_visit_at: Option<String>,
    /// Visits not deleted.
    pub visit_count: i64,
    /// Aid not voided.
    pub aid_count: i64,
    /// Value of that aid.
    pub aid_value_rupiah: i64,
}

/// Scores per aspect, in the order of `sync_protocol::schema::ASPECTS`.
pub type Scores = (
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// A visit's row, as a report shows it.
#[derive(Clone, Debug, Queryable)]
pub struct VisitFacts {
    /// Record id.
    pub id: String,
    /// As the device sent it.
    pub visited_at: Option<String>,
    /// The same instant in UTC.
    pub visited_at_utc: Option<String>,
    /// Outcome.
    pub outcome: Option<String>,
    /// Scores per aspect, in the order of `sync_protocol::schema::ASPECTS`.
    pub scores: Scores,
    /// GPS point.
    pub gps_lat: Option<f64>,
    /// GPS point.
    pub gps_lon: Option<f64>,
    /// GPS accuracy.
    pub gps_accuracy_m: Option<f64>,
    /// Mock location reported.
    pub gps_mock: Option<bool>,
    /// Distance from the home point.
    pub distance_m: Option<f64>,
    /// Deleted.
    pub deleted: bool,
    /// Concurrent values.
    pub conflicted: bool,
    /// Writer's device.
    pub device_id: Option<String>,
    /// Writer.
    pub user_id: Option<String>,
    /// Writer's agency.
    pub agency_id: Option<String>,
    /// The visit it amends.
    pub amends: Option<String>,
    /// Its review: state (`None` for `received`), comment, when, by whom.
    pub review: ReviewFacts,
}

/// A visit's review columns: state, comment, reviewed at, reviewed by.
pub type ReviewFacts = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// An aid record's row, as a report shows it.
#[derive(Clone, Debug, Queryable)]
pub struct AidFacts {
    /// Record id.
    pub id: String,
    /// When given, as sent.
    pub given_at: Option<String>,
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
    /// Writer's device.
    pub device_id: Option<String>,
    /// Writer.
    pub user_id: Option<String>,
    /// Writer's agency.
    pub agency_id: Option<String>,
}

/// A household with all its visits and aid records (deleted and voided ones included).
#[derive(Clone, Debug)]
pub struct HouseholdWithHistory {
    /// The household.
    pub household: HouseholdFacts,
    /// Its visits, newest first.
    pub visits: Vec<VisitFacts>,
    /// Its aid, in stored order.
    pub aid: Vec<AidFacts>,
}

/// Household `id` with its history, `None` when it has no row. Run in a read transaction,
/// so that the totals and the lists agree.
pub fn household(conn: &mut AnyConnection, id: &str) -> DbResult<Option<HouseholdWithHistory>> {
    let Some(household) = q_households::table
        .find(id)
        .select((
            q_households::id,
            q_households::registry_id,
            q_households::registry_source,
            q_households::head_name,
            q_households::desa_code,
            q_households::kecamatan_code,
            q_households::welfare_decile,
            q_households::home_lat,
            q_households::home_lon,
            q_households::status,
            q_households::deleted,
            q_households::conflicted,
            q_households::last_completed_visit_at,
            q_households::visit_count,
            q_households::aid_count,
            q_households::aid_value_rupiah,
        ))
        .first::<HouseholdFacts>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let visits = q_visits::table
        .filter(q_visits::household_id.eq(id))
        .order((q_visits::visited_at_utc.desc(), q_visits::id))
        .select((
            q_visits::id,
            q_visits::visited_at,
            q_visits::visited_at_utc,
            q_visits::outcome,
            (
                q_visits::kesehatan_score,
                q_visits::pendidikan_score,
                q_visits::pangan_score,
                q_visits::papan_score,
                q_visits::ekonomi_score,
            ),
            q_visits::gps_lat,
            q_visits::gps_lon,
            q_visits::gps_accuracy_m,
            q_visits::gps_mock,
            q_visits::distance_m,
            q_visits::deleted,
            q_visits::conflicted,
            q_visits::device_id,
            q_visits::user_id,
            q_visits::agency_id,
            q_visits::amends,
            (
                q_visits::review_state,
                q_visits::review_comment,
                q_visits::reviewed_at,
                q_visits::reviewed_by,
            ),
        ))
        .load::<VisitFacts>(conn)?;
    let aid = q_aid::table
        .filter(q_aid::household_id.eq(id))
        .order((q_aid::given_at.desc(), q_aid::id))
        .select((
            q_aid::id,
            q_aid::given_at,
            q_aid::kind,
            q_aid::quantity,
            q_aid::unit,
            q_aid::value_rupiah,
            q_aid::source,
            q_aid::voided,
            q_aid::conflicted,
            q_aid::device_id,
            q_aid::user_id,
            q_aid::agency_id,
        ))
        .load::<AidFacts>(conn)?;
    Ok(Some(HouseholdWithHistory {
        household,
        visits,
        aid,
    }))
}
