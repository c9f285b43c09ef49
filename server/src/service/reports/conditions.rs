//! `GET /v1/admin/reports/conditions`: households' conditions over time, the mean and
//! count of each aspect's score (1-5) per WIB month, over the visits of the period that
//! are not deleted, within a group.

use chrono::{DateTime, Utc};

use crate::api::admin_reports::{ConditionsRow, PeriodQuery, Report};
use crate::auth::Caller;
use crate::db::admin_reports::{self as sql, Group};
use crate::db::{self, AnyConnection};
use crate::error::ApiError;
use crate::service::authorize;

/// The mean of `n` scores summing to `sum`, `None` for none.
fn mean(sum: i64, n: i64) -> Option<f64> {
    (n > 0).then(|| sum as f64 / n as f64)
}

/// Conditions per month within the caller's scope (an agency admin: the visits of
/// households assigned to their agency's officers). Every row is one month; `group_by`
/// adds a kecamatan, desa or (the visiting officer's) agency to it.
pub fn conditions_report(
    conn: &mut AnyConnection,
    caller: &Caller,
    q: PeriodQuery,
    now: DateTime<Utc>,
) -> Result<super::Answer<Report<ConditionsRow>>, ApiError> {
    let p = authorize::admin(conn, caller)?;
    let agency = p.agency_limit()?.map(|a| a.to_string());
    let csv = super::wants_csv(q.format.as_deref())?;
    let group = super::group(
        q.group_by.as_deref(),
        &[Group::Kecamatan, Group::Desa, Group::Agency, Group::Month],
    )?;
    let period = super::period(q.from.as_deref(), q.to.as_deref(), now)?;
    let months = period.months()?;
    // Every row has its month already: grouping by month adds no key.
    let key_group = if group == Group::Month {
        Group::None
    } else {
        group
    };
    let statement = sql::conditions_statement(key_group, agency.as_deref(), &months);
    let (groups, names) = db::read_tx(conn, |c| {
        Ok::<_, ApiError>((sql::conditions(c, &statement)?, sql::names(c)?))
    })?;
    let mut rows: Vec<ConditionsRow> = groups
        .into_iter()
        .map(|g| ConditionsRow {
            name: super::name_of(key_group, &g.k, &names),
            key: g.k,
            month: g.month,
            visits: g.visits,
            kesehatan_average: mean(g.s0, g.n0),
            kesehatan_count: g.n0,
            pendidikan_average: mean(g.s1, g.n1),
            pendidikan_count: g.n1,
            pangan_average: mean(g.s2, g.n2),
            pangan_count: g.n2,
            papan_average: mean(g.s3, g.n3),
            papan_count: g.n3,
            ekonomi_average: mean(g.s4, g.n4),
            ekonomi_count: g.n4,
        })
        .collect();
    rows.sort_by(|a, b| (&a.key, &a.month).cmp(&(&b.key, &b.month)));
    let (from, to) = period.texts();
    Ok(super::answer(csv, "conditions.csv", &rows, || Report {
        group_by: super::group_label(group),
        from: Some(from),
        to: Some(to),
        rows: rows.clone(),
    }))
}
