//! A record's row in the typed query tables, computed from its merge state alone: the
//! winning value of every field, whether it is deleted or in conflict, and which device
//! wrote it. The server writes these rows in the same transaction as the state, and can
//! rebuild and verify them at any time from the states, because nothing else goes in.

use serde_json::{Map, Value};

use crate::ids::DeviceId;
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

/// A record's typed row.
#[derive(Clone, Debug, PartialEq)]
pub enum TypedRow {
    /// Of `households`.
    Household(HouseholdRow),
    /// Of `visits`.
    Visit(VisitRow),
    /// Of `aid`.
    Aid(AidRow),
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
    })
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
