//! The storage layer's error: the only place diesel's error kinds are looked at.

use diesel::r2d2;

/// A storage error.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A query failed.
    #[error(transparent)]
    Query(diesel::result::Error),
    /// A write met a unique key: a bug where the caller did not expect it, since every
    /// insert that can meet one says so in its result instead.
    #[error("unique key violated: {0}")]
    UniqueViolation(String),
    /// No connection could be had.
    #[error("database unavailable: {0}")]
    Pool(#[from] r2d2::PoolError),
    /// A stored value could not be read back (corruption or a bug).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}

impl From<diesel::result::Error> for DbError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                DbError::UniqueViolation(info.message().to_owned())
            }
            other => DbError::Query(other),
        }
    }
}

impl DbError {
    /// Whether retrying the whole transaction may succeed: a deadlock, a serialization
    /// failure, a busy SQLite file, no connection.
    pub fn is_transient(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        match self {
            DbError::Query(Error::DatabaseError(kind, info)) => {
                matches!(kind, DatabaseErrorKind::SerializationFailure)
                    || info.message().contains("deadlock")
                    || info.message().contains("database is locked")
            }
            DbError::Pool(_) => true,
            _ => false,
        }
    }
}

/// Storage result.
pub type DbResult<T> = Result<T, DbError>;
