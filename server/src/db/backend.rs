//! Which database a URL names, connections to it, and the pool.

use std::path::{Path, PathBuf};

use diesel::Connection;
use diesel::connection::{SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;

use super::AnyConnection;

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

    pub(super) fn connect(&self) -> diesel::ConnectionResult<AnyConnection> {
        match self {
            Backend::Postgres(url) => {
                let mut c = PgConnection::establish(url)?;
                // No JIT: the server's statements run for milliseconds to a few hundred;
                // compiling one took 40-65 ms of a report's time (docs/benchmarks.md).
                c.batch_execute("SET jit = off")
                    .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
                Ok(AnyConnection::Postgresql(c))
            }
            Backend::Sqlite(path) => {
                let mut c = SqliteConnection::establish(&path.to_string_lossy())?;
                // Per-connection settings: SQLite does not keep these in the file.
                // synchronous = FULL: a device deletes what the server acknowledged, so
                // an acknowledged commit must survive a power cut (NORMAL may lose it).
                c.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
                     PRAGMA cache_size = -32768; PRAGMA mmap_size = 268435456;",
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
    pub(super) backend: Backend,
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

/// One connection outside the pool (command-line tools, tests).
pub fn connect(url: &str) -> anyhow::Result<AnyConnection> {
    let backend = Backend::from_url(url)?;
    backend
        .connect()
        .map_err(|e| anyhow::anyhow!("cannot connect to the {} database: {e}", backend.name()))
}

/// Creates the data folder and, on first start, an empty database file readable by its
/// owner only: it will hold personal data and password hashes. SQLite gives the WAL and
/// shared-memory files the same permissions as the database file.
pub(super) fn create_parent(path: &Path) -> anyhow::Result<()> {
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
