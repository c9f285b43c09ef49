//! `/v1/admin/records/{collection}/{id}/history` and `/v1/admin/conflicts...`: a record's
//! writes, the conflict inbox and resolutions.

use actix_web::{HttpResponse, web};

use crate::api::conflicts::{
    ConflictItem, ConflictQuery, HistoryQuery, Page, Resolution, WriteView,
};
use crate::api::records::{EditDone, RejectedEdit};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::json_body::JsonBody;
use crate::query_params::QueryParams;
use crate::service::admin;
use crate::startup::AppState;

use super::admin::{edit_answer, record_in_path};

/// `GET /v1/admin/records/{collection}/{id}/history?limit=&cursor=`.
#[utoipa::path(
    get,
    path = "/v1/admin/records/{collection}/{id}/history",
    tag = "admin",
    summary = "A record's writes, newest first: who, when, which device, what",
    params(("collection" = String, Path, description = "`households`, `visits`, `aid` or `reviews`."), ("id" = String, Path, description = "The record (a UUID)."), HistoryQuery),
    responses((status = 200, description = "A page of writes (docs/api.md section 7.14).", body = Page<WriteView>)),
)]
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
#[utoipa::path(
    get,
    path = "/v1/admin/conflicts",
    tag = "admin",
    summary = "The conflict inbox: open conflicts, every value side by side",
    params(ConflictQuery),
    responses((status = 200, description = "A page of open conflicts (docs/api.md section 7.15).", body = Page<ConflictItem>)),
)]
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
#[utoipa::path(
    post,
    path = "/v1/admin/conflicts/{collection}/{id}/resolve",
    tag = "admin",
    summary = "Resolve a conflict by picking a value or writing a merged one",
    params(("collection" = String, Path, description = "`households`, `visits`, `aid` or `reviews`."), ("id" = String, Path, description = "The record (a UUID).")),
    request_body = Resolution,
    responses(
        (status = 200, description = "Applied: the record as it now stands (docs/api.md section 7.15).", body = EditDone),
        (status = 422, description = "The merge rejected the resolution (`edit_rejected`): nothing was written.", body = RejectedEdit),
    ),
)]
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
