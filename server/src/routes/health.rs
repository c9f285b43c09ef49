//! Liveness and database reachability.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::db::{self, changes};
use crate::startup::AppState;

/// `GET /healthz`: 200 when the database answers, 503 when it does not.
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let backend = state.backend;
    let checked = super::with_conn(&state, |conn, _| {
        db::ping(conn)?;
        Ok(changes::horizon_lag(conn)?)
    })
    .await;
    match checked {
        Ok(lag) => HttpResponse::Ok().json(json!({
            "status": "ok",
            "database": "reachable",
            "backend": backend,
            "pull_horizon_lag": lag,
            "write_lock_waiters": db::write_lock_waiters(),
            "password_checks": state.hashing.load(),
        })),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database unreachable");
            HttpResponse::ServiceUnavailable().json(json!({
                "status": "unavailable",
                "database": "unreachable",
                "backend": backend,
            }))
        }
    }
}
