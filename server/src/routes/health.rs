//! Liveness and database reachability.

use actix_web::{HttpResponse, web};

use crate::api::health::{Healthy, Unhealthy};
use crate::db::{self, changes};
use crate::startup::AppState;

/// `GET /healthz`: 200 when the database answers, 503 when it does not.
#[utoipa::path(
    method(get, head),
    path = "/healthz",
    tag = "health",
    summary = "Liveness and database reachability",
    responses(
        (status = 200, description = "The database answers. `HEAD`: the same status, no body.", body = Healthy),
        (status = 503, description = "The database does not answer.", body = Unhealthy),
    ),
)]
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let backend = state.backend;
    let checked = super::with_conn(&state, |conn, _| {
        db::ping(conn)?;
        Ok(changes::horizon_lag(conn)?)
    })
    .await;
    match checked {
        Ok(lag) => HttpResponse::Ok().json(Healthy {
            backend,
            database: "reachable",
            password_checks: state.hashing.load(),
            pull_horizon_lag: lag,
            status: "ok",
            write_lock_waiters: db::write_lock_waiters(),
        }),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database unreachable");
            HttpResponse::ServiceUnavailable().json(Unhealthy {
                backend,
                database: "unreachable",
                status: "unavailable",
            })
        }
    }
}
