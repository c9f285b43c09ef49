//! Grouped reads of the typed query tables for the supervisors' reports. Each report is one
//! aggregate statement, written once with `?` placeholders (numbered `$n` for PostgreSQL).
//!
//! Periods and months: the caller gives buckets, each a label and a half-open range of UTC
//! text (`[from, to)`), contiguous and in order (`service::reports::Period`). A statement
//! reads the one range from the first bucket's start to the last one's end, and labels each
//! row with a `CASE` over the bucket ends: one range scan of a covering index, and the month
//! of a row needs no date function (which the two databases spell differently). An earlier
//! version joined the buckets as a `VALUES` list; PostgreSQL ran that as a nested loop of
//! every visit with every month (1.3 s for a year of 500,000 visits, `docs/benchmarks.md`).

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Double, Nullable, Text};
use diesel::sqlite::Sqlite;
use sync_protocol::rows::COMPLETED;

use super::{AnyConnection, DbResult};

/// A bound value.
#[derive(Clone, Debug)]
pub enum Arg {
    /// Text.
    Text(String),
    /// A whole number.
    Int(i64),
    /// A real number.
    Real(f64),
}

/// What rows are grouped by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// One group.
    None,
    /// The household's kecamatan.
    Kecamatan,
    /// The household's desa.
    Desa,
    /// For households the agency of their active assignment; for visits and aid the
    /// writer's agency.
    Agency,
    /// The bucket (month).
    Month,
}

/// A labelled half-open range of UTC instants as the typed tables store them.
#[derive(Clone, Debug)]
pub struct Bucket {
    /// Label, e.g. `2026-11`.
    pub label: String,
    /// Start, inclusive.
    pub from: String,
    /// End, exclusive.
    pub to: String,
}

/// Runs `sql` with `args` bound in order and loads its rows.
fn load<T>(conn: &mut AnyConnection, sql: &str, args: &[Arg]) -> DbResult<Vec<T>>
where
    T: QueryableByName<Sqlite> + QueryableByName<Pg> + 'static,
{
    Ok(match conn {
        AnyConnection::Sqlite(c) => {
            let sql = sql
                .replace("/* report index q_visits */", "INDEXED BY q_visits_report")
                .replace("/* report index q_aid */", "INDEXED BY q_aid_report")
                .replace("/* officer index q_visits */", "INDEXED BY q_visits_user")
                .replace(
                    "/* officer index q_aid */",
                    "INDEXED BY q_aid_user_given_id",
                );
            let mut q = diesel::sql_query(sql).into_boxed::<Sqlite>();
            for a in args {
                q = match a.clone() {
                    Arg::Text(s) => q.bind::<Text, _>(s),
                    Arg::Int(i) => q.bind::<BigInt, _>(i),
                    Arg::Real(f) => q.bind::<Double, _>(f),
                };
            }
            q.load(c)?
        }
        AnyConnection::Postgresql(c) => {
            let mut q = diesel::sql_query(numbered(sql)).into_boxed::<Pg>();
            for a in args {
                q = match a.clone() {
                    Arg::Text(s) => q.bind::<Text, _>(s),
                    Arg::Int(i) => q.bind::<BigInt, _>(i),
                    Arg::Real(f) => q.bind::<Double, _>(f),
                };
            }
            q.load(c)?
        }
    })
}

/// `?` placeholders as PostgreSQL's `$1, $2, ...` (no statement here has a `?` in a literal).
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for ch in sql.chars() {
        if ch == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(ch);
        }
    }
    out
}

/// The `EXPLAIN` of `sql` as text lines, for the benchmark's query plans.
pub fn explain(conn: &mut AnyConnection, sql: &str, args: &[Arg]) -> DbResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct SqlitePlan {
        #[diesel(sql_type = Text)]
        detail: String,
    }
    #[derive(QueryableByName)]
    struct PgPlan {
        #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
        plan: String,
    }
    Ok(match conn {
        AnyConnection::Sqlite(_) => {
            let rows: Vec<SqlitePlan> = load(conn, &format!("EXPLAIN QUERY PLAN {sql}"), args)?;
            rows.into_iter().map(|r| r.detail).collect()
        }
        AnyConnection::Postgresql(_) => {
            let rows: Vec<PgPlan> = load(conn, &format!("EXPLAIN ANALYZE {sql}"), args)?;
            rows.into_iter().map(|r| r.plan).collect()
        }
    })
}

/// A statement and its arguments.
#[derive(Clone, Debug)]
pub struct Statement {
    /// SQL with `?` placeholders.
    pub sql: String,
    /// Bound in order.
    pub args: Vec<Arg>,
}

/// The rows of the buckets: a range of `column` and the label of the bucket a row is in.
struct Bucketed {
    /// `column >= ? AND column < ?`.
    range: String,
    /// The range's two arguments.
    range_args: Vec<Arg>,
    /// An expression of the row's bucket label.
    label: String,
    /// The label's arguments.
    label_args: Vec<Arg>,
}

fn bucketed(column: &str, buckets: &[Bucket]) -> Bucketed {
    let (Some(first), Some(last)) = (buckets.first(), buckets.last()) else {
        return Bucketed {
            range: "1 = 0".into(),
            range_args: Vec::new(),
            label: "CAST(NULL AS TEXT)".into(),
            label_args: Vec::new(),
        };
    };
    let mut label_args = Vec::new();
    let label = if buckets.len() == 1 {
        label_args.push(Arg::Text(first.label.clone()));
        "CAST(? AS TEXT)".to_owned()
    } else {
        let mut sql = String::from("CASE");
        for b in &buckets[..buckets.len() - 1] {
            sql.push_str(&format!(" WHEN {column} < ? THEN ?"));
            label_args.push(Arg::Text(b.to.clone()));
            label_args.push(Arg::Text(b.label.clone()));
        }
        sql.push_str(" ELSE ? END");
        label_args.push(Arg::Text(last.label.clone()));
        sql
    };
    Bucketed {
        range: format!("{column} >= ? AND {column} < ?"),
        range_args: vec![Arg::Text(first.from.clone()), Arg::Text(last.to.clone())],
        label,
        label_args,
    }
}

/// Where a regency-wide statement names the index SQLite is to read, `purpose` `report` or
/// `officer` (`load` turns the comment into `INDEXED BY`; PostgreSQL keeps the comment):
/// - `report`, the covering index of the period: SQLite took the period's time index and
///   read each row from the table (1.6 s instead of about 0.25 s for a year of visits);
/// - `officer`, `(user_id, time)`: SQLite reads each officer's period in turn (a skip scan,
///   in the order the GROUP BY wants), where it chose the report index and sorted the year by
///   officer (631 ms against about 230 ms, docs/benchmarks.md 2026-12-06).
///
/// Not in an agency admin's statement, which starts from the agency's few households instead.
fn regency_index(purpose: &str, table: &str, agency: Option<&str>) -> String {
    match agency {
        None => format!("/* {purpose} index {table} */"),
        Some(_) => String::new(),
    }
}

/// A regency-wide statement read a month at a time: `span` gives the statement of one
/// bucket, and `select` and `group_by` sum the rows of those (`p`) into the report's. Both
/// databases group a period's rows by sorting them (PostgreSQL, too, expects as many groups
/// as rows); a year of the regency's visits (about 470,000) did not sort in memory and took
/// twice as long as twelve months of 40,000 each (docs/benchmarks.md, 2026-12-06), and
/// PostgreSQL reads a month from the report index where it scanned the table for a year.
/// An agency admin's statement, which starts from the agency's households, stays one.
fn month_by_month(
    buckets: &[Bucket],
    span: impl Fn(&[Bucket]) -> Statement,
    select: &str,
    group_by: &str,
) -> Statement {
    if buckets.len() <= 1 {
        return span(buckets);
    }
    let mut parts = Vec::with_capacity(buckets.len());
    let mut args = Vec::new();
    for b in buckets {
        let s = span(std::slice::from_ref(b));
        parts.push(s.sql);
        args.extend(s.args);
    }
    Statement {
        sql: format!(
            "SELECT {select} FROM ({}) p GROUP BY {group_by}",
            parts.join(" UNION ALL ")
        ),
        args,
    }
}

/// The join limiting records of households (`alias.household_id`, or `h.id`) to those
/// actively assigned to `agency`'s officers: an agency admin's scope.
fn scope_join(household: &str, agency: Option<&str>, args: &mut Vec<Arg>) -> String {
    match agency {
        None => String::new(),
        Some(a) => {
            args.push(Arg::Text(a.to_owned()));
            format!(
                " JOIN assignments sa ON sa.household_id = {household} \
                 AND sa.ends_at IS NULL AND sa.agency_id = ?"
            )
        }
    }
}

/// One coverage group.
#[derive(Debug, QueryableByName)]
pub struct CoverageGroup {
    /// Group key.
    #[diesel(sql_type = Nullable<Text>)]
    pub k: Option<String>,
    /// Active households.
    #[diesel(sql_type = BigInt)]
    pub households: i64,
    /// With a completed visit since the coverage cutoff.
    #[diesel(sql_type = BigInt)]
    pub visited: i64,
    /// Without one since the overdue cutoff.
    #[diesel(sql_type = BigInt)]
    pub overdue: i64,
    /// Without any.
    #[diesel(sql_type = BigInt)]
    pub never_visited: i64,
}

/// The coverage statement: active households by `group`, of `agency`'s scope if given,
/// counting those whose last completed visit is at or after `covered_since`, and those
/// without one since `overdue_before` (overdue).
pub fn coverage_statement(
    group: Group,
    agency: Option<&str>,
    covered_since: &str,
    overdue_before: &str,
) -> Statement {
    let mut args = vec![
        Arg::Text(covered_since.to_owned()),
        Arg::Text(overdue_before.to_owned()),
    ];
    let key = match group {
        Group::Kecamatan => "h.kecamatan_code",
        Group::Desa => "h.desa_code",
        Group::Agency => "sa.agency_id",
        Group::None | Group::Month => "CAST(NULL AS TEXT)",
    };
    let join = match (group, agency) {
        (_, Some(_)) => scope_join("h.id", agency, &mut args),
        // Households nobody is assigned to are a group of their own (key null).
        (Group::Agency, None) => {
            " LEFT JOIN assignments sa ON sa.household_id = h.id AND sa.ends_at IS NULL".into()
        }
        _ => String::new(),
    };
    let group_clause = if matches!(group, Group::None | Group::Month) {
        String::new()
    } else {
        format!(" GROUP BY {key}")
    };
    let sql = format!(
        "SELECT {key} AS k, CAST(COUNT(*) AS BIGINT) AS households, \
         CAST(COALESCE(SUM(CASE WHEN h.last_completed_visit_at >= ? THEN 1 ELSE 0 END), 0) \
             AS BIGINT) AS visited, \
         CAST(COALESCE(SUM(CASE WHEN h.last_completed_visit_at IS NULL \
             OR h.last_completed_visit_at < ? THEN 1 ELSE 0 END), 0) AS BIGINT) AS overdue, \
         CAST(COALESCE(SUM(CASE WHEN h.last_completed_visit_at IS NULL THEN 1 ELSE 0 END), 0) \
             AS BIGINT) AS never_visited \
         FROM q_households h{join} \
         WHERE h.status = 'active' AND NOT h.deleted{group_clause}"
    );
    Statement { sql, args }
}

/// Runs a coverage statement.
pub fn coverage(conn: &mut AnyConnection, s: &Statement) -> DbResult<Vec<CoverageGroup>> {
    load(conn, &s.sql, &s.args)
}

/// The key of a visit or aid row (`alias` `v` or `a`) for `group`. A row holds its
/// household's area (`typed_tables`): joining the household for it cost a lookup per row,
/// most of a regency-wide year on SQLite (docs/benchmarks.md, 2026-12-06).
fn record_key(group: Group, alias: &str, month: &str) -> String {
    match group {
        Group::Kecamatan => format!("{alias}.kecamatan_code"),
        Group::Desa => format!("{alias}.desa_code"),
        Group::Agency => format!("{alias}.agency_id"),
        Group::Month => month.to_owned(),
        Group::None => "CAST(NULL AS TEXT)".into(),
    }
}

/// One aid group.
#[derive(Debug, QueryableByName)]
pub struct AidGroup {
    /// Group key.
    #[diesel(sql_type = Nullable<Text>)]
    pub k: Option<String>,
    /// Kind.
    #[diesel(sql_type = Nullable<Text>)]
    pub kind: Option<String>,
    /// Source.
    #[diesel(sql_type = Nullable<Text>)]
    pub source: Option<String>,
    /// Unit.
    #[diesel(sql_type = Nullable<Text>)]
    pub unit: Option<String>,
    /// Records.
    #[diesel(sql_type = BigInt)]
    pub n: i64,
    /// Quantity.
    #[diesel(sql_type = Double)]
    pub quantity: f64,
    /// Value.
    #[diesel(sql_type = BigInt)]
    pub value_rupiah: i64,
}

/// The aid statement: aid not voided, given within the buckets, of `agency`'s scope if
/// given, by `group`, kind, source and unit.
pub fn aid_statement(
    group: Group,
    agency: Option<&str>,
    buckets: &[Bucket],
    kind: Option<&str>,
    source: Option<&str>,
) -> Statement {
    let span = |b: &[Bucket]| aid_span(group, agency, b, kind, source);
    match agency {
        Some(_) => span(buckets),
        None => month_by_month(
            buckets,
            span,
            "p.k AS k, p.kind AS kind, p.source AS source, p.unit AS unit, \
             CAST(SUM(p.n) AS BIGINT) AS n, \
             CAST(SUM(p.quantity) AS DOUBLE PRECISION) AS quantity, \
             CAST(SUM(p.value_rupiah) AS BIGINT) AS value_rupiah",
            "p.k, p.kind, p.source, p.unit",
        ),
    }
}

fn aid_span(
    group: Group,
    agency: Option<&str>,
    buckets: &[Bucket],
    kind: Option<&str>,
    source: Option<&str>,
) -> Statement {
    let b = bucketed("a.given_at_utc", buckets);
    let key = record_key(group, "a", &b.label);
    let mut args = Vec::new();
    if group == Group::Month {
        args.extend(b.label_args);
    }
    let scope = scope_join("a.household_id", agency, &mut args);
    args.extend(b.range_args);
    let mut filter = String::new();
    if let Some(k) = kind {
        filter.push_str(" AND a.kind = ?");
        args.push(Arg::Text(k.to_owned()));
    }
    if let Some(s) = source {
        filter.push_str(" AND a.source = ?");
        args.push(Arg::Text(s.to_owned()));
    }
    let index = regency_index("report", "q_aid", agency);
    let range = b.range;
    let sql = format!(
        "SELECT {key} AS k, a.kind AS kind, a.source AS source, a.unit AS unit, \
         CAST(COUNT(*) AS BIGINT) AS n, \
         CAST(COALESCE(SUM(a.quantity), 0.0) AS DOUBLE PRECISION) AS quantity, \
         CAST(COALESCE(SUM(a.value_rupiah), 0) AS BIGINT) AS value_rupiah \
         FROM q_aid a {index}{scope} \
         WHERE {range} AND NOT a.voided{filter} \
         GROUP BY k, a.kind, a.source, a.unit"
    );
    Statement { sql, args }
}

/// Runs an aid statement.
pub fn aid(conn: &mut AnyConnection, s: &Statement) -> DbResult<Vec<AidGroup>> {
    load(conn, &s.sql, &s.args)
}

/// One group and month of scores.
#[derive(Debug, QueryableByName)]
pub struct ConditionsGroup {
    /// Group key.
    #[diesel(sql_type = Nullable<Text>)]
    pub k: Option<String>,
    /// Month.
    #[diesel(sql_type = Text)]
    pub month: String,
    /// Visits.
    #[diesel(sql_type = BigInt)]
    pub visits: i64,
    /// Sums and counts, in the order of `sync_protocol::schema::ASPECTS`.
    #[diesel(sql_type = BigInt)]
    pub s0: i64,
    /// Count.
    #[diesel(sql_type = BigInt)]
    pub n0: i64,
    /// Sum.
    #[diesel(sql_type = BigInt)]
    pub s1: i64,
    /// Count.
    #[diesel(sql_type = BigInt)]
    pub n1: i64,
    /// Sum.
    #[diesel(sql_type = BigInt)]
    pub s2: i64,
    /// Count.
    #[diesel(sql_type = BigInt)]
    pub n2: i64,
    /// Sum.
    #[diesel(sql_type = BigInt)]
    pub s3: i64,
    /// Count.
    #[diesel(sql_type = BigInt)]
    pub n3: i64,
    /// Sum.
    #[diesel(sql_type = BigInt)]
    pub s4: i64,
    /// Count.
    #[diesel(sql_type = BigInt)]
    pub n4: i64,
}

/// The conditions statement: visits not deleted in each month bucket, of `agency`'s scope
/// if given, by `group` and month: per aspect the sum and count of scores given.
pub fn conditions_statement(group: Group, agency: Option<&str>, months: &[Bucket]) -> Statement {
    let span = |b: &[Bucket]| conditions_span(group, agency, b);
    if agency.is_some() {
        return span(months);
    }
    let sums: Vec<String> = (0..sync_protocol::schema::ASPECTS.len())
        .map(|i| {
            format!(
                "CAST(COALESCE(SUM(p.s{i}), 0) AS BIGINT) AS s{i}, \
                 CAST(COALESCE(SUM(p.n{i}), 0) AS BIGINT) AS n{i}"
            )
        })
        .collect();
    month_by_month(
        months,
        span,
        &format!(
            "p.k AS k, p.month AS month, CAST(SUM(p.visits) AS BIGINT) AS visits, {}",
            sums.join(", ")
        ),
        "p.k, p.month",
    )
}

fn conditions_span(group: Group, agency: Option<&str>, months: &[Bucket]) -> Statement {
    let b = bucketed("v.visited_at_utc", months);
    let key = record_key(group, "v", &b.label);
    let mut args = b.label_args.clone();
    if group == Group::Month {
        args.extend(b.label_args);
    }
    let scope = scope_join("v.household_id", agency, &mut args);
    args.extend(b.range_args);
    let aspects: Vec<String> = sync_protocol::schema::ASPECTS
        .iter()
        .enumerate()
        .map(|(i, a)| {
            format!(
                "CAST(COALESCE(SUM(v.{a}_score), 0) AS BIGINT) AS s{i}, \
                 CAST(COUNT(v.{a}_score) AS BIGINT) AS n{i}"
            )
        })
        .collect();
    let index = regency_index("report", "q_visits", agency);
    let (label, range) = (b.label, b.range);
    let sql = format!(
        "SELECT {key} AS k, {label} AS month, CAST(COUNT(*) AS BIGINT) AS visits, {} \
         FROM q_visits v {index}{scope} \
         WHERE {range} AND NOT v.deleted \
         GROUP BY k, month",
        aspects.join(", ")
    );
    Statement { sql, args }
}

/// Runs a conditions statement.
pub fn conditions(conn: &mut AnyConnection, s: &Statement) -> DbResult<Vec<ConditionsGroup>> {
    load(conn, &s.sql, &s.args)
}

/// One group of locations.
#[derive(Debug, QueryableByName)]
pub struct LocationsGroup {
    /// Group key.
    #[diesel(sql_type = Nullable<Text>)]
    pub k: Option<String>,
    /// Visits.
    #[diesel(sql_type = BigInt)]
    pub visits: i64,
    /// With a point.
    #[diesel(sql_type = BigInt)]
    pub with_gps: i64,
    /// Mock.
    #[diesel(sql_type = BigInt)]
    pub mock: i64,
    /// Too far.
    #[diesel(sql_type = BigInt)]
    pub implausible: i64,
    /// Either.
    #[diesel(sql_type = BigInt)]
    pub suspect: i64,
}

/// The locations statement: visits not deleted within the buckets, of `agency`'s scope if
/// given, by `group`, counting mock locations and those farther than `threshold_m` from the
/// home point (`sync_protocol::rows::location_suspect`'s rule).
pub fn locations_statement(
    group: Group,
    agency: Option<&str>,
    buckets: &[Bucket],
    threshold_m: f64,
) -> Statement {
    let span = |b: &[Bucket]| locations_span(group, agency, b, threshold_m);
    match agency {
        Some(_) => span(buckets),
        None => month_by_month(
            buckets,
            span,
            "p.k AS k, CAST(SUM(p.visits) AS BIGINT) AS visits, \
             CAST(SUM(p.with_gps) AS BIGINT) AS with_gps, CAST(SUM(p.mock) AS BIGINT) AS mock, \
             CAST(SUM(p.implausible) AS BIGINT) AS implausible, \
             CAST(SUM(p.suspect) AS BIGINT) AS suspect",
            "p.k",
        ),
    }
}

fn locations_span(
    group: Group,
    agency: Option<&str>,
    buckets: &[Bucket],
    threshold_m: f64,
) -> Statement {
    let b = bucketed("v.visited_at_utc", buckets);
    let key = record_key(group, "v", &b.label);
    let mut args = Vec::new();
    if group == Group::Month {
        args.extend(b.label_args);
    }
    args.extend([Arg::Real(threshold_m), Arg::Real(threshold_m)]);
    let scope = scope_join("v.household_id", agency, &mut args);
    args.extend(b.range_args);
    let index = regency_index("report", "q_visits", agency);
    let range = b.range;
    let sql = format!(
        "SELECT {key} AS k, CAST(COUNT(*) AS BIGINT) AS visits, \
         CAST(COALESCE(SUM(CASE WHEN v.gps_lat IS NOT NULL AND v.gps_lon IS NOT NULL \
             THEN 1 ELSE 0 END), 0) AS BIGINT) AS with_gps, \
         CAST(COALESCE(SUM(CASE WHEN v.gps_mock THEN 1 ELSE 0 END), 0) AS BIGINT) AS mock, \
         CAST(COALESCE(SUM(CASE WHEN v.distance_m > ? THEN 1 ELSE 0 END), 0) AS BIGINT) \
             AS implausible, \
         CAST(COALESCE(SUM(CASE WHEN v.gps_mock OR v.distance_m > ? THEN 1 ELSE 0 END), 0) \
             AS BIGINT) AS suspect \
         FROM q_visits v {index}{scope} \
         WHERE {range} AND NOT v.deleted \
         GROUP BY k"
    );
    Statement { sql, args }
}

/// Runs a locations statement.
pub fn locations(conn: &mut AnyConnection, s: &Statement) -> DbResult<Vec<LocationsGroup>> {
    load(conn, &s.sql, &s.args)
}

/// An officer.
#[derive(Debug, QueryableByName)]
pub struct Officer {
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
}

/// An officer's visits or aid in a period.
#[derive(Debug, QueryableByName)]
pub struct Activity {
    /// User id.
    #[diesel(sql_type = Nullable<Text>)]
    pub k: Option<String>,
    /// Records.
    #[diesel(sql_type = BigInt)]
    pub n: i64,
    /// Completed visits, or the aid's value.
    #[diesel(sql_type = BigInt)]
    pub m: i64,
}

/// A device of an officer with its backlog and skew.
#[derive(Debug, QueryableByName)]
pub struct OfficerDeviceRow {
    /// Device id.
    #[diesel(sql_type = Text)]
    pub id: String,
    /// Owner.
    #[diesel(sql_type = Text)]
    pub user_id: String,
    /// Last push, ms.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub last_push_at: Option<i64>,
    /// Revoked.
    #[diesel(sql_type = Bool)]
    pub revoked: bool,
    /// Held writes.
    #[diesel(sql_type = BigInt)]
    pub held: i64,
    /// Skewed operations in the period.
    #[diesel(sql_type = BigInt)]
    pub skewed: i64,
}

/// The statements of the officers report: officers, their visits, their aid, their devices.
#[derive(Clone, Debug)]
pub struct OfficerStatements {
    /// Officers of the agency (or all).
    pub officers: Statement,
    /// Visits per writer.
    pub visits: Statement,
    /// Aid per writer.
    pub aid: Statement,
    /// Devices with held writes and skewed operations.
    pub devices: Statement,
}

/// How a stored operation result says its clock was too far ahead: serde_json's compact
/// form of `OpResult::clock_skew`. The partial index `applied_ops_clock_skew` has the same
/// condition, so only skewed operations are read.
const SKEWED: &str = "o.result LIKE '%\"clock_skew\":true%'";

/// The officers report's statements for `agency` (or every agency), over `[from, to)` in UTC
/// text and `[from_ms, to_ms)` in milliseconds.
pub fn officer_statements(
    agency: Option<&str>,
    from: &str,
    to: &str,
    from_ms: i64,
    to_ms: i64,
) -> OfficerStatements {
    let by_agency = |col: &str, args: &mut Vec<Arg>| match agency {
        None => String::new(),
        Some(a) => {
            args.push(Arg::Text(a.to_owned()));
            format!(" AND {col} = ?")
        }
    };
    let mut args = Vec::new();
    let f = by_agency("u.agency_id", &mut args);
    let officers = Statement {
        sql: format!(
            "SELECT u.id AS id, u.username AS username, u.display_name AS display_name, \
             u.agency_id AS agency_id, u.active AS active FROM users u \
             WHERE u.role = 'officer'{f} ORDER BY u.username"
        ),
        args,
    };
    let visits = {
        let mut args = vec![Arg::Text(from.into()), Arg::Text(to.into())];
        let f = by_agency("v.agency_id", &mut args);
        let index = regency_index("officer", "q_visits", agency);
        Statement {
            sql: format!(
                "SELECT v.user_id AS k, CAST(COUNT(*) AS BIGINT) AS n, \
                 CAST(COALESCE(SUM(CASE WHEN v.outcome = '{COMPLETED}' THEN 1 ELSE 0 END), 0) \
                     AS BIGINT) AS m \
                 FROM q_visits v {index} WHERE v.visited_at_utc >= ? AND v.visited_at_utc < ? \
                 AND NOT v.deleted{f} GROUP BY v.user_id"
            ),
            args,
        }
    };
    let aid = {
        let mut args = vec![Arg::Text(from.into()), Arg::Text(to.into())];
        let f = by_agency("a.agency_id", &mut args);
        let index = regency_index("officer", "q_aid", agency);
        Statement {
            sql: format!(
                "SELECT a.user_id AS k, CAST(COUNT(*) AS BIGINT) AS n, \
                 CAST(COALESCE(SUM(a.value_rupiah), 0) AS BIGINT) AS m \
                 FROM q_aid a {index} WHERE a.given_at_utc >= ? AND a.given_at_utc < ? \
                 AND NOT a.voided{f} GROUP BY a.user_id"
            ),
            args,
        }
    };
    let mut args = vec![Arg::Int(from_ms), Arg::Int(to_ms)];
    let f = by_agency("u.agency_id", &mut args);
    let devices = Statement {
        sql: format!(
            "SELECT d.id AS id, d.user_id AS user_id, d.last_push_at AS last_push_at, \
             d.revoked AS revoked, \
             (SELECT CAST(COUNT(*) AS BIGINT) FROM held_writes w WHERE w.device_id = d.id) \
                 AS held, \
             (SELECT CAST(COUNT(*) AS BIGINT) FROM applied_ops o WHERE o.device_id = d.id \
                 AND {SKEWED} AND o.applied_at >= ? AND o.applied_at < ?) AS skewed \
             FROM devices d JOIN users u ON u.id = d.user_id \
             WHERE u.role = 'officer'{f} ORDER BY d.id"
        ),
        args,
    };
    OfficerStatements {
        officers,
        visits,
        aid,
        devices,
    }
}

/// Runs the officers statement.
pub fn officers(conn: &mut AnyConnection, s: &Statement) -> DbResult<Vec<Officer>> {
    load(conn, &s.sql, &s.args)
}

/// Runs a visits or aid per officer statement.
pub fn activity(conn: &mut AnyConnection, s: &Statement) -> DbResult<Vec<Activity>> {
    load(conn, &s.sql, &s.args)
}

/// Runs the devices statement.
pub fn officer_devices(conn: &mut AnyConnection, s: &Statement) -> DbResult<Vec<OfficerDeviceRow>> {
    load(conn, &s.sql, &s.args)
}

/// Names of areas and agencies, for labelling groups.
pub fn names(conn: &mut AnyConnection) -> DbResult<std::collections::HashMap<String, String>> {
    use super::schema::{agencies, areas};
    let mut out: std::collections::HashMap<String, String> = areas::table
        .select((areas::code, areas::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    out.extend(
        agencies::table
            .select((agencies::id, agencies::name))
            .load::<(String, String)>(conn)?,
    );
    Ok(out)
}
