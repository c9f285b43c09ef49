//! `GET /v1/admin/reports/aid`: aid given in a period (voided records left out), counted
//! with its quantity per unit and its value in rupiah, by kind and source, within a group.

use chrono::{DateTime, Utc};

use crate::api::admin_reports::{AidQuery, AidRow, Report};
use crate::auth::Caller;
use crate::db::admin_reports::{self as sql, Group};
use crate::db::{self, AnyConnection};
use crate::error::ApiError;
use crate::service::authorize;

/// Aid totals within the caller's scope (an agency admin: the aid of households assigned
/// to their agency's officers). Grouped by agency, aid counts for the agency of the officer
/// who gave it.
pub fn aid_report(
    conn: &mut AnyConnection,
    caller: &Caller,
    q: AidQuery,
    now: DateTime<Utc>,
) -> Result<super::Answer<Report<AidRow>>, ApiError> {
    let p = authorize::admin(conn, caller)?;
    let agency = p.agency_limit()?.map(|a| a.to_string());
    let csv = super::wants_csv(q.format.as_deref())?;
    let group = super::group(
        q.group_by.as_deref(),
        &[Group::Kecamatan, Group::Desa, Group::Agency, Group::Month],
    )?;
    let period = super::period(q.from.as_deref(), q.to.as_deref(), now)?;
    let buckets = period.buckets(group)?;
    let statement = sql::aid_statement(
        group,
        agency.as_deref(),
        &buckets,
        q.kind.as_deref(),
        q.source.as_deref(),
    );
    let (groups, names) = db::read_tx(conn, |c| {
        Ok::<_, ApiError>((sql::aid(c, &statement)?, sql::names(c)?))
    })?;
    let mut rows: Vec<AidRow> = groups
        .into_iter()
        .map(|g| AidRow {
            name: super::name_of(group, &g.k, &names),
            key: g.k,
            kind: g.kind,
            source: g.source,
            unit: g.unit,
            count: g.n,
            quantity: g.quantity,
            value_rupiah: g.value_rupiah,
        })
        .collect();
    rows.sort_by(|a, b| {
        (&a.key, &a.kind, &a.source, &a.unit).cmp(&(&b.key, &b.kind, &b.source, &b.unit))
    });
    let (from, to) = period.texts();
    Ok(super::answer(csv, "aid.csv", &rows, || Report {
        group_by: super::group_label(group),
        from: Some(from),
        to: Some(to),
        rows: rows.clone(),
    }))
}
