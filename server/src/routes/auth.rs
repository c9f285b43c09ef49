//! Sign-in, refresh, password change, and the caller's own account.

use actix_web::{HttpResponse, web};

use crate::api::accounts::{LoginRequest, PasswordChange, RefreshRequest};
use crate::auth::{Caller, ClientAddr, Keys};
use crate::error::ApiError;
use crate::json_body::JsonBody;
use crate::service::accounts;
use crate::startup::AppState;

/// `POST /v1/auth/login`: user name, password and device id give an access token and a
/// refresh credential bound to the device.
pub async fn login(
    state: web::Data<AppState>,
    keys: web::Data<Keys>,
    addr: ClientAddr,
    body: JsonBody<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let resp = accounts::login(&state, keys, body.into_inner(), addr.0).await?;
    Ok(HttpResponse::Ok().json(resp))
}

/// `POST /v1/auth/refresh`: a refresh credential gives new tokens (the old credential is
/// used up).
pub async fn refresh(
    state: web::Data<AppState>,
    keys: web::Data<Keys>,
    addr: ClientAddr,
    body: JsonBody<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let req = body.into_inner();
    let resp = super::with_conn(&state, move |conn, st| {
        accounts::refresh(conn, &keys, &st.auth, req, addr.0)
    })
    .await?;
    Ok(HttpResponse::Ok().json(resp))
}

/// `POST /v1/auth/password`: change one's own password.
pub async fn change_password(
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    accounts::change_password(&state, caller, body.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /v1/me`: the caller's own account.
pub async fn me(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let me = super::with_conn(&state, move |conn, _| accounts::me(conn, &caller)).await?;
    Ok(HttpResponse::Ok().json(me))
}
