//! Services: the rules of each use case, one file per action, over one database
//! transaction each. They speak `ApiError` and the API types; only `db/` knows diesel.

pub mod accounts;
pub mod admin;
pub mod audit;
pub mod authorize;
pub mod csv_export;
mod csv_rows;
pub mod housekeeping;
pub mod identity;
pub mod listing;
pub mod names;
mod page_limit;
pub mod reports;
pub mod seed;
pub mod sync;

pub use page_limit::{page_limit, pull_limit};

use actix_web::web;

use crate::db::PooledConn;
use crate::error::ApiError;
use crate::startup::AppState;

/// Runs blocking database work on actix's blocking pool with a pooled connection, which is
/// returned to the pool when `f` ends.
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
