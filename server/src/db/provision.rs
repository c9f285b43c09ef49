//! Creating and dropping whole PostgreSQL databases: for tests and benchmarks that each
//! want a fresh database, and for operators setting one up.

use diesel::pg::PgConnection;
use diesel::{Connection, RunQueryDsl};

/// Creates database `name` on the server that `admin_url` (a URL to an existing database,
/// e.g. `postgres://postgres@127.0.0.1:5432/postgres`) points at, and returns its URL.
pub fn create_database(admin_url: &str, name: &str) -> anyhow::Result<String> {
    anyhow::ensure!(
        name.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
        "database names here are lowercase letters, digits and underscores"
    );
    let mut c = PgConnection::establish(admin_url).map_err(|e| {
        anyhow::anyhow!(
            "cannot reach PostgreSQL at {}: {e}",
            super::redact(admin_url)
        )
    })?;
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut c)?;
    Ok(with_database(admin_url, name))
}

/// Drops database `name`, disconnecting anyone still on it.
pub fn drop_database(admin_url: &str, name: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        name.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
        "database names here are lowercase letters, digits and underscores"
    );
    let mut c = PgConnection::establish(admin_url)?;
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut c)?;
    Ok(())
}

/// `url` with its database name replaced by `name`; user, host, port and parameters kept.
pub fn with_database(url: &str, name: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            u.set_path(&format!("/{name}"));
            u.into()
        }
        // Not a URL: let the connection attempt report it.
        Err(_) => url.to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::with_database;

    #[test]
    fn with_database_replaces_only_the_database_name() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u:p%40ss@db:5433/main?sslmode=require", "t2"),
            "postgres://u:p%40ss@db:5433/t2?sslmode=require"
        );
        assert_eq!(with_database("postgres://db", "t3"), "postgres://db/t3");
    }
}
