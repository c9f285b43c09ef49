//! The storage layer: the only code that knows diesel and the two backends.
//!
//! Error types by layer: functions here return [`DbResult`] (diesel's error, or a pool
//! error); services turn those into `ApiError`; startup code uses `anyhow`.

pub mod agencies;
pub mod audit;
pub mod batch_store;
pub mod changes;
pub mod devices;
pub mod meta;
pub mod provision;
pub mod records;
pub mod schema;
pub mod state_codec;
pub mod throttle;
pub mod tokens;
pub mod users;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use diesel::Connection;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

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

/// Which backend a URL names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A PostgreSQL URL, as given.
    Postgres(String),
    /// The path of an SQLite file.
    Sqlite(PathBuf),
}

impl Backend {
    /// Reads a database URL: `postgres://…` or `postgresql://…`, `sqlite://path` or
    /// `sqlite:path`. Anything else is refused rather than guessed, so a typo cannot create
    /// a fresh empty database.
    pub fn from_url(url: &str) -> anyhow::Result<Backend> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres(url.to_owned()))
        } else if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            anyhow::ensure!(!path.is_empty(), "the SQLite URL `{url}` names no file");
            anyhow::ensure!(
                path != ":memory:",
                "an in-memory SQLite database would be one empty database per pooled connection"
            );
            Ok(Backend::Sqlite(PathBuf::from(path)))
        } else {
            anyhow::bail!(
                "unsupported DATABASE_URL `{}`: use postgres://… or sqlite://path",
                redact(url)
            )
        }
    }

    /// A short name for logs and health checks.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Postgres(_) => "postgres",
            Backend::Sqlite(_) => "sqlite",
        }
    }

    fn connect(&self) -> diesel::ConnectionResult<AnyConnection> {
        match self {
            Backend::Postgres(url) => PgConnection::establish(url).map(AnyConnection::Postgresql),
            Backend::Sqlite(path) => {
                let mut c = SqliteConnection::establish(&path.to_string_lossy())?;
                // Per-connection settings: SQLite does not keep these in the file.
                // synchronous = FULL: a device deletes what the server acknowledged, so
                // an acknowledged commit must survive a power cut (NORMAL may lose it).
                c.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
                )
                .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
                Ok(AnyConnection::Sqlite(c))
            }
        }
    }
}

/// Hides a password in a URL for logs.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.into()
        }
        _ => url.to_owned(),
    }
}

/// An r2d2 manager that picks the backend from the URL and keeps the real connection error
/// (the derived `establish` tries each backend and reports only "invalid URL").
#[derive(Clone, Debug)]
pub struct Manager {
    backend: Backend,
}

impl ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, r2d2::Error> {
        self.backend.connect().map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        AnyConnection::is_broken_transaction_manager(conn)
    }
}

/// The connection pool.
pub type Pool = r2d2::Pool<Manager>;
/// A pooled connection.
pub type PooledConn = r2d2::PooledConnection<Manager>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// Opens the database (creating the SQLite file and its folder if needed), runs pending
/// migrations, makes sure the epoch exists, and returns a pool.
pub fn open(backend: &Backend, pool_size: u32) -> anyhow::Result<Pool> {
    if let Backend::Sqlite(path) = backend {
        create_parent(path)?;
    }
    migrate(backend)?;
    let pool = r2d2::Pool::builder()
        .max_size(pool_size)
        .connection_timeout(Duration::from_secs(10))
        .build(Manager {
            backend: backend.clone(),
        })?;
    Ok(pool)
}

/// Creates the data folder and, on first start, an empty database file readable by its
/// owner only: it will hold personal data and password hashes. SQLite gives the WAL and
/// shared-memory files the same permissions as the database file.
fn create_parent(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create the data folder {}: {e}", dir.display()))?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(anyhow::anyhow!(
            "cannot create the database file {}: {e}",
            path.display()
        )),
    }
}

/// Runs pending migrations on one connection, then makes sure the epoch row exists.
/// Returns the versions applied.
pub fn migrate(backend: &Backend) -> anyhow::Result<Vec<String>> {
    if let Backend::Sqlite(path) = backend {
        create_parent(path)?;
    }
    let mut conn = backend
        .connect()
        .map_err(|e| anyhow::anyhow!("cannot connect to the {} database: {e}", backend.name()))?;
    // Several instances may start at once: one migrates and checks the identity, the
    // others wait, so that a moved database gets one new epoch, not one per instance.
    if let AnyConnection::Postgresql(c) = &mut conn {
        c.batch_execute("SELECT pg_advisory_lock(7349121)")?;
    }
    let result = migrate_locked(&mut conn);
    if let AnyConnection::Postgresql(c) = &mut conn {
        c.batch_execute("SELECT pg_advisory_unlock(7349121)")?;
    }
    result
}

/// Applies, in order, only the pending migrations whose version sorts before `version`:
/// a database as the release before that migration left it, for testing data migrations
/// on what an older server wrote.
pub fn migrate_until(conn: &mut AnyConnection, version: &str) -> anyhow::Result<()> {
    fn run<C: MigrationHarness<B>, B: diesel::backend::Backend>(
        c: &mut C,
        source: EmbeddedMigrations,
        version: &str,
    ) -> anyhow::Result<()> {
        let mut migrations = diesel::migration::MigrationSource::<B>::migrations(&source)
            .map_err(|e| anyhow::anyhow!("cannot read the migrations: {e}"))?;
        migrations.sort_by_key(|m| m.name().version().to_string());
        let applied = c
            .applied_migrations()
            .map_err(|e| anyhow::anyhow!("cannot read the applied migrations: {e}"))?;
        for m in migrations {
            let v = m.name().version().to_string();
            if v.as_str() < version && !applied.contains(&m.name().version()) {
                c.run_migration(&m)
                    .map_err(|e| anyhow::anyhow!("migration {} failed: {e}", m.name()))?;
            }
        }
        Ok(())
    }
    let version = version.replace('-', "");
    match conn {
        AnyConnection::Sqlite(c) => run(c, SQLITE_MIGRATIONS, &version),
        AnyConnection::Postgresql(c) => run(c, POSTGRES_MIGRATIONS, &version),
    }
}

fn migrate_locked(conn: &mut AnyConnection) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
        AnyConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
    }
    .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?
    .iter()
    .map(ToString::to_string)
    .collect();
    meta::ensure_epoch(conn)?;
    meta::check_identity(conn)?;
    Ok(applied)
}

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

/// One connection outside the pool (command-line tools, tests).
pub fn connect(url: &str) -> anyhow::Result<AnyConnection> {
    let backend = Backend::from_url(url)?;
    backend
        .connect()
        .map_err(|e| anyhow::anyhow!("cannot connect to the {} database: {e}", backend.name()))
}

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
