//! The admin lists: `GET /v1/admin/{households,visits,aid,officers,devices,assignments}`,
//! a page of JSON, or with `format=csv` every matching row streamed.

use actix_web::{HttpResponse, web};

use crate::api::admin::DeviceView;
use crate::api::assignments::{AssignmentQuery, AssignmentView};
use crate::api::lists::{
    AidItem, AidListQuery, DeviceListQuery, HouseholdItem, HouseholdListQuery, OfficerItem,
    OfficerListQuery, Page, VisitItem, VisitListQuery,
};
use crate::auth::Caller;
use crate::db::PooledConn;
use crate::error::ApiError;
use crate::query_params::QueryParams;
use crate::service::admin;
use crate::service::csv_export;
use crate::service::listing::{List, Listed};
use crate::startup::AppState;

/// Runs the list's service and answers its page, or streams its CSV as `filename`.
async fn answer<L, F>(
    state: web::Data<AppState>,
    filename: &'static str,
    f: F,
) -> Result<HttpResponse, ApiError>
where
    L: List,
    F: FnOnce(&mut PooledConn, &AppState) -> Result<Listed<L>, ApiError> + Send + 'static,
{
    match super::with_conn(&state, f).await? {
        Listed::Page(page) => Ok(HttpResponse::Ok().json(page)),
        Listed::Csv(query) => Ok(csv_export::stream_list(state.pool.clone(), filename, query)),
    }
}

/// `GET /v1/admin/households`.
#[utoipa::path(
    get,
    path = "/v1/admin/households",
    tag = "admin",
    operation_id = "list_households",
    summary = "List households: filters, sort, a page or CSV",
    params(HouseholdListQuery),
    responses((status = 200, description = "A page (`format=json`, the default), or with `format=csv` every matching row, streamed (docs/api.md sections 7.12, 7.13; KK and NIK only in a regency admin's CSV with `include_identity` and a `reason`).", content((Page<HouseholdItem> = "application/json"), (String = "text/csv")))),
)]
pub async fn households(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<HouseholdListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    answer(state, "households.csv", move |c, s| {
        admin::list_households(c, &caller, &s.pii, q, s.reporting, chrono::Utc::now())
    })
    .await
}

/// `GET /v1/admin/visits`.
#[utoipa::path(
    get,
    path = "/v1/admin/visits",
    tag = "admin",
    operation_id = "list_visits",
    summary = "List visits: filters, sort, a page or CSV",
    params(VisitListQuery),
    responses((status = 200, description = "A page (`format=json`, the default), or with `format=csv` every matching row, streamed (docs/api.md sections 7.12, 7.13).", content((Page<VisitItem> = "application/json"), (String = "text/csv")))),
)]
pub async fn visits(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<VisitListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    answer(state, "visits.csv", move |c, s| {
        admin::list_visits(c, &caller, q, s.reporting)
    })
    .await
}

/// `GET /v1/admin/aid`.
#[utoipa::path(
    get,
    path = "/v1/admin/aid",
    tag = "admin",
    operation_id = "list_aid",
    summary = "List aid records: filters, sort, a page or CSV",
    params(AidListQuery),
    responses((status = 200, description = "A page (`format=json`, the default), or with `format=csv` every matching row, streamed (docs/api.md sections 7.12, 7.13).", content((Page<AidItem> = "application/json"), (String = "text/csv")))),
)]
pub async fn aid(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<AidListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    answer(state, "aid.csv", move |c, _| admin::list_aid(c, &caller, q)).await
}

/// `GET /v1/admin/officers`.
#[utoipa::path(
    get,
    path = "/v1/admin/officers",
    tag = "admin",
    operation_id = "list_officers",
    summary = "List officers with their households and last sync",
    params(OfficerListQuery),
    responses((status = 200, description = "A page (`format=json`, the default), or with `format=csv` every matching row, streamed (docs/api.md sections 7.12, 7.13).", content((Page<OfficerItem> = "application/json"), (String = "text/csv")))),
)]
pub async fn officers(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<OfficerListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    answer(state, "officers.csv", move |c, _| {
        admin::list_officers(c, &caller, q)
    })
    .await
}

/// `GET /v1/admin/devices`.
#[utoipa::path(
    get,
    path = "/v1/admin/devices",
    tag = "admin",
    operation_id = "list_devices",
    summary = "List devices",
    params(DeviceListQuery),
    responses((status = 200, description = "A page (`format=json`, the default), or with `format=csv` every matching row, streamed (docs/api.md sections 7.12, 7.13).", content((Page<DeviceView> = "application/json"), (String = "text/csv")))),
)]
pub async fn devices(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<DeviceListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    answer(state, "devices.csv", move |c, _| {
        admin::list_devices(c, &caller, q)
    })
    .await
}

/// `GET /v1/admin/assignments`.
#[utoipa::path(
    get,
    path = "/v1/admin/assignments",
    tag = "admin",
    operation_id = "list_assignments",
    summary = "List assignments: a household's history, an officer's households",
    params(AssignmentQuery),
    responses((status = 200, description = "A page (`format=json`, the default), or with `format=csv` every matching row, streamed (docs/api.md sections 7.12, 7.13).", content((Page<AssignmentView> = "application/json"), (String = "text/csv")))),
)]
pub async fn assignments(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<AssignmentQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    answer(state, "assignments.csv", move |c, _| {
        admin::list_assignments(c, &caller, q)
    })
    .await
}
