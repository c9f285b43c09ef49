//! Load that must not spread: sign-in floods and the password checks, one device's many
//! requests, the throttle's audit summary, and housekeeping.

use std::thread;

use kampung_sync::auth::Role;
use kampung_sync_tests::*;
use serde_json::{Value, json};
use sync_protocol::DeviceId;
use uuid::Uuid;

use crate::merge::{hold_record_lock, release};

kampung_sync_tests::on_both_backends!(
    a_sign_in_flood_waits_for_password_checks_while_pushes_go_on,
    sign_ins_beyond_the_password_check_queue_are_refused_sign_in_busy,
    failures_over_the_server_wide_limit_pause_every_sign_in_for_that_second,
    throttled_sign_ins_are_summed_into_one_audit_entry,
    a_sign_in_on_a_device_ends_its_earlier_refresh_chains,
    one_device_beyond_its_share_is_answered_429_while_others_are_served,
    housekeeping_at_start_deletes_only_what_is_past_retention,
);

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<none>")
}

fn password_checks(s: &TestServer) -> (i64, i64) {
    let (st, h) = s.get("/healthz", None);
    assert_eq!(st, 200, "{h}");
    (
        h["password_checks"]["running"].as_i64().unwrap(),
        h["password_checks"]["waiting"].as_i64().unwrap(),
    )
}

fn login_reply(s: &TestServer, user: &str, password: &str, device: DeviceId) -> Reply {
    let body = json!({"username": user, "password": password, "device_id": device});
    s.send(
        "POST",
        "/v1/auth/login",
        &[("Content-Type".into(), "application/json".into())],
        Some(body.to_string().into_bytes()),
    )
}

/// With one database connection and one password check, 60 sign-ins at once queue for the
/// check; a push of a signed-in device meanwhile is answered while they still wait. Before,
/// each sign-in held the only connection through its Argon2 check, and the push queued
/// behind all of them.
fn a_sign_in_flood_waits_for_password_checks_while_pushes_go_on(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start_with(&db, |a| {
        a.pool_size = Some(1);
        a.load.password_checks = Some(1);
        a.load.password_queue_ms = 60_000;
    });
    let mut d = Device::new(&s, "pusher");
    s.ensure_user("flooded", Role::Officer);
    thread::scope(|scope| {
        let flood: Vec<_> = (0..60)
            .map(|_| scope.spawn(|| s.login("flooded", PASSWORD, DeviceId(Uuid::now_v7())).0))
            .collect();
        wait_until("sign-ins wait for the password check", || {
            password_checks(&s).1 >= 10
        });
        let r = Uuid::now_v7();
        let op = put_household(d.next_seq(), r, 0, None, "Siti");
        let (st, body) = d.push(&s, vec![op]);
        assert_eq!(st, 200, "{body}");
        let (_, waiting) = password_checks(&s);
        assert!(
            waiting >= 1 && flood.iter().any(|h| !h.is_finished()),
            "the push was answered while sign-ins still waited for their password check"
        );
        for h in flood {
            assert_eq!(h.join().unwrap(), 200, "every queued sign-in succeeds");
        }
    });
}

/// A sign-in that finds the password checks busy past the queue time is answered
/// `503 sign_in_busy` with `Retry-After`, and succeeds when retried.
fn sign_ins_beyond_the_password_check_queue_are_refused_sign_in_busy(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start_with(&db, |a| {
        a.load.password_checks = Some(1);
        a.load.password_queue_ms = 1;
    });
    s.ensure_user("crowded", Role::Officer);
    let replies: Vec<Reply> = thread::scope(|scope| {
        let all: Vec<_> = (0..20)
            .map(|_| scope.spawn(|| login_reply(&s, "crowded", PASSWORD, DeviceId(Uuid::now_v7()))))
            .collect();
        all.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let busy: Vec<&Reply> = replies.iter().filter(|r| r.status == 503).collect();
    assert!(
        !busy.is_empty(),
        "20 sign-ins at once on one check: some are refused"
    );
    for r in &busy {
        assert_eq!(code(&r.body), "sign_in_busy", "{}", r.body);
        assert_eq!(r.retry_after.as_deref(), Some("1"));
    }
    assert!(
        replies.iter().all(|r| r.status == 200 || r.status == 503),
        "{replies:?}"
    );
    assert!(replies.iter().any(|r| r.status == 200), "some got through");
    let (st, body) = s.login("crowded", PASSWORD, DeviceId(Uuid::now_v7()));
    assert_eq!(st, 200, "a retry alone succeeds: {body}");
}

/// Two failed sign-ins of different names within a second reach a server-wide limit of two:
/// the next sign-in, even of another user with the right password, is answered
/// `429 too_many_attempts` until the second is over.
fn failures_over_the_server_wide_limit_pause_every_sign_in_for_that_second(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start_with(&db, |a| a.load.failed_sign_ins_per_sec = 2);
    s.ensure_user("innocent", Role::Officer);
    let admin = Device::with_role(&s, "regency-admin", Role::RegencyAdmin);
    // Retried whole when the machine is so slow that the two failures and the check do not
    // fall in one second; the pause itself is what is asserted.
    let mut paused = None;
    for _ in 0..5 {
        for name in ["guess-a", "guess-b"] {
            let (st, _) = s.login(name, "wrong password!", DeviceId(Uuid::now_v7()));
            assert_eq!(st, 401);
        }
        let r = login_reply(&s, "innocent", PASSWORD, DeviceId(Uuid::now_v7()));
        if r.status == 429 {
            paused = Some(r);
            break;
        }
    }
    let r = paused.expect("the third sign-in within a second is paused");
    assert_eq!(code(&r.body), "too_many_attempts", "{}", r.body);
    assert_eq!(r.retry_after.as_deref(), Some("1"));
    wait_until("the pause ends with its second", || {
        s.login("innocent", PASSWORD, DeviceId(Uuid::now_v7())).0 == 200
    });
    let (st, log) = s.get("/v1/admin/audit?action=login_throttled", Some(&admin.token));
    assert_eq!(st, 200, "{log}");
    let targets: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["target"].as_str())
        .collect();
    assert!(targets.contains(&"global"), "{log}");
}

/// Ten failures lock a name; twenty more attempts while locked add one `login_throttled`
/// entry counting 20, not twenty entries.
fn throttled_sign_ins_are_summed_into_one_audit_entry(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start_with(&db, |a| a.load.failed_sign_ins_per_sec = 10_000);
    let admin = Device::with_role(&s, "regency-admin", Role::RegencyAdmin);
    s.ensure_user("target", Role::Officer);
    let entries_before = db.scalar("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM audit_log");
    for attempt in 1..=10 {
        // Skips the delays between failures, as if waited out.
        db.execute("UPDATE login_attempts SET locked_until = 0 WHERE key = 'user:target'");
        let (st, body) = s.login("target", "wrong password!", DeviceId(Uuid::now_v7()));
        assert_eq!(st, 401, "attempt {attempt}: {body}");
    }
    let throttled_before = db.scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM audit_log WHERE action = 'login_throttled'",
    );
    for _ in 0..20 {
        let (st, body) = s.login("target", PASSWORD, DeviceId(Uuid::now_v7()));
        assert_eq!((st, code(&body)), (429, "too_many_attempts"));
    }
    let (st, log) = s.get("/v1/admin/audit?action=login_throttled", Some(&admin.token));
    assert_eq!(st, 200, "{log}");
    let entries: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"] == "user:target")
        .collect();
    assert_eq!(entries.len(), 1, "one summary for the locked name: {log}");
    let attempts = entries[0]["detail"]["attempts"].as_i64().unwrap();
    assert_eq!(
        attempts, 20,
        "the summary counts every refused attempt: {log}"
    );
    let summaries = db.scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM audit_log WHERE action = 'login_throttled'",
    );
    assert_eq!((throttled_before, summaries), (0, 1));
    let added = db.scalar("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM audit_log") - entries_before;
    assert_eq!(added, 10 + 1, "ten failures and one summary");
}

/// Signing in again on a device revokes the refresh credentials of its earlier sign-ins, so
/// a device has one live chain however often it signs in.
fn a_sign_in_on_a_device_ends_its_earlier_refresh_chains(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let user = s.ensure_user("again", Role::Officer);
    let device = DeviceId(Uuid::now_v7());
    let credentials: Vec<String> = (0..3)
        .map(|_| {
            let (st, body) = s.login("again", PASSWORD, device);
            assert_eq!(st, 200, "{body}");
            body["refresh_token"].as_str().unwrap().to_owned()
        })
        .collect();
    let live = db.scalar(&format!(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM refresh_tokens WHERE user_id = '{user}' AND revoked_at IS NULL"
    ));
    assert_eq!(live, 1, "one live credential for the device");
    let (st, body) = s.post(
        "/v1/auth/refresh",
        None,
        &json!({"refresh_token": credentials[0]}),
    );
    assert_eq!((st, code(&body)), (401, "refresh_token_revoked"));
    let (st, body) = s.post(
        "/v1/auth/refresh",
        None,
        &json!({"refresh_token": credentials[2]}),
    );
    assert_eq!(st, 200, "the newest sign-in's credential works: {body}");
}

/// A device with two pushes waiting on a lock gets `429 too_many_requests` for a third
/// request at once; its user's other device may add one more before the user's limit; a
/// device of another user is served meanwhile; and the queued pushes all succeed.
fn one_device_beyond_its_share_is_answered_429_while_others_are_served(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start_with(&db, |a| {
        a.load.device_concurrency = 2;
        a.load.user_concurrency = 3;
    });
    let mut a1 = Device::new(&s, "busy");
    let mut a2 = Device::new(&s, "busy");
    let mut other = Device::new(&s, "calm");
    let r = Uuid::now_v7();
    let op = put_household(a1.next_seq(), r, 0, None, "Siti");
    let created = a1.push_ok(&s, vec![op]);
    let epoch = created["epoch"].as_str().unwrap().to_owned();

    let mut lock = db.connect();
    hold_record_lock(&mut lock, b, r);
    let ops: Vec<Vec<Value>> = vec![
        vec![patch_household(
            a1.next_seq(),
            r,
            1,
            Some(&epoch),
            json!({"notes": "a"}),
        )],
        vec![patch_household(
            a1.next_seq(),
            r,
            1,
            Some(&epoch),
            json!({"notes": "b"}),
        )],
    ];
    let a2_op = vec![patch_household(
        a2.next_seq(),
        r,
        1,
        Some(&epoch),
        json!({"notes": "c"}),
    )];
    thread::scope(|scope| {
        let queued: Vec<_> = ops
            .into_iter()
            .map(|batch| scope.spawn(|| a1.push(&s, batch)))
            .chain(std::iter::once(scope.spawn(|| a2.push(&s, a2_op))))
            .collect();
        match b {
            Backend::Postgres => wait_until("three pushes wait for locks", || {
                pg_lock_waiters(&mut db.connect()) >= 3
            }),
            Backend::Sqlite => wait_until("three pushes wait for the write lock", || {
                s.write_lock_waiters() >= 3
            }),
        }
        let bearer = |t: &str| vec![("Authorization".to_owned(), format!("Bearer {t}"))];
        let third = s.send("GET", "/v1/sync/pull", &bearer(&a1.token), None);
        assert_eq!(
            (third.status, code(&third.body)),
            (429, "too_many_requests")
        );
        assert_eq!(third.retry_after.as_deref(), Some("1"));
        let user_full = s.send("GET", "/v1/me", &bearer(&a2.token), None);
        assert_eq!(
            (user_full.status, code(&user_full.body)),
            (429, "too_many_requests"),
            "the user's third request in progress reaches the user's limit"
        );
        let (st, page) = other.pull_page(&s, None);
        assert_eq!(st, 200, "another user's device is served: {page}");
        release(&mut lock);
        for h in queued {
            let (st, body) = h.join().unwrap();
            assert_eq!(st, 200, "{body}");
        }
    });
    let (st, _) = a1.pull_page(&s, None);
    assert_eq!(st, 200, "the device's places are given back");
    other.pull_all(&s);
    a2.pull_all(&s);
}

/// Rows past retention (an audit entry of 500 days ago, a credential expired 60 days ago, a
/// sign-in counter of yesterday) are gone once a server has started; recent ones stay, and
/// the run is itself audited.
fn housekeeping_at_start_deletes_only_what_is_past_retention(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let d = Device::new(&s, "keeper");
    s.stop();
    let day: i64 = 86_400_000;
    let now = i64::try_from(now_ms()).unwrap();
    let old = now - 500 * day;
    db.execute(&format!(
        "INSERT INTO audit_log (id, at, action, detail, success) \
         VALUES ('00000000-0000-7000-8000-000000000001', {old}, 'login_failed', '{{}}', false)"
    ));
    db.execute(&format!(
        "INSERT INTO refresh_tokens (id, family_id, device_id, user_id, secret_hash, issued_at, \
         expires_at) VALUES ('old-credential', 'old-family', '{}', '{}', 'x', {}, {})",
        d.id,
        d.user_id,
        now - 300 * day,
        now - 60 * day
    ));
    db.execute(&format!(
        "INSERT INTO login_attempts (key, failures, window_start, locked_until) \
         VALUES ('user:long-ago', 3, {}, 0)",
        now - day
    ));
    let audit_before = db.scalar("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM audit_log");
    let s = TestServer::start(&db);
    wait_until("housekeeping ran at start", || {
        db.scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM audit_log WHERE action = 'housekeeping'",
        ) == 1
    });
    assert_eq!(
        db.scalar(&format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM audit_log WHERE at < {}",
            now - 400 * day
        )),
        0
    );
    assert_eq!(
        db.scalar("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM audit_log"),
        audit_before,
        "the old entry went, the housekeeping entry came, the rest stayed"
    );
    assert_eq!(
        db.scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM refresh_tokens WHERE id = 'old-credential'"
        ),
        0
    );
    assert_eq!(
        db.scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM login_attempts WHERE key = 'user:long-ago'"
        ),
        0
    );
    let (st, body) = s.post(
        "/v1/auth/refresh",
        None,
        &json!({"refresh_token": d.refresh}),
    );
    assert_eq!(st, 200, "the live credential stays: {body}");
}
