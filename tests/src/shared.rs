//! Rules that every test of the workspace follows: when the PostgreSQL leg runs.
//! `server/tests/binary.rs` compiles this file too, by path: it must stay in the server's
//! package to run the server's binary, and that package cannot depend on this one, so a copy
//! would be the only other way. Hence it uses nothing but std.

/// The variable that turns the PostgreSQL leg on: a URL to an existing database on the
/// server to create test databases on.
pub const PG_ENV: &str = "KAMPUNG_TEST_PG_URL";

/// The PostgreSQL URL of [`PG_ENV`] when the leg is on. Off, a test prints a note and skips
/// its PostgreSQL leg on a developer's machine; in CI (`CI` set) it fails instead, so that a
/// CI without PostgreSQL cannot pass with half of its tests never run.
pub fn pg_admin_url() -> Option<String> {
    if let Some(url) = std::env::var(PG_ENV).ok().filter(|v| !v.is_empty()) {
        return Some(url);
    }
    if std::env::var("CI").is_ok_and(|v| !v.is_empty()) {
        panic!("CI is set but {PG_ENV} is not: the PostgreSQL leg must run in CI");
    }
    eprintln!("PostgreSQL leg off: set {PG_ENV} to run this test on PostgreSQL");
    None
}
