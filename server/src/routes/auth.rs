//! Sign-in, refresh, password change, and the caller's own account.

use actix_web::{HttpResponse, web};

use crate::api::accounts::{LoginRequest, PasswordChange, RefreshRequest, TokenResponse, UserView};
use crate::auth::{Caller, ClientAddr, Keys};
use crate::error::ApiError;
use crate::json_body::JsonBody;
use crate::service::accounts;
use crate::startup::AppState;

/// `POST /v1/auth/login`: user name, password and device id give an access token and a
/// refresh credential bound to the device.
#[utoipa::path(
    post,
    path = "/v1/auth/login",
    tag = "auth",
    summary = "Sign in on a device",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Tokens bound to the device; the device is registered to the user.", body = TokenResponse),
    ),
)]
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
#[utoipa::path(
    post,
    path = "/v1/auth/refresh",
    tag = "auth",
    summary = "Exchange a refresh credential for new tokens",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens; the credential sent is used up.", body = TokenResponse),
    ),
)]
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
#[utoipa::path(
    post,
    path = "/v1/auth/password",
    tag = "auth",
    summary = "Change one's own password",
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed; other devices keep their tokens until they refresh."),
    ),
)]
pub async fn change_password(
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    accounts::change_password(&state, caller, body.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /v1/me`: the caller's own account.
#[utoipa::path(
    get,
    path = "/v1/me",
    tag = "auth",
    summary = "The caller's own account",
    responses(
        (status = 200, description = "The account.", body = UserView),
    ),
)]
pub async fn me(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let me = super::with_conn(&state, move |conn, _| accounts::me(conn, &caller)).await?;
    Ok(HttpResponse::Ok().json(me))
}
