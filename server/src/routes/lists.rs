//! The admin lists: `GET /v1/admin/{households,visits,aid,officers,devices,assignments}`,
//! a page of JSON, or with `format=csv` every matching row streamed.

use actix_web::{HttpResponse, web};

use crate::api::assignments::AssignmentQuery;
use crate::api::lists::{
    AidListQuery, DeviceListQuery, HouseholdListQuery, OfficerListQuery, VisitListQuery,
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
pub async fn aid(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<AidListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    answer(state, "aid.csv", move |c, _| admin::list_aid(c, &caller, q)).await
}

/// `GET /v1/admin/officers`.
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
