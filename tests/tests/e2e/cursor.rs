//! The pull cursor never skips a change (T16 on PostgreSQL, T17 on SQLite, and concurrent
//! writers on both).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use kampung_sync::db::AnyConnection;
use kampung_sync_tests::*;
use serde_json::{Value, json};
use uuid::Uuid;

kampung_sync_tests::on_both_backends!(
    pull_never_skips_a_change_under_concurrent_pushes,
    pull_pages_are_bounded_and_resume_from_the_cursor,
);

fn ids(changes: &[Value]) -> Vec<String> {
    changes
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

fn pull_never_skips_a_change_under_concurrent_pushes(b: Backend) {
    let db = TestDb::new(b);
    let s1 = TestServer::start(&db);
    let s2 = TestServer::start(&db);
    let writers: Vec<Device> = (0..4)
        .map(|i| Device::new(&s1, &format!("officer-{i}")))
        .collect();
    let mut reader = Device::new(&s1, "supervisor");
    let mut latest: BTreeMap<String, u64> = BTreeMap::new();
    std::thread::scope(|sc| {
        for (i, w) in writers.iter().enumerate() {
            let server = if i % 2 == 0 { &s1 } else { &s2 };
            sc.spawn(move || {
                for k in 0..15u64 {
                    let r = Uuid::now_v7();
                    let (status, body) = w.push(
                        server,
                        vec![put_household(k + 1, r, 0, None, &format!("w{i}-{k}"))],
                    );
                    assert_eq!(status, 200, "{body}");
                }
            });
        }
        // Pull while writers commit in arbitrary order.
        for _ in 0..20 {
            for rec in reader.pull_once(&s1) {
                latest.insert(
                    rec["id"].as_str().unwrap().into(),
                    rec["version"].as_u64().unwrap(),
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    for rec in reader.pull_all(&s2) {
        latest.insert(
            rec["id"].as_str().unwrap().into(),
            rec["version"].as_u64().unwrap(),
        );
    }
    let mut fresh = Device::new(&s1, "fresh");
    let everything: BTreeSet<String> = ids(&fresh.pull_all(&s1)).into_iter().collect();
    assert_eq!(everything.len(), 60);
    assert_eq!(
        latest.keys().cloned().collect::<BTreeSet<_>>(),
        everything,
        "a change was skipped"
    );
}

fn pull_pages_are_bounded_and_resume_from_the_cursor(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let w = Device::new(&s, "officer");
    let ops: Vec<Value> = (1..=25)
        .map(|i| put_household(i, Uuid::now_v7(), 0, None, &format!("h{i}")))
        .collect();
    w.push_ok(&s, ops);
    let mut d = Device::new(&s, "reader");
    let mut pages = Vec::new();
    loop {
        let (status, page) = d.pull_page(&s, Some(10));
        assert_eq!(status, 200);
        pages.push(page["changes"].as_array().unwrap().len());
        d.cursor = page["cursor"].as_str().map(str::to_owned);
        if page["has_more"] != json!(true) {
            break;
        }
    }
    assert_eq!(pages.iter().sum::<usize>(), 25);
    assert!(pages.iter().all(|n| *n <= 10));
    assert!(d.pull_all(&s).is_empty(), "nothing new after the last page");
    w.push_ok(
        &s,
        vec![patch_household(
            26,
            Uuid::now_v7(),
            0,
            None,
            json!({"phone": "1"}),
        )],
    );
    // A patch of an unknown record is rejected and produces no change.
    assert!(d.pull_all(&s).is_empty());
}

/// Pulls until `n` changes have arrived. Other tests' transactions on the same cluster can
/// hold the horizon back for a moment; a stall is allowed, a skip or a repeat is not.
fn pull_until(d: &mut Device, s: &TestServer, n: usize) -> Vec<String> {
    let mut got = Vec::new();
    for _ in 0..200 {
        got.extend(ids(&d.pull_once(s)));
        if got.len() >= n {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    got
}

/// T16: out-of-order commits on PostgreSQL are delivered once each, never skipped.
#[test]
fn t16_postgres_out_of_order_commits_are_never_skipped() {
    let Some(b) = Backend::postgres() else { return };
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let w = Device::new(&s, "officer");
    let (r1, r2) = (Uuid::now_v7(), Uuid::now_v7());
    w.push_ok(
        &s,
        vec![
            put_household(1, r1, 0, None, "R1"),
            put_household(2, r2, 0, None, "R2"),
        ],
    );
    let mut d = Device::new(&s, "reader");
    assert_eq!(d.pull_all(&s).len(), 2);

    // Connection 1 writes R1 and holds its transaction open (lower xid, lower seq).
    let mut c1 = db.connect();
    c1.batch_execute(&format!(
        "BEGIN; UPDATE records SET updated_at = updated_at + 1 WHERE id = '{r1}';"
    ))
    .unwrap();
    // Connection 2 (the server) writes R2 and commits (higher xid, higher seq).
    w.push_ok(
        &s,
        vec![patch_household(3, r2, 1, None, json!({"phone": "0811"}))],
    );
    let first = d.pull_once(&s);
    assert!(
        first.is_empty(),
        "R2 must wait behind the open transaction: {first:?}"
    );
    let (_, health) = s.get("/healthz", None);
    assert!(
        health["pull_horizon_lag"].as_i64().unwrap() >= 1,
        "lag is visible: {health}"
    );

    c1.batch_execute("COMMIT;").unwrap();
    let mut expected = vec![r1.to_string(), r2.to_string()];
    expected.sort();
    let mut got = pull_until(&mut d, &s, 2);
    got.sort();
    assert_eq!(got, expected, "each returned exactly once after the commit");
}

/// T16, xid 98/99/100: a seq cursor with an xid filter would skip B; (xid, seq) does not.
#[test]
fn t16_postgres_xid_98_99_100_variant_delivers_both_rows() {
    let Some(b) = Backend::postgres() else { return };
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let w = Device::new(&s, "officer");
    let (ra, rb) = (Uuid::now_v7(), Uuid::now_v7());
    w.push_ok(
        &s,
        vec![
            put_household(1, ra, 0, None, "A"),
            put_household(2, rb, 0, None, "B"),
        ],
    );
    let mut d = Device::new(&s, "reader");
    assert_eq!(d.pull_all(&s).len(), 2);

    let (mut t98, mut t99, mut t100) = (db.connect(), db.connect(), db.connect());
    let xid = |c: &mut AnyConnection| {
        c.batch_execute("BEGIN;").unwrap();
        scalar(c, "SELECT pg_current_xact_id()::text::bigint AS n")
    };
    let (x98, x99, x100) = (xid(&mut t98), xid(&mut t99), xid(&mut t100));
    assert!(x98 < x99 && x99 < x100);
    // 100 writes B first (lower seq) and commits; 98 writes A (higher seq) and commits.
    t100.batch_execute(&format!(
        "UPDATE records SET updated_at = updated_at + 1 WHERE id = '{rb}'; COMMIT;"
    ))
    .unwrap();
    t98.batch_execute(&format!(
        "UPDATE records SET updated_at = updated_at + 1 WHERE id = '{ra}'; COMMIT;"
    ))
    .unwrap();
    let seq = |id: Uuid| {
        scalar(
            &mut db.connect(),
            &format!("SELECT change_seq AS n FROM records WHERE id = '{id}'"),
        )
    };
    assert!(seq(rb) < seq(ra), "B has the lower seq, A the higher");

    let while_open = pull_until(&mut d, &s, 1);
    assert_eq!(
        while_open,
        vec![ra.to_string()],
        "only A is below the horizon"
    );
    // B is committed, so only the open 99 can keep it back: the lag shows it waiting.
    let (_, health) = s.get("/healthz", None);
    assert!(
        health["pull_horizon_lag"].as_i64().unwrap() >= 1,
        "B is committed and held back: {health}"
    );
    assert!(d.pull_once(&s).is_empty(), "B waits while 99 is open");
    t99.batch_execute("ROLLBACK;").unwrap();
    let after = pull_until(&mut d, &s, 1);
    assert_eq!(after, vec![rb.to_string()], "B arrives once 99 ends");
    assert!(d.pull_all(&s).is_empty(), "and nothing twice");
}

/// T17: SQLite's change sequence follows commit order and is never reused.
#[test]
fn t17_sqlite_change_seq_is_never_reused_after_deleting_the_top_row() {
    let db = TestDb::new(Backend::Sqlite);
    let s = TestServer::start(&db);
    let w = Device::new(&s, "officer");
    let (r1, r2, r3) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    w.push_ok(
        &s,
        vec![
            put_household(1, r1, 0, None, "1"),
            put_household(2, r2, 0, None, "2"),
        ],
    );
    let mut conn = db.connect();
    let top = scalar(&mut conn, "SELECT max(change_seq) AS n FROM records");
    db.execute(&format!("DELETE FROM records WHERE id = '{r2}';"));
    w.push_ok(&s, vec![put_household(3, r3, 0, None, "3")]);
    let new = scalar(
        &mut conn,
        &format!("SELECT change_seq AS n FROM records WHERE id = '{r3}'"),
    );
    assert!(new > top, "seq {new} must be above the deleted top {top}");
}

/// Keeps the latest version pulled of each record.
fn note_versions(seen: &mut BTreeMap<String, u64>, pulled: Vec<Value>) {
    for rec in pulled {
        seen.insert(
            rec["id"].as_str().unwrap().into(),
            rec["version"].as_u64().unwrap(),
        );
    }
}

/// T17: concurrent read-then-write transactions on SQLite never fail with a busy snapshot
/// (every write transaction is BEGIN IMMEDIATE), each write takes the next change number
/// inside its transaction, so number order is commit order: a reader pulling while they
/// write never steps past a number that commits later, and misses nothing.
#[test]
fn t17_sqlite_concurrent_writers_commit_in_seq_order_without_busy_errors() {
    let db = TestDb::new(Backend::Sqlite);
    let s = TestServer::start_with(&db, |a| a.pool_size = Some(8));
    let shared = Uuid::now_v7();
    let seed = Device::new(&s, "seed");
    seed.push_ok(&s, vec![put_household(1, shared, 0, None, "shared")]);
    let writers: Vec<Device> = (0..8)
        .map(|i| Device::new(&s, &format!("writer-{i}")))
        .collect();
    let mut reader = Device::new(&s, "reader");
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    let done = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|sc| {
        for (i, w) in writers.iter().enumerate() {
            let (s, done) = (&s, &done);
            sc.spawn(move || {
                for k in 1..=10u64 {
                    // Each push reads the shared record, then writes it, and creates one.
                    let (status, body) = w.push(
                        s,
                        vec![
                            patch_household(
                                2 * k - 1,
                                shared,
                                1,
                                None,
                                json!({"notes": format!("{k}")}),
                            ),
                            put_household(2 * k, Uuid::now_v7(), 0, None, &format!("w{i}-{k}")),
                        ],
                    );
                    assert_eq!(status, 200, "{body}");
                    let st = statuses(&body);
                    assert!(st[0] == "applied" || st[0] == "conflict", "{body}");
                    assert_eq!(st[1], "applied", "{body}");
                }
                done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            });
        }
        // Pull while they write: each change must arrive, at its latest version by the end.
        while done.load(std::sync::atomic::Ordering::SeqCst) < writers.len() {
            note_versions(&mut seen, reader.pull_once(&s));
        }
    });
    note_versions(&mut seen, reader.pull_once(&s));
    assert_eq!(seen.len(), 81, "the shared record and 80 new ones");
    assert_eq!(seen[&shared.to_string()], 81, "the last of 81 writes");
    assert!(seen.values().filter(|v| **v == 1).count() == 80);
    // 161 record writes took the numbers 1..=161, each once.
    let mut conn = db.connect();
    assert_eq!(
        scalar(&mut conn, "SELECT change_seq AS n FROM sync_meta"),
        161
    );
    assert_eq!(
        scalar(&mut conn, "SELECT max(change_seq) AS n FROM records"),
        161
    );
}
