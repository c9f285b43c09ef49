//! The typed query tables (`q_households`, `q_visits`, `q_aid`): one row per record, computed
//! by `sync_protocol::rows::typed_row` from its merge state and written with it, plus who
//! wrote a visit or aid record (the device from the state, its user and agency from the
//! device's registration). [`rebuild`] recomputes every row from the states; [`verify`]
//! lists where the tables differ from what the states say.

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;
use sync_protocol::rows::{AidRow, HouseholdRow, TypedRow, VisitRow, typed_row};
use sync_protocol::{Collection, RecordState};

use super::schema::{devices, q_aid, q_households, q_visits, records, users};
use super::{AnyConnection, DbResult, per_backend, records as record_rows};

/// Rows per multi-row insert: 20 columns each stays far under SQLite's 32,766 and
/// PostgreSQL's 65,535 bound parameters, and a batch of 500 is one statement.
const ROWS_PER_INSERT: usize = 1000;

/// A household's stored row.
#[derive(Clone, Debug, PartialEq, Insertable, Queryable)]
#[diesel(table_name = q_households)]
pub struct QHousehold {
    id: String,
    registry_id: Option<String>,
    registry_source: Option<String>,
    head_name: Option<String>,
    desa_code: Option<String>,
    kecamatan_code: Option<String>,
    welfare_decile: Option<i64>,
    home_lat: Option<f64>,
    home_lon: Option<f64>,
    status: Option<String>,
    deleted: bool,
    conflicted: bool,
}

/// A visit's stored row.
#[derive(Clone, Debug, PartialEq, Insertable, Queryable)]
#[diesel(table_name = q_visits)]
pub struct QVisit {
    id: String,
    household_id: String,
    visited_at: Option<String>,
    outcome: Option<String>,
    kesehatan_score: Option<i64>,
    pendidikan_score: Option<i64>,
    pangan_score: Option<i64>,
    papan_score: Option<i64>,
    ekonomi_score: Option<i64>,
    gps_lat: Option<f64>,
    gps_lon: Option<f64>,
    gps_accuracy_m: Option<f64>,
    gps_mock: Option<bool>,
    next_visit_due: Option<String>,
    amends: Option<String>,
    deleted: bool,
    conflicted: bool,
    device_id: Option<String>,
    user_id: Option<String>,
    agency_id: Option<String>,
}

/// An aid record's stored row.
#[derive(Clone, Debug, PartialEq, Insertable, Queryable)]
#[diesel(table_name = q_aid)]
pub struct QAid {
    id: String,
    household_id: String,
    given_at: Option<String>,
    kind: Option<String>,
    quantity: Option<f64>,
    unit: Option<String>,
    value_rupiah: Option<i64>,
    source: Option<String>,
    voided: bool,
    conflicted: bool,
    device_id: Option<String>,
    user_id: Option<String>,
    agency_id: Option<String>,
}

/// The rows of a set of records, by table.
#[derive(Debug, Default, PartialEq)]
struct Rows {
    households: Vec<QHousehold>,
    visits: Vec<QVisit>,
    aid: Vec<QAid>,
}

/// A device's user and agency.
type Writers = HashMap<String, (String, Option<String>)>;

fn writers_of(conn: &mut AnyConnection, states: &[&RecordState]) -> DbResult<Writers> {
    let mut wanted: Vec<String> = states
        .iter()
        .filter_map(|s| match typed_row(s)? {
            TypedRow::Visit(v) => v.device_id,
            TypedRow::Aid(a) => a.device_id,
            TypedRow::Household(_) => None,
        })
        .map(|d| d.to_string())
        .collect();
    wanted.sort();
    wanted.dedup();
    let mut out = Writers::new();
    for chunk in wanted.chunks(record_rows::CHUNK) {
        let found: Vec<(String, String, Option<String>)> = devices::table
            .inner_join(users::table)
            .filter(devices::id.eq_any(chunk))
            .select((devices::id, devices::user_id, users::agency_id))
            .load(conn)?;
        out.extend(found.into_iter().map(|(d, u, a)| (d, (u, a))));
    }
    Ok(out)
}

fn rows_of(states: &[&RecordState], writers: &Writers) -> Rows {
    let mut rows = Rows::default();
    let who = |d: Option<sync_protocol::DeviceId>| {
        let device = d.map(|d| d.to_string());
        let (user, agency) = device
            .as_ref()
            .and_then(|d| writers.get(d).cloned())
            .map_or((None, None), |(u, a)| (Some(u), a));
        (device, user, agency)
    };
    for s in states {
        match typed_row(s) {
            None => {}
            Some(TypedRow::Household(h)) => rows.households.push(household(h)),
            Some(TypedRow::Visit(v)) => {
                let (device_id, user_id, agency_id) = who(v.device_id);
                rows.visits.push(visit(v, device_id, user_id, agency_id));
            }
            Some(TypedRow::Aid(a)) => {
                let (device_id, user_id, agency_id) = who(a.device_id);
                rows.aid.push(aid(a, device_id, user_id, agency_id));
            }
        }
    }
    rows
}

fn household(h: HouseholdRow) -> QHousehold {
    QHousehold {
        id: h.id,
        registry_id: h.registry_id,
        registry_source: h.registry_source,
        head_name: h.head_name,
        desa_code: h.desa_code,
        kecamatan_code: h.kecamatan_code,
        welfare_decile: h.welfare_decile,
        home_lat: h.home_lat,
        home_lon: h.home_lon,
        status: h.status,
        deleted: h.deleted,
        conflicted: h.conflicted,
    }
}

fn visit(
    v: VisitRow,
    device_id: Option<String>,
    user_id: Option<String>,
    agency_id: Option<String>,
) -> QVisit {
    let [
        kesehatan_score,
        pendidikan_score,
        pangan_score,
        papan_score,
        ekonomi_score,
    ] = v.scores;
    QVisit {
        id: v.id,
        household_id: v.household_id,
        visited_at: v.visited_at,
        outcome: v.outcome,
        kesehatan_score,
        pendidikan_score,
        pangan_score,
        papan_score,
        ekonomi_score,
        gps_lat: v.gps_lat,
        gps_lon: v.gps_lon,
        gps_accuracy_m: v.gps_accuracy_m,
        gps_mock: v.gps_mock,
        next_visit_due: v.next_visit_due,
        amends: v.amends,
        deleted: v.deleted,
        conflicted: v.conflicted,
        device_id,
        user_id,
        agency_id,
    }
}

fn aid(
    a: AidRow,
    device_id: Option<String>,
    user_id: Option<String>,
    agency_id: Option<String>,
) -> QAid {
    QAid {
        id: a.id,
        household_id: a.household_id,
        given_at: a.given_at,
        kind: a.kind,
        quantity: a.quantity,
        unit: a.unit,
        value_rupiah: a.value_rupiah,
        source: a.source,
        voided: a.voided,
        conflicted: a.conflicted,
        device_id,
        user_id,
        agency_id,
    }
}

/// Writes the rows of `states` (each replaced whole), in the caller's transaction: one
/// lookup of the writers, then a delete and a multi-row insert per table per chunk.
pub fn save(conn: &mut AnyConnection, states: &[&RecordState]) -> DbResult<()> {
    if states.is_empty() {
        return Ok(());
    }
    let writers = writers_of(conn, states)?;
    let rows = rows_of(states, &writers);
    // A record's collection never changes, so its row can only be in its own table.
    let of = |c: Collection| -> Vec<String> {
        states
            .iter()
            .filter(|s| s.collection == c)
            .map(|s| s.id.to_string())
            .collect()
    };
    for chunk in of(Collection::Households).chunks(record_rows::CHUNK) {
        diesel::delete(q_households::table.filter(q_households::id.eq_any(chunk))).execute(conn)?;
    }
    for chunk in of(Collection::Visits).chunks(record_rows::CHUNK) {
        diesel::delete(q_visits::table.filter(q_visits::id.eq_any(chunk))).execute(conn)?;
    }
    for chunk in of(Collection::Aid).chunks(record_rows::CHUNK) {
        diesel::delete(q_aid::table.filter(q_aid::id.eq_any(chunk))).execute(conn)?;
    }
    for chunk in rows.households.chunks(ROWS_PER_INSERT) {
        per_backend!(conn, c => diesel::insert_into(q_households::table).values(chunk).execute(c))?;
    }
    for chunk in rows.visits.chunks(ROWS_PER_INSERT) {
        per_backend!(conn, c => diesel::insert_into(q_visits::table).values(chunk).execute(c))?;
    }
    for chunk in rows.aid.chunks(ROWS_PER_INSERT) {
        per_backend!(conn, c => diesel::insert_into(q_aid::table).values(chunk).execute(c))?;
    }
    Ok(())
}

/// Every record's state, a chunk at a time, in id order.
fn for_each_chunk(
    conn: &mut AnyConnection,
    mut f: impl FnMut(&mut AnyConnection, Vec<RecordState>) -> DbResult<()>,
) -> DbResult<()> {
    let mut after = String::new();
    loop {
        let ids: Vec<String> = records::table
            .filter(records::version.gt(0))
            .filter(records::id.gt(&after))
            .order(records::id)
            .limit(i64::try_from(record_rows::CHUNK).unwrap_or(1000))
            .select(records::id)
            .load(conn)?;
        let Some(last) = ids.last().cloned() else {
            return Ok(());
        };
        let parsed: Vec<sync_protocol::RecordId> =
            ids.iter().filter_map(|i| i.parse().ok()).collect();
        let states: BTreeMap<String, RecordState> = record_rows::load_many(conn, &parsed)?
            .into_values()
            .map(|s| (s.id.to_string(), s))
            .collect();
        f(conn, states.into_values().collect())?;
        after = last;
    }
}

/// Empties the typed tables and writes every record's row again from its state. Returns
/// how many records it wrote. Run in one write transaction by the caller.
pub fn rebuild(conn: &mut AnyConnection) -> DbResult<u64> {
    diesel::delete(q_households::table).execute(conn)?;
    diesel::delete(q_visits::table).execute(conn)?;
    diesel::delete(q_aid::table).execute(conn)?;
    let mut n = 0u64;
    for_each_chunk(conn, |c, states| {
        let refs: Vec<&RecordState> = states.iter().collect();
        save(c, &refs)?;
        n += refs.len() as u64;
        Ok(())
    })?;
    Ok(n)
}

/// Where the typed tables differ from the rows the states give: one line per record (a
/// missing, extra or different row). Empty when they agree.
pub fn verify(conn: &mut AnyConnection) -> DbResult<Vec<String>> {
    let mut expected = Rows::default();
    for_each_chunk(conn, |c, states| {
        let refs: Vec<&RecordState> = states.iter().collect();
        let writers = writers_of(c, &refs)?;
        let rows = rows_of(&refs, &writers);
        expected.households.extend(rows.households);
        expected.visits.extend(rows.visits);
        expected.aid.extend(rows.aid);
        Ok(())
    })?;
    let stored = Rows {
        households: q_households::table.order(q_households::id).load(conn)?,
        visits: q_visits::table.order(q_visits::id).load(conn)?,
        aid: q_aid::table.order(q_aid::id).load(conn)?,
    };
    let mut out = Vec::new();
    diff(
        "q_households",
        &expected.households,
        &stored.households,
        |r| &r.id,
        &mut out,
    );
    diff(
        "q_visits",
        &expected.visits,
        &stored.visits,
        |r| &r.id,
        &mut out,
    );
    diff("q_aid", &expected.aid, &stored.aid, |r| &r.id, &mut out);
    Ok(out)
}

fn diff<T: PartialEq + std::fmt::Debug>(
    table: &str,
    expected: &[T],
    stored: &[T],
    id: impl Fn(&T) -> &String,
    out: &mut Vec<String>,
) {
    let want: BTreeMap<&String, &T> = expected.iter().map(|r| (id(r), r)).collect();
    let have: BTreeMap<&String, &T> = stored.iter().map(|r| (id(r), r)).collect();
    for (k, w) in &want {
        match have.get(k) {
            None => out.push(format!("{table} {k}: missing")),
            Some(h) if h != w => {
                out.push(format!("{table} {k}: stored {h:?}, the state gives {w:?}"))
            }
            Some(_) => {}
        }
    }
    for k in have.keys().filter(|k| !want.contains_key(*k)) {
        out.push(format!("{table} {k}: no record has this row"));
    }
}
