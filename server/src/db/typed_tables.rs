//! The typed query tables (`q_households`, `q_visits`, `q_aid`): one row per record, computed
//! by `sync_protocol::rows::typed_row` from its merge state and written with it, plus who
//! wrote a visit or aid record (the device from the state, its user and agency from the
//! device's registration). [`rebuild`] recomputes every row from the states; [`verify`]
//! lists where the tables differ from what the states say.
//!
//! Derived columns join records: a visit's `distance_m` needs its household's home point,
//! and a household's totals (`last_completed_visit_at`, `visit_count`, `aid_count`,
//! `aid_value_rupiah`) its visits and aid. [`save`] keeps them in the batch's transaction
//! whichever arrives first: a visit written before its household gets its distance when
//! the household comes, and moving a home point recomputes its stored visits' distances.
//! A visit's and an aid record's `kecamatan_code` and `desa_code` are their household's
//! (for the reports by area, which then need no join) and follow it the same way.
//! A visit's review (a `reviews` record, which has no table of its own) goes in the visit's
//! row, `review_*`: a visit written looks its review up by the derived id, and a review
//! written updates its visit's row.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;
use sync_protocol::review::review_id;
use sync_protocol::rows::{
    AidRow, COMPLETED, HouseholdRow, HouseholdTotals, ReviewRow, TypedRow, VisitRow,
    point_distance_m, typed_row,
};
use sync_protocol::{Collection, RecordId, RecordState};

use super::schema::{devices, q_aid, q_households, q_visits, records, users};
use super::{AnyConnection, DbResult, per_backend, records as record_rows};

/// Rows per multi-row insert: 28 columns each (`q_visits`) stays under SQLite's 32,766 and
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
    last_completed_visit_at: Option<String>,
    visit_count: i64,
    aid_count: i64,
    aid_value_rupiah: i64,
}

impl QHousehold {
    fn home_point(&self) -> Option<(f64, f64)> {
        Some((self.home_lat?, self.home_lon?))
    }

    fn place(&self) -> Place {
        Place {
            home: self.home_point(),
            kecamatan_code: self.kecamatan_code.clone(),
            desa_code: self.desa_code.clone(),
        }
    }
}

/// What a visit's and an aid record's derived columns take from their household: the home
/// point (a visit's distance) and the area.
#[derive(Clone, Debug, Default, PartialEq)]
struct Place {
    home: Option<(f64, f64)>,
    kecamatan_code: Option<String>,
    desa_code: Option<String>,
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
    visited_at_utc: Option<String>,
    distance_m: Option<f64>,
    review_state: Option<String>,
    review_comment: Option<String>,
    reviewed_at: Option<String>,
    reviewed_by: Option<String>,
    kecamatan_code: Option<String>,
    desa_code: Option<String>,
}

impl QVisit {
    fn gps_point(&self) -> Option<(f64, f64)> {
        Some((self.gps_lat?, self.gps_lon?))
    }

    fn set_place(&mut self, place: Option<&Place>) {
        self.distance_m = point_distance_m(self.gps_point(), place.and_then(|p| p.home));
        self.kecamatan_code = place.and_then(|p| p.kecamatan_code.clone());
        self.desa_code = place.and_then(|p| p.desa_code.clone());
    }
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
    given_at_utc: Option<String>,
    kecamatan_code: Option<String>,
    desa_code: Option<String>,
}

impl QAid {
    fn set_place(&mut self, place: Option<&Place>) {
        self.kecamatan_code = place.and_then(|p| p.kecamatan_code.clone());
        self.desa_code = place.and_then(|p| p.desa_code.clone());
    }
}

/// What a visit's row keeps of its review record (`q_visits.review_*`): all `None` while
/// nobody has reviewed it, and after its review is deleted.
#[derive(Clone, Debug, Default, PartialEq)]
struct ReviewColumns {
    state: Option<String>,
    comment: Option<String>,
    at: Option<String>,
    by: Option<String>,
}

impl QVisit {
    fn set_review(&mut self, r: ReviewColumns) {
        self.review_state = r.state;
        self.review_comment = r.comment;
        self.reviewed_at = r.at;
        self.reviewed_by = r.by;
    }
}

/// The rows of a set of records, by table. Reviews have no table: their columns go in
/// their visits' rows.
#[derive(Debug, Default, PartialEq)]
struct Rows {
    households: Vec<QHousehold>,
    visits: Vec<QVisit>,
    aid: Vec<QAid>,
    /// By visit id.
    reviews: BTreeMap<String, ReviewColumns>,
}

/// A device's user and agency.
type Writers = HashMap<String, (String, Option<String>)>;

fn writers_of(conn: &mut AnyConnection, states: &[&RecordState]) -> DbResult<Writers> {
    let mut wanted: Vec<String> = states
        .iter()
        .filter_map(|s| match typed_row(s)? {
            TypedRow::Visit(v) => v.device_id,
            TypedRow::Aid(a) => a.device_id,
            TypedRow::Review(r) => r.device_id,
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
            Some(TypedRow::Review(r)) => {
                let (_, user_id, _) = who(r.device_id);
                if let Some((visit, columns)) = review(r, user_id) {
                    rows.reviews.insert(visit, columns);
                }
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
        // Totals come from other records' rows: [`save`] sets them once those are written.
        last_completed_visit_at: None,
        visit_count: 0,
        aid_count: 0,
        aid_value_rupiah: 0,
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
        visited_at_utc: v.visited_at_utc,
        // From the household's row, which [`save`] looks up.
        distance_m: None,
        review_state: None,
        review_comment: None,
        reviewed_at: None,
        reviewed_by: None,
        kecamatan_code: None,
        desa_code: None,
    }
}

/// The visit a review is of, and what its row keeps of it; `None` for a review that
/// names no visit (it cannot be written so: `visit_id` is required).
fn review(r: ReviewRow, user_id: Option<String>) -> Option<(String, ReviewColumns)> {
    let visit = r.visit_id?;
    if r.deleted {
        return Some((visit, ReviewColumns::default()));
    }
    Some((
        visit,
        ReviewColumns {
            state: r.state,
            comment: r.comment,
            at: r.reviewed_at,
            by: user_id,
        },
    ))
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
        given_at_utc: a.given_at_utc,
        kecamatan_code: None,
        desa_code: None,
    }
}

/// Writes the rows of `states` (each replaced whole), in the caller's transaction: one
/// lookup of the writers, then a delete and a multi-row insert per table per chunk, then
/// the derived columns of what the batch touched.
pub fn save(conn: &mut AnyConnection, states: &[&RecordState]) -> DbResult<()> {
    if states.is_empty() {
        return Ok(());
    }
    // The stored reviews of the visits written without theirs: a review may come first.
    let stored_reviews = reviews_of_visits(conn, states)?;
    let with_reviews: Vec<&RecordState> = states
        .iter()
        .copied()
        .chain(stored_reviews.iter())
        .collect();
    let writers = writers_of(conn, &with_reviews)?;
    let mut rows = rows_of(&with_reviews, &writers);
    for v in &mut rows.visits {
        v.set_review(rows.reviews.remove(&v.id).unwrap_or_default());
    }
    // A record's collection never changes, so its row can only be in its own table.
    let of = |c: Collection| -> Vec<String> {
        states
            .iter()
            .filter(|s| s.collection == c)
            .map(|s| s.id.to_string())
            .collect()
    };
    let (household_ids, visit_ids, aid_ids) = (
        of(Collection::Households),
        of(Collection::Visits),
        of(Collection::Aid),
    );
    // Whose totals can change: the households written, and those the visits and aid
    // written belong to now or belonged to before (a concurrent write can move one).
    let mut touched: BTreeSet<String> = household_ids.iter().cloned().collect();
    touched.extend(rows.visits.iter().map(|v| v.household_id.clone()));
    touched.extend(rows.aid.iter().map(|a| a.household_id.clone()));
    touched.extend(stored_households_of(conn, &visit_ids, &aid_ids)?);
    let places_before = places(conn, &household_ids)?;

    for chunk in household_ids.chunks(record_rows::CHUNK) {
        diesel::delete(q_households::table.filter(q_households::id.eq_any(chunk))).execute(conn)?;
    }
    for chunk in visit_ids.chunks(record_rows::CHUNK) {
        diesel::delete(q_visits::table.filter(q_visits::id.eq_any(chunk))).execute(conn)?;
    }
    for chunk in aid_ids.chunks(record_rows::CHUNK) {
        diesel::delete(q_aid::table.filter(q_aid::id.eq_any(chunk))).execute(conn)?;
    }

    // The batch's visits and aid take the batch's households, else the stored ones.
    let mut place_of: HashMap<String, Place> = rows
        .households
        .iter()
        .map(|h| (h.id.clone(), h.place()))
        .collect();
    let mut elsewhere: Vec<String> = rows
        .visits
        .iter()
        .map(|v| &v.household_id)
        .chain(rows.aid.iter().map(|a| &a.household_id))
        .filter(|h| !place_of.contains_key(*h))
        .cloned()
        .collect();
    elsewhere.sort();
    elsewhere.dedup();
    place_of.extend(places(conn, &elsewhere)?);
    for v in &mut rows.visits {
        v.set_place(place_of.get(&v.household_id));
    }
    for a in &mut rows.aid {
        a.set_place(place_of.get(&a.household_id));
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

    // Visits stored earlier whose household this batch gave a new home point, or wrote for
    // the first time (its visits may have come first); and visits and aid stored earlier
    // whose household it gave a new area, or wrote for the first time.
    let moved: Vec<String> = rows
        .households
        .iter()
        .filter(|h| places_before.get(&h.id).map(|p| p.home) != Some(h.home_point()))
        .map(|h| h.id.clone())
        .collect();
    let written: BTreeSet<&str> = visit_ids.iter().map(String::as_str).collect();
    remeasure(conn, &moved, &place_of, &written)?;
    let rezoned: Vec<String> = rows
        .households
        .iter()
        .filter(|h| {
            places_before.get(&h.id).is_none_or(|p| {
                (&p.kecamatan_code, &p.desa_code) != (&h.kecamatan_code, &h.desa_code)
            })
        })
        .map(|h| h.id.clone())
        .collect();
    rezone(conn, &rezoned)?;

    // Reviews of visits stored earlier; one of a visit not stored yet waits for it (above).
    for (visit, r) in std::mem::take(&mut rows.reviews) {
        diesel::update(q_visits::table.find(&visit))
            .set((
                q_visits::review_state.eq(r.state),
                q_visits::review_comment.eq(r.comment),
                q_visits::reviewed_at.eq(r.at),
                q_visits::reviewed_by.eq(r.by),
            ))
            .execute(conn)?;
    }

    let touched: Vec<String> = touched.into_iter().collect();
    update_totals(conn, &touched)
}

/// The stored review records of the visits in `states` whose review is not among them.
/// One lookup by primary key per chunk: a review's id is derived from its visit's.
fn reviews_of_visits(
    conn: &mut AnyConnection,
    states: &[&RecordState],
) -> DbResult<Vec<RecordState>> {
    let in_batch: BTreeSet<RecordId> = states
        .iter()
        .filter(|s| s.collection == Collection::Reviews)
        .map(|s| s.id)
        .collect();
    let wanted: Vec<RecordId> = states
        .iter()
        .filter(|s| s.collection == Collection::Visits)
        .map(|s| review_id(s.id))
        .filter(|id| !in_batch.contains(id))
        .collect();
    let mut out = Vec::new();
    for chunk in wanted.chunks(record_rows::CHUNK) {
        out.extend(
            record_rows::load_many(conn, chunk)?
                .into_values()
                .filter(|s| s.collection == Collection::Reviews),
        );
    }
    Ok(out)
}

/// A stored visit's id, household, GPS point and distance.
type StoredVisitPoint = (String, String, Option<f64>, Option<f64>, Option<f64>);

/// The households the stored rows of these visits and aid records belong to.
fn stored_households_of(
    conn: &mut AnyConnection,
    visit_ids: &[String],
    aid_ids: &[String],
) -> DbResult<Vec<String>> {
    let mut out = Vec::new();
    for chunk in visit_ids.chunks(record_rows::CHUNK) {
        let found: Vec<String> = q_visits::table
            .filter(q_visits::id.eq_any(chunk))
            .select(q_visits::household_id)
            .load(conn)?;
        out.extend(found);
    }
    for chunk in aid_ids.chunks(record_rows::CHUNK) {
        let found: Vec<String> = q_aid::table
            .filter(q_aid::id.eq_any(chunk))
            .select(q_aid::household_id)
            .load(conn)?;
        out.extend(found);
    }
    Ok(out)
}

/// Recomputes the distances of the stored visits of `households` (whose home points are in
/// `homes`), except the visits `written` by this batch, which already have theirs. Only a
/// distance that changes is written: a batch that moves a home point rewrites its visits,
/// one that does not rewrites none.
fn remeasure(
    conn: &mut AnyConnection,
    households: &[String],
    homes: &HashMap<String, Place>,
    written: &BTreeSet<&str>,
) -> DbResult<()> {
    for chunk in households.chunks(record_rows::CHUNK) {
        let stored: Vec<StoredVisitPoint> = q_visits::table
            .filter(q_visits::household_id.eq_any(chunk))
            .filter(q_visits::gps_lat.is_not_null())
            .filter(q_visits::gps_lon.is_not_null())
            .select((
                q_visits::id,
                q_visits::household_id,
                q_visits::gps_lat,
                q_visits::gps_lon,
                q_visits::distance_m,
            ))
            .load(conn)?;
        for (id, household, lat, lon, old) in stored {
            if written.contains(id.as_str()) {
                continue;
            }
            let gps = lat.zip(lon);
            let new = point_distance_m(gps, homes.get(&household).and_then(|p| p.home));
            if new != old {
                diesel::update(q_visits::table.find(&id))
                    .set(q_visits::distance_m.eq(new))
                    .execute(conn)?;
            }
        }
    }

    Ok(())
}

/// A stored household's id, home point and area.
type StoredPlace = (
    String,
    Option<f64>,
    Option<f64>,
    Option<String>,
    Option<String>,
);

/// The stored home points and areas of `ids` that have a row.
fn places(conn: &mut AnyConnection, ids: &[String]) -> DbResult<HashMap<String, Place>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(record_rows::CHUNK) {
        let found: Vec<StoredPlace> = q_households::table
            .filter(q_households::id.eq_any(chunk))
            .select((
                q_households::id,
                q_households::home_lat,
                q_households::home_lon,
                q_households::kecamatan_code,
                q_households::desa_code,
            ))
            .load(conn)?;
        out.extend(
            found
                .into_iter()
                .map(|(id, lat, lon, kecamatan_code, desa_code)| {
                    let place = Place {
                        home: lat.zip(lon),
                        kecamatan_code,
                        desa_code,
                    };
                    (id, place)
                }),
        );
    }
    Ok(out)
}

/// Gives the stored visits and aid of `households` their households' stored area: one
/// statement per table and chunk, which touches no row when the households have none (a
/// household import writes its households first).
fn rezone(conn: &mut AnyConnection, households: &[String]) -> DbResult<()> {
    for table in ["q_visits", "q_aid"] {
        per_chunk_of_ids(conn, households, |n, param| rezone_sql(table, n, param))?;
    }
    Ok(())
}

/// The statement of [`rezone`] for `table` and `n` households, with `param(i)` the i-th
/// placeholder.
fn rezone_sql(table: &str, n: usize, param: &dyn Fn(usize) -> String) -> String {
    let params: Vec<String> = (0..n).map(param).collect();
    format!(
        "UPDATE {table} SET \
         kecamatan_code = (SELECT h.kecamatan_code FROM q_households h \
             WHERE h.id = {table}.household_id), \
         desa_code = (SELECT h.desa_code FROM q_households h \
             WHERE h.id = {table}.household_id) \
         WHERE household_id IN ({})",
        params.join(", ")
    )
}

/// Recomputes the totals of `households` from their visit and aid rows: one statement per
/// chunk, with correlated subqueries that both databases run alike. Households without a
/// row yet are skipped; their totals are set when their row is written.
fn update_totals(conn: &mut AnyConnection, households: &[String]) -> DbResult<()> {
    per_chunk_of_ids(conn, households, totals_sql)
}

/// Runs `sql(n, param)`, a statement over `n` ids with `param(i)` the i-th placeholder, once
/// per chunk of `ids`, each id bound as text.
fn per_chunk_of_ids(
    conn: &mut AnyConnection,
    ids: &[String],
    sql: impl Fn(usize, &dyn Fn(usize) -> String) -> String,
) -> DbResult<()> {
    for chunk in ids.chunks(record_rows::CHUNK) {
        match conn {
            AnyConnection::Sqlite(c) => {
                let mut q =
                    diesel::sql_query(sql(chunk.len(), &|_| "?".into())).into_boxed::<Sqlite>();
                for id in chunk {
                    q = q.bind::<Text, _>(id);
                }
                q.execute(c)?;
            }
            AnyConnection::Postgresql(c) => {
                let mut q = diesel::sql_query(sql(chunk.len(), &|i| format!("${}", i + 1)))
                    .into_boxed::<Pg>();
                for id in chunk {
                    q = q.bind::<Text, _>(id);
                }
                q.execute(c)?;
            }
        }
    }
    Ok(())
}

/// The totals statement for `n` households, with `param(i)` the i-th placeholder. The
/// rules are those of [`HouseholdTotals`], which [`verify`] applies to check these.
fn totals_sql(n: usize, param: &dyn Fn(usize) -> String) -> String {
    let params: Vec<String> = (0..n).map(param).collect();
    // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back so both read an i64.
    format!(
        "UPDATE q_households SET \
         visit_count = (SELECT COUNT(*) FROM q_visits v \
             WHERE v.household_id = q_households.id AND NOT v.deleted), \
         last_completed_visit_at = (SELECT MAX(v.visited_at_utc) FROM q_visits v \
             WHERE v.household_id = q_households.id AND NOT v.deleted \
             AND v.outcome = '{COMPLETED}'), \
         aid_count = (SELECT COUNT(*) FROM q_aid a \
             WHERE a.household_id = q_households.id AND NOT a.voided), \
         aid_value_rupiah = (SELECT CAST(COALESCE(SUM(a.value_rupiah), 0) AS BIGINT) \
             FROM q_aid a WHERE a.household_id = q_households.id AND NOT a.voided) \
         WHERE id IN ({})",
        params.join(", ")
    )
}

/// Sets the derived columns of `rows` from one another, as [`save`] keeps them in the
/// tables: the oracle [`verify`] checks the tables against.
fn derive(rows: &mut Rows) {
    let places: HashMap<&str, Place> = rows
        .households
        .iter()
        .map(|h| (h.id.as_str(), h.place()))
        .collect();
    let mut totals: HashMap<&str, HouseholdTotals> = HashMap::new();
    for v in &mut rows.visits {
        v.set_place(places.get(v.household_id.as_str()));
        v.set_review(rows.reviews.get(&v.id).cloned().unwrap_or_default());
    }
    for a in &mut rows.aid {
        a.set_place(places.get(a.household_id.as_str()));
    }
    for v in &rows.visits {
        totals
            .entry(v.household_id.as_str())
            .or_default()
            .add_visit(v.deleted, v.outcome.as_deref(), v.visited_at_utc.as_deref());
    }
    for a in &rows.aid {
        totals
            .entry(a.household_id.as_str())
            .or_default()
            .add_aid(a.voided, a.value_rupiah);
    }
    let totals: HashMap<String, HouseholdTotals> =
        totals.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    for h in &mut rows.households {
        let t = totals.get(&h.id).cloned().unwrap_or_default();
        h.last_completed_visit_at = t.last_completed_visit_at;
        h.visit_count = t.visit_count;
        h.aid_count = t.aid_count;
        h.aid_value_rupiah = t.aid_value_rupiah;
    }
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

/// Where the typed tables differ from the rows the states give, derived columns included:
/// one line per record (a missing, extra or different row). Empty when they agree.
pub fn verify(conn: &mut AnyConnection) -> DbResult<Vec<String>> {
    let mut expected = Rows::default();
    for_each_chunk(conn, |c, states| {
        let refs: Vec<&RecordState> = states.iter().collect();
        let writers = writers_of(c, &refs)?;
        let rows = rows_of(&refs, &writers);
        expected.households.extend(rows.households);
        expected.visits.extend(rows.visits);
        expected.aid.extend(rows.aid);
        expected.reviews.extend(rows.reviews);
        Ok(())
    })?;
    derive(&mut expected);
    let stored = Rows {
        households: q_households::table.order(q_households::id).load(conn)?,
        visits: q_visits::table.order(q_visits::id).load(conn)?,
        aid: q_aid::table.order(q_aid::id).load(conn)?,
        reviews: BTreeMap::new(),
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
