//! `GET /v1/admin/reports/...`: supervisors' grouped reports, as JSON or (`format=csv`) CSV.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::api::admin_reports::{
    AidQuery, AidRow, ConditionsRow, CoverageQuery, CoverageReport, LocationsRow, OfficerRow,
    OfficersQuery, PeriodQuery, Report,
};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::query_params::QueryParams;
use crate::service::reports::{self, Answer};
use crate::startup::AppState;

fn respond<T: Serialize>(a: Answer<T>) -> HttpResponse {
    match a {
        Answer::Json(v) => HttpResponse::Ok().json(v),
        Answer::Csv { filename, text } => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ))
            .body(text),
    }
}

/// `GET /v1/admin/reports/coverage?group_by=&days=&format=`.
#[utoipa::path(
    get,
    path = "/v1/admin/reports/coverage",
    tag = "admin",
    operation_id = "report_coverage",
    summary = "Coverage and overdue households by kecamatan, desa or agency",
    params(CoverageQuery),
    responses((status = 200, description = "The report (docs/api.md section 7.17), or with `format=csv` its rows as CSV.", content((CoverageReport = "application/json"), (String = "text/csv")))),
)]
pub async fn coverage(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<CoverageQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let a = super::with_conn(&state, move |c, s| {
        reports::coverage_report(c, &caller, q, s.reporting, chrono::Utc::now())
    })
    .await?;
    Ok(respond(a))
}

/// `GET /v1/admin/reports/aid?group_by=&from=&to=&kind=&source=&format=`.
#[utoipa::path(
    get,
    path = "/v1/admin/reports/aid",
    tag = "admin",
    operation_id = "report_aid",
    summary = "Aid totals: count, quantity by unit, rupiah, by kind and source",
    params(AidQuery),
    responses((status = 200, description = "The report (docs/api.md section 7.17), or with `format=csv` its rows as CSV.", content((Report<AidRow> = "application/json"), (String = "text/csv")))),
)]
pub async fn aid(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<AidQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let a = super::with_conn(&state, move |c, _| {
        reports::aid_report(c, &caller, q, chrono::Utc::now())
    })
    .await?;
    Ok(respond(a))
}

/// `GET /v1/admin/reports/officers?from=&to=&agency=&format=`.
#[utoipa::path(
    get,
    path = "/v1/admin/reports/officers",
    tag = "admin",
    operation_id = "report_officers",
    summary = "Officer activity: visits and aid; per device last sync, backlog, clock skew",
    params(OfficersQuery),
    responses((status = 200, description = "The report (docs/api.md section 7.17), or with `format=csv` its rows as CSV.", content((Report<OfficerRow> = "application/json"), (String = "text/csv")))),
)]
pub async fn officers(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<OfficersQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let a = super::with_conn(&state, move |c, _| {
        reports::officers_report(c, &caller, q, chrono::Utc::now())
    })
    .await?;
    Ok(respond(a))
}

/// `GET /v1/admin/reports/conditions?group_by=&from=&to=&format=`.
#[utoipa::path(
    get,
    path = "/v1/admin/reports/conditions",
    tag = "admin",
    operation_id = "report_conditions",
    summary = "Household conditions: aspect scores per month",
    params(PeriodQuery),
    responses((status = 200, description = "The report (docs/api.md section 7.17), or with `format=csv` its rows as CSV.", content((Report<ConditionsRow> = "application/json"), (String = "text/csv")))),
)]
pub async fn conditions(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<PeriodQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let a = super::with_conn(&state, move |c, _| {
        reports::conditions_report(c, &caller, q, chrono::Utc::now())
    })
    .await?;
    Ok(respond(a))
}

/// `GET /v1/admin/reports/locations?group_by=&from=&to=&format=`.
#[utoipa::path(
    get,
    path = "/v1/admin/reports/locations",
    tag = "admin",
    operation_id = "report_locations",
    summary = "Visits with a mocked or implausible location",
    params(PeriodQuery),
    responses((status = 200, description = "The report (docs/api.md section 7.17), or with `format=csv` its rows as CSV.", content((Report<LocationsRow> = "application/json"), (String = "text/csv")))),
)]
pub async fn locations(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<PeriodQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let a = super::with_conn(&state, move |c, s| {
        reports::locations_report(c, &caller, q, s.reporting, chrono::Utc::now())
    })
    .await?;
    Ok(respond(a))
}
