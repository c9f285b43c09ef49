//! The reports' statements in their usual shapes, for the benchmark's query plans
//! (`db::admin_reports::explain`): the same SQL the endpoints run.

use chrono::{DateTime, Duration, Utc};
use sync_protocol::rows::utc_text;

use crate::config::ReportingArgs;
use crate::db::admin_reports::{self as sql, Group, Statement};
use crate::error::ApiError;

/// `(name, statement)` for each report over the default period ending `now`, as a regency
/// admin (`agency` `None`) or an agency admin of `agency` sees it.
pub fn sample_statements(
    agency: Option<&str>,
    reporting: ReportingArgs,
    now: DateTime<Utc>,
) -> Result<Vec<(String, Statement)>, ApiError> {
    let period = super::period(None, None, now)?;
    let (from, to) = period.texts();
    let covered = utc_text(now - Duration::days(30));
    let overdue = utc_text(now - Duration::days(i64::from(reporting.overdue_days)));
    let threshold = f64::from(reporting.implausible_distance_m);
    let mut out = Vec::new();
    for (name, g) in [
        ("kecamatan", Group::Kecamatan),
        ("desa", Group::Desa),
        ("agency", Group::Agency),
    ] {
        out.push((
            format!("coverage?group_by={name}"),
            sql::coverage_statement(g, agency, &covered, &overdue),
        ));
    }
    for (name, g) in [
        ("kecamatan", Group::Kecamatan),
        ("agency", Group::Agency),
        ("month", Group::Month),
    ] {
        let buckets = period.buckets(g)?;
        out.push((
            format!("aid?group_by={name}"),
            sql::aid_statement(g, agency, &buckets, None, None),
        ));
        out.push((
            format!("locations?group_by={name}"),
            sql::locations_statement(g, agency, &buckets, threshold),
        ));
    }
    let months = period.months()?;
    for (name, g) in [("kecamatan", Group::Kecamatan), ("month", Group::None)] {
        out.push((
            format!("conditions?group_by={name}"),
            sql::conditions_statement(g, agency, &months),
        ));
    }
    let s = sql::officer_statements(
        agency,
        &from,
        &to,
        period.from.timestamp_millis(),
        period.to.timestamp_millis(),
    );
    out.push(("officers (visits)".into(), s.visits));
    out.push(("officers (aid)".into(), s.aid));
    out.push(("officers (devices)".into(), s.devices));
    Ok(out)
}
