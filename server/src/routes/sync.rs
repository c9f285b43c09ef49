//! `POST /v1/sync/push` and `GET /v1/sync/pull`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use sync_protocol::wire::PushRequest;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::json_body::JsonBody;
use crate::query_params::QueryParams;
use crate::service;
use crate::startup::AppState;

/// Pushes a batch of the device's queued operations.
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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullQuery {
    /// The cursor from the previous page; absent for a first pull.
    pub cursor: Option<String>,
    /// Page size, at most the server's.
    pub limit: Option<i64>,
}

/// Pulls one page of changes since the cursor.
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
