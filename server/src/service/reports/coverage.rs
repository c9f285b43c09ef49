//! `GET /v1/admin/reports/coverage`: active households with a completed visit in the last
//! `days` days, and those overdue, by kecamatan, desa or agency.
//!
//! Overdue is a column here rather than a report of its own: it is the same households
//! counted against a second window (`KAMPUNG_OVERDUE_DAYS`), read in the same scan, and a
//! supervisor reads the two side by side. The overdue households themselves are a list.

use chrono::{DateTime, Duration, Utc};
use sync_protocol::rows::utc_text;

use crate::api::admin_reports::{CoverageQuery, CoverageReport, CoverageRow};
use crate::auth::Caller;
use crate::config::ReportingArgs;
use crate::db::admin_reports::{self as sql, Group};
use crate::db::{self, AnyConnection};
use crate::error::{ApiError, ErrorCode};
use crate::service::authorize;

/// Coverage within the caller's scope: a regency admin every household, an agency admin the
/// households assigned to their agency's officers.
pub fn coverage_report(
    conn: &mut AnyConnection,
    caller: &Caller,
    q: CoverageQuery,
    reporting: ReportingArgs,
    now: DateTime<Utc>,
) -> Result<super::Answer<CoverageReport>, ApiError> {
    let p = authorize::admin(conn, caller)?;
    let agency = p.agency_limit()?.map(|a| a.to_string());
    let csv = super::wants_csv(q.format.as_deref())?;
    let group = super::group(
        q.group_by.as_deref(),
        &[Group::Kecamatan, Group::Desa, Group::Agency],
    )?;
    let days = q.days.unwrap_or(30);
    if !(1..=3650).contains(&days) {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            format!("`days`: {days} is outside 1-3650"),
        ));
    }
    let covered_since = utc_text(now - Duration::days(i64::from(days)));
    let overdue_before = utc_text(now - Duration::days(i64::from(reporting.overdue_days)));
    let statement =
        sql::coverage_statement(group, agency.as_deref(), &covered_since, &overdue_before);
    let (groups, names) = db::read_tx(conn, |c| {
        Ok::<_, ApiError>((sql::coverage(c, &statement)?, sql::names(c)?))
    })?;
    let mut rows: Vec<CoverageRow> = groups
        .into_iter()
        .map(|g| CoverageRow {
            name: super::name_of(group, &g.k, &names),
            coverage: if g.households == 0 {
                0.0
            } else {
                g.visited as f64 / g.households as f64
            },
            key: g.k,
            households: g.households,
            visited: g.visited,
            overdue: g.overdue,
            never_visited: g.never_visited,
        })
        .collect();
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(super::answer(csv, "coverage.csv", &rows, || {
        CoverageReport {
            group_by: super::group_label(group),
            days,
            overdue_days: reporting.overdue_days,
            as_of: utc_text(now),
            rows: rows.clone(),
        }
    }))
}
