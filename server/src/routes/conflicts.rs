//! `/v1/admin/records/{collection}/{id}/history` and `/v1/admin/conflicts...`: a record's
//! writes, the conflict inbox and resolutions.

use actix_web::{HttpResponse, web};

use crate::api::conflicts::{ConflictQuery, HistoryQuery, Resolution};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::json_body::JsonBody;
use crate::query_params::QueryParams;
use crate::service::admin;
use crate::startup::AppState;

use super::admin::{edit_answer, record_in_path};

/// `GET /v1/admin/records/{collection}/{id}/history?limit=&cursor=`.
pub async fn record_history(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    query: QueryParams<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let (collection, id) = record_in_path(&path)?;
    let q = query.into_inner();
    let v = super::with_conn(&state, move |c, _| {
        admin::record_history(c, &caller, &collection, id, q)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// `GET /v1/admin/conflicts?collection=&kecamatan=&desa=&agency=&limit=&cursor=`.
pub async fn list_conflicts(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<ConflictQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let v = super::with_conn(&state, move |c, _| admin::list_conflicts(c, &caller, q)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// `POST /v1/admin/conflicts/{collection}/{id}/resolve`.
pub async fn resolve_conflict(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: JsonBody<Resolution>,
) -> Result<HttpResponse, ApiError> {
    let (collection, id) = record_in_path(&path)?;
    let r = body.into_inner();
    let done = super::with_conn(&state, move |c, _| {
        admin::resolve_conflict(c, &caller, &collection, id, r)
    })
    .await?;
    Ok(edit_answer(done))
}
