//! The answers of `GET /healthz`. Fields are declared in the order of their names, the order
//! the answer has always had.

use serde::Serialize;

use crate::auth::hashing::HashingLoad;

/// The database answers.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Healthy {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// `reachable`.
    pub database: &'static str,
    /// The password checks running and waiting now.
    pub password_checks: HashingLoad,
    /// How far the pull horizon is behind the newest change (PostgreSQL; 0 on SQLite).
    pub pull_horizon_lag: i64,
    /// `ok`.
    pub status: &'static str,
    /// Writers waiting for the write lock now.
    pub write_lock_waiters: i64,
}

/// The database does not answer.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Unhealthy {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// `unreachable`.
    pub database: &'static str,
    /// `unavailable`.
    pub status: &'static str,
}
