//! `POST /v1/sync/push` and `GET /v1/sync/pull`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use sync_protocol::wire::{PullResponse, PushRequest, PushResponse};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::json_body::JsonBody;
use crate::query_params::QueryParams;
use crate::service;
use crate::startup::AppState;

/// Pushes a batch of the device's queued operations.
#[utoipa::path(
    post,
    path = "/v1/sync/push",
    tag = "sync",
    summary = "Upload a batch of the device's operations",
    request_body = PushRequest,
    responses(
        (status = 200, description = "One result per operation, in sequence order (docs/sync-protocol.md).", body = PushResponse),
    ),
)]
pub async fn push(
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<PushRequest>,
) -> Result<HttpResponse, ApiError> {
    let req = body.into_inner();
    let resp = super::with_conn(&state, move |conn, st| {
        service::sync::push(conn, &st.limits, &caller, req)
    })
    .await?;
    Ok(HttpResponse::Ok().json(resp))
}

/// Query of a pull.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PullQuery {
    /// The cursor from the previous page; absent for a first pull.
    pub cursor: Option<String>,
    /// Page size, at most the server's.
    pub limit: Option<i64>,
}

/// Pulls one page of changes since the cursor.
#[utoipa::path(
    get,
    path = "/v1/sync/pull",
    tag = "sync",
    summary = "Download one page of the changes in the caller's scope",
    params(PullQuery),
    responses(
        (status = 200, description = "A page of changes and removals; gzip when the device accepts it.", body = PullResponse),
    ),
)]
pub async fn pull(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<PullQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let resp = super::with_conn(&state, move |conn, st| {
        service::sync::pull(conn, &st.limits, &caller, q.cursor.as_deref(), q.limit)
    })
    .await?;
    Ok(HttpResponse::Ok().json(resp))
}
