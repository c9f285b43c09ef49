//! The storage layer: the only code that knows diesel and the two backends.
//!
//! Error types by layer: functions here return [`DbResult`] (diesel's error, or a pool
//! error); services turn those into `ApiError`; startup code uses `anyhow`.

pub mod admin_reports;
pub mod agencies;
pub mod areas;
pub mod assignments;
pub mod audit;
pub mod batch_store;
pub mod changes;
pub mod conflicts;
pub mod devices;
pub mod held_writes;
pub mod identity;
pub mod listing;
pub mod lists;
pub mod meta;
pub mod provision;
pub mod record_writes;
pub mod records;
pub mod registry;
pub mod removals;
pub mod reports;
pub mod reviews;
pub mod schema;
pub mod scope;
pub mod state_codec;
pub mod throttle;
pub mod tokens;
pub mod typed_tables;
pub mod users;

mod backend;
mod error;
mod migrations;
mod transaction;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;

pub use backend::{Backend, Manager, Pool, PooledConn, connect, redact};
pub use error::{DbError, DbResult};
pub use migrations::{migrate, migrate_until, open};
pub use transaction::{read_tx, write_lock_waiters, write_tx};

/// One connection to either backend; the backend comes from the database URL.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// PostgreSQL, for production and several server instances.
    Postgresql(PgConnection),
    /// Embedded SQLite, the default: one file, one server instance.
    Sqlite(SqliteConnection),
}

/// Runs the same expression against whichever backend connection `$conn` holds, for the few
/// statements outside `MultiConnection`'s common subset (upserts, row locks, RETURNING).
macro_rules! per_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::AnyConnection::Postgresql($c) => $body,
            $crate::db::AnyConnection::Sqlite($c) => $body,
        }
    };
}
pub(crate) use per_backend;

/// Whether the database answers.
pub fn ping(conn: &mut AnyConnection) -> DbResult<()> {
    conn.batch_execute("SELECT 1")?;
    Ok(())
}

/// Milliseconds since the Unix epoch, as stored.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub(crate) fn to_i64(n: u64) -> DbResult<i64> {
    i64::try_from(n).map_err(|_| DbError::Corrupt(format!("{n} does not fit a BIGINT")))
}

pub(crate) fn to_u64(n: i64) -> DbResult<u64> {
    u64::try_from(n).map_err(|_| DbError::Corrupt(format!("negative counter {n}")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::redact;

    #[test]
    fn redact_hides_the_password_and_keeps_the_rest() {
        assert_eq!(
            redact("postgres://kampung:s3cret@db.local:5432/kampung?sslmode=require"),
            "postgres://kampung:***@db.local:5432/kampung?sslmode=require"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1:5432/postgres"),
            "postgres://postgres@127.0.0.1:5432/postgres"
        );
        assert_eq!(redact("postgress://u:typo@h/db"), "postgress://u:***@h/db");
    }
}
