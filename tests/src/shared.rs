//! Rules that every test of the workspace follows: when the PostgreSQL leg runs, and how to
//! wait until something has happened. `server/tests/binary.rs` compiles this file too, by
//! path: it must stay in the server's package to run the server's binary, and that package
//! cannot depend on this one, so a copy would be the only other way. Hence it uses nothing
//! but std, diesel and `kampung_sync`.

use std::time::{Duration, Instant};

use kampung_sync::db::AnyConnection;

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

/// How long [`wait_until`] waits: far above any wait a healthy test has, far below the
/// server's own timeouts (a request waits 10 s on a lock before it is retried).
pub const WAIT: Duration = Duration::from_secs(10);

/// Polls `done` until it holds; fails the test, naming `what`, if it does not within
/// [`WAIT`].
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "waited {WAIT:?} and still not true: {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Backends of the database `conn` is connected to that wait for a lock (PostgreSQL only).
/// The database is the test's own, so other tests' waits do not count.
pub fn pg_lock_waiters(conn: &mut AnyConnection) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Num {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let waiting = "SELECT CAST(count(*) AS BIGINT) AS n FROM pg_stat_activity \
                   WHERE datname = current_database() AND wait_event_type = 'Lock'";
    diesel::RunQueryDsl::get_result::<Num>(diesel::sql_query(waiting), conn)
        .unwrap_or_else(|e| panic!("cannot read pg_stat_activity: {e}"))
        .n
}
