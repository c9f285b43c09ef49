//! `GET /v1/admin/reports/locations`: visits of a period whose location is suspect (a mock
//! location, or farther from the home point than `KAMPUNG_IMPLAUSIBLE_DISTANCE_M`), counted
//! by group. The visits themselves are a list (the visits list's suspect filter).

use chrono::{DateTime, Utc};

use crate::api::admin_reports::{LocationsRow, PeriodQuery, Report};
use crate::auth::Caller;
use crate::config::ReportingArgs;
use crate::db::admin_reports::{self as sql, Group};
use crate::db::{self, AnyConnection};
use crate::error::ApiError;
use crate::service::authorize;

/// Suspect locations within the caller's scope (an agency admin: the visits of households
/// assigned to their agency's officers), by the threshold in `reporting` at read time.
pub fn locations_report(
    conn: &mut AnyConnection,
    caller: &Caller,
    q: PeriodQuery,
    reporting: ReportingArgs,
    now: DateTime<Utc>,
) -> Result<super::Answer<Report<LocationsRow>>, ApiError> {
    let p = authorize::admin(conn, caller)?;
    let agency = p.agency_limit()?.map(|a| a.to_string());
    let csv = super::wants_csv(q.format.as_deref())?;
    let group = super::group(
        q.group_by.as_deref(),
        &[Group::Kecamatan, Group::Desa, Group::Agency, Group::Month],
    )?;
    let period = super::period(q.from.as_deref(), q.to.as_deref(), now)?;
    let buckets = period.buckets(group)?;
    let statement = sql::locations_statement(
        group,
        agency.as_deref(),
        &buckets,
        f64::from(reporting.implausible_distance_m),
    );
    let (groups, names) = db::read_tx(conn, |c| {
        Ok::<_, ApiError>((sql::locations(c, &statement)?, sql::names(c)?))
    })?;
    let mut rows: Vec<LocationsRow> = groups
        .into_iter()
        .map(|g| LocationsRow {
            name: super::name_of(group, &g.k, &names),
            key: g.k,
            visits: g.visits,
            with_gps: g.with_gps,
            mock: g.mock,
            implausible: g.implausible,
            suspect: g.suspect,
        })
        .collect();
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    let (from, to) = period.texts();
    Ok(super::answer(csv, "locations.csv", &rows, || Report {
        group_by: super::group_label(group),
        from: Some(from),
        to: Some(to),
        rows: rows.clone(),
    }))
}
