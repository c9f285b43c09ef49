//! Opening a database: the embedded migrations of each backend, run at start, and the pool.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::backend::{Manager, create_parent};
use super::{AnyConnection, Backend, Pool, meta};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// The version that creates the typed query tables, as diesel names applied versions.
const QUERY_TABLES: &str = "20261202000300";
/// The migration that added the derived columns (distances, household totals), which SQL
/// cannot compute from the rows already there.
const DERIVED_COLUMNS: &str = "20261203000000";
/// The migration that added aid's UTC time and visits' review columns.
const AID_UTC_AND_REVIEW: &str = "20261204000000";

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
    .collect::<Vec<String>>();
    // The typed tables start empty, and the derived columns start unset: fill them from the
    // records the database already holds, in the migrating transaction's stead (SQL cannot
    // read the merge state, and SQLite has no trigonometry for the distances).
    if applied.iter().any(|v| {
        [QUERY_TABLES, DERIVED_COLUMNS, AID_UTC_AND_REVIEW]
            .iter()
            .any(|m| v.starts_with(m))
    }) {
        super::write_tx(conn, super::typed_tables::rebuild)?;
    }
    meta::ensure_epoch(conn)?;
    meta::check_identity(conn)?;
    Ok(applied)
}
