//! HTTP routes: thin handlers that extract, call one service, and answer.

pub mod health;
pub mod sync;

use actix_web::{HttpResponse, web};
use sync_protocol::wire::ErrorBody;

use crate::db::PooledConn;
use crate::error::ApiError;
use crate::startup::AppState;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .service(
            web::scope("/v1/sync")
                .route("/push", web::post().to(sync::push))
                .route("/pull", web::get().to(sync::pull)),
        );
}

/// The answer for unknown paths.
pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(ErrorBody::new("not_found", "no such endpoint"))
}

/// Runs blocking database work on actix's blocking pool with a pooled connection.
pub async fn with_conn<T, F>(state: &web::Data<AppState>, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut PooledConn, &AppState) -> Result<T, ApiError> + Send + 'static,
{
    let state = state.clone();
    web::block(move || {
        let mut conn = state
            .pool
            .get()
            .map_err(|e| ApiError::from(crate::db::DbError::Pool(e)))?;
        f(&mut conn, &state)
    })
    .await?
}
