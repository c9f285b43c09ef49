//! The two migration trees describe one schema history: the same versions, in both.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn tree(backend: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../migrations")
        .join(backend)
}

/// The names of the version directories under `migrations/<backend>`.
fn versions(backend: &str) -> BTreeSet<String> {
    let dir = tree(backend);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_type().unwrap().is_dir())
        .map(|entry| entry.file_name().into_string().unwrap())
        .collect()
}

#[test]
fn sqlite_and_postgres_migrations_have_the_same_versions_each_with_up_and_down() {
    let sqlite = versions("sqlite");
    let postgres = versions("postgres");
    assert!(
        !sqlite.is_empty(),
        "no migrations found in {:?}",
        tree("sqlite")
    );
    assert_eq!(
        sqlite, postgres,
        "migrations/sqlite and migrations/postgres must hold the same version directories"
    );
    for backend in ["sqlite", "postgres"] {
        for version in &sqlite {
            for file in ["up.sql", "down.sql"] {
                let path = tree(backend).join(version).join(file);
                assert!(path.is_file(), "{} is missing", path.display());
            }
        }
    }
}
