//! Transactions: the write transaction that serialises writers, the read transaction that
//! sees one snapshot, and the count of writers waiting for the lock.

use std::sync::atomic::{AtomicI64, Ordering};

use diesel::connection::{AnsiTransactionManager, TransactionManager};

use super::{AnyConnection, DbError};

/// Runs `f` in a write transaction. On SQLite that is `BEGIN IMMEDIATE`: the write lock is
/// taken first, so commits are serialised in change_seq order and a read-then-write cannot
/// fail with `SQLITE_BUSY_SNAPSHOT`. On PostgreSQL it is READ COMMITTED with row locks.
pub fn write_tx<T, E>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<DbError>,
{
    run_tx(
        conn,
        "BEGIN IMMEDIATE",
        "BEGIN",
        Some(&WRITE_LOCK_WAITERS),
        f,
    )
}

/// Write transactions of this process waiting to begin. On SQLite `BEGIN IMMEDIATE` waits
/// (up to `busy_timeout`) while another connection holds the write lock; nothing else shows
/// that wait, so operators and tests read it here. On PostgreSQL `BEGIN` never waits: 0.
static WRITE_LOCK_WAITERS: AtomicI64 = AtomicI64::new(0);

/// How many write transactions of this process are waiting for `BEGIN` to return now.
pub fn write_lock_waiters() -> i64 {
    WRITE_LOCK_WAITERS.load(Ordering::SeqCst)
}

/// Counts one waiter while alive, so that an error or a panic in `BEGIN` still uncounts it.
struct Waiting<'a>(&'a AtomicI64);

impl<'a> Waiting<'a> {
    fn enter(counter: &'a AtomicI64) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Waiting(counter)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs `f` in a read transaction that sees one snapshot: REPEATABLE READ, READ ONLY on
/// PostgreSQL (the pull horizon and the rows it admits must come from the same snapshot);
/// a deferred transaction on SQLite (in WAL mode, one snapshot from the first read).
pub fn read_tx<T, E>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<DbError>,
{
    run_tx(
        conn,
        "BEGIN DEFERRED",
        "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
        None,
        f,
    )
}

/// Begins with the backend's statement, runs `f`, commits on success, rolls back on error.
/// Nested `transaction` calls inside `f` become savepoints. `waiters` counts the time spent
/// in the `BEGIN`.
fn run_tx<T, E>(
    conn: &mut AnyConnection,
    sqlite_begin: &str,
    postgres_begin: &str,
    waiters: Option<&AtomicI64>,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<DbError>,
{
    let begun = {
        let _waiting = waiters.map(Waiting::enter);
        match conn {
            AnyConnection::Sqlite(c) => {
                AnsiTransactionManager::begin_transaction_sql(c, sqlite_begin)
            }
            AnyConnection::Postgresql(c) => {
                AnsiTransactionManager::begin_transaction_sql(c, postgres_begin)
            }
        }
    };
    begun.map_err(|e| E::from(DbError::from(e)))?;
    match f(conn) {
        Ok(v) => {
            AnyConnection::commit_transaction(conn).map_err(|e| E::from(DbError::from(e)))?;
            Ok(v)
        }
        Err(e) => {
            if let Err(rollback) = AnyConnection::rollback_transaction(conn) {
                tracing::error!(error = %rollback, "rollback failed");
            }
            Err(e)
        }
    }
}
