//! Bad input gets a clear error and loses nothing; one bad operation never blocks the rest.

use std::io::Write;

use diesel::connection::SimpleConnection;

use kampung_sync_tests::*;
use serde_json::{Value, json};
use uuid::Uuid;

kampung_sync_tests::on_both_backends!(
    one_bad_operation_never_blocks_the_others_in_its_batch,
    malformed_requests_get_a_clear_error_and_change_nothing,
    oversized_bodies_and_batches_are_refused_with_413,
    gzip_bodies_are_accepted,
    tokens_are_checked_and_a_device_cannot_push_for_another,
    health_reports_the_database,
    health_answers_head_like_get_without_a_body,
);

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<none>")
}

fn one_bad_operation_never_blocks_the_others_in_its_batch(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut d = Device::new(&s, "officer");
    let good: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
    let other = Uuid::now_v7();
    let mut ops = vec![
        put_household(1, good[0], 0, None, "Siti Aminah"),
        json!({"seq": 2, "collection": "families", "record_id": Uuid::now_v7(), "kind": "put", "hlc": {"wall_ms": 1}, "fields": {}}),
        put_household(3, good[1], 0, None, "Budi"),
        json!({"seq": 4, "collection": "households", "record_id": Uuid::now_v7(), "kind": "put", "hlc": {"wall_ms": 1}, "fields": {"head_name": "X", "desa_code": "3510010001", "nik": "3510"}}),
        json!({"seq": 5, "collection": "households", "record_id": Uuid::now_v7(), "kind": "put", "hlc": {"wall_ms": 1}, "fields": {"head_name": 42, "desa_code": "3510010001"}}),
        json!({"seq": 6, "collection": "households", "record_id": Uuid::now_v7(), "kind": "put", "hlc": {"wall_ms": 1}, "fields": {"desa_code": "3510010001"}}),
        json!({"seq": 7, "collection": "households", "record_id": Uuid::now_v7(), "kind": "frobnicate", "hlc": {"wall_ms": 1}}),
        json!({"seq": 8, "collection": "households", "record_id": good[0], "kind": "patch", "hlc": {"wall_ms": 1},
               "ctx": {"vv": {"server": 1, other.to_string(): 3}}, "fields": {"phone": "1"}}),
        json!({"seq": 9, "collection": "households", "record_id": good[0], "kind": "patch", "hlc": {"wall_ms": 1},
               "ctx": {"vv": {"server": 1, d.id.to_string(): 9}}, "fields": {"phone": "1"}}),
        json!({"seq": 10, "collection": "households", "record_id": good[0], "kind": "patch", "hlc": {"wall_ms": 1}, "fields": {"welfare_decile": 11}}),
        json!({"seq": 11, "collection": "households", "record_id": good[0], "kind": "patch", "hlc": {"wall_ms": 1}, "fields": {"rt": "001"}}),
        put_household(12, good[2], 0, None, "Wati"),
    ];
    // A context from the future is not an error: it counts as having seen nothing.
    let mut future = put_household(13, good[3], 0, None, "Future");
    future["ctx"] = json!({"epoch": Uuid::new_v4(), "vv": {"server": 999}});
    ops.push(future);
    let resp = d.push_ok(&s, ops);
    assert_eq!(resp["acked_seq"], 13);
    let codes: Vec<&str> = resp["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["error"]["code"]
                .as_str()
                .unwrap_or(r["status"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        codes,
        [
            "applied",
            "unknown_collection",
            "applied",
            "unknown_field",
            "wrong_type",
            "missing_field",
            "malformed_operation",
            "foreign_clock_entry",
            "device_entry_ahead",
            "invalid_value",
            "incomplete_group",
            "applied",
            "applied",
        ]
    );
    assert_eq!(resp["results"][12]["stale_context"], true);
    for r in resp["results"].as_array().unwrap() {
        if r["status"] == "rejected" {
            assert!(!r["error"]["message"].as_str().unwrap().is_empty());
        }
    }
    let pulled: Vec<Value> = d.pull_all(&s);
    let mut got: Vec<String> = pulled
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    got.sort();
    let mut want: Vec<String> = good.iter().map(ToString::to_string).collect();
    want.sort();
    assert_eq!(
        got, want,
        "every accepted operation is stored, and only those"
    );
    assert_eq!(
        db.scalar("SELECT CAST(count(*) AS BIGINT) AS n FROM records"),
        4,
        "a rejected create leaves no row behind (not even a lock placeholder)"
    );
}

fn malformed_requests_get_a_clear_error_and_change_nothing(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let d = Device::new(&s, "officer");
    let json_ct = [("Content-Type", "application/json")];
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (b"{\"device_id\": ".to_vec(), 400, "malformed_json"),
        (b"not json at all".to_vec(), 400, "malformed_json"),
        (
            json!({"device_id": d.id, "ops": {"seq": 1}})
                .to_string()
                .into_bytes(),
            400,
            "invalid_request",
        ),
        (
            json!({"ops": []}).to_string().into_bytes(),
            400,
            "invalid_request",
        ),
        (
            json!({"device_id": d.id, "ops": [], "extra": 1})
                .to_string()
                .into_bytes(),
            400,
            "invalid_request",
        ),
        (
            json!({"device_id": d.id, "ops": [{"collection": "households"}]})
                .to_string()
                .into_bytes(),
            400,
            "invalid_seq",
        ),
        (
            json!({"device_id": d.id, "ops": [{"seq": "1"}]})
                .to_string()
                .into_bytes(),
            400,
            "invalid_seq",
        ),
        (
            json!({"device_id": d.id, "ops": [{"seq": 0}]})
                .to_string()
                .into_bytes(),
            400,
            "invalid_seq",
        ),
    ];
    for (body, status, code) in cases {
        let (got, resp) = s.post_raw("/v1/sync/push", Some(&d.token), &json_ct, body.clone());
        assert_eq!(
            (got, error_code(&resp)),
            (status, code),
            "{}",
            String::from_utf8_lossy(&body)
        );
        assert!(!resp["error"]["message"].as_str().unwrap().is_empty());
    }
    let (got, resp) = s.post_raw(
        "/v1/sync/push",
        Some(&d.token),
        &[("Content-Type", "text/plain")],
        json!({"device_id": d.id, "ops": []})
            .to_string()
            .into_bytes(),
    );
    assert_eq!((got, error_code(&resp)), (415, "unsupported_media_type"));
    let (got, resp) = s.get("/v1/sync/pull?cursor=garbage", Some(&d.token));
    assert_eq!((got, error_code(&resp)), (400, "invalid_cursor"));
    let (got, resp) = s.get("/v1/sync/pull?limit=abc", Some(&d.token));
    assert_eq!((got, error_code(&resp)), (400, "invalid_query"));
    let (got, resp) = s.get("/v1/nowhere", None);
    assert_eq!((got, error_code(&resp)), (404, "not_found"));
    // A known path with the wrong method: the same clear answer, as docs say.
    let (got, resp) = s.get("/v1/sync/push", Some(&d.token));
    assert_eq!((got, error_code(&resp)), (404, "not_found"));
    let (got, resp) = s.post("/v1/sync/pull", Some(&d.token), &json!({}));
    assert_eq!((got, error_code(&resp)), (404, "not_found"));
    // Nothing was stored by any of it.
    let mut fresh = Device::new(&s, "reader");
    assert!(fresh.pull_all(&s).is_empty());
    let ok = d.push_ok(&s, vec![put_household(1, Uuid::now_v7(), 0, None, "Siti")]);
    assert_eq!(
        ok["acked_seq"], 1,
        "the device's sequence was not consumed by refused requests"
    );
}

fn oversized_bodies_and_batches_are_refused_with_413(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start_with(&db, |a| {
        a.max_body_bytes = 64 * 1024;
        a.max_batch_ops = 50;
    });
    let d = Device::new(&s, "officer");
    let big = "x".repeat(2000);
    let ops: Vec<Value> = (1..=40)
        .map(|i| patch_household(i, Uuid::now_v7(), 0, None, json!({"notes": big})))
        .collect();
    let (status, body) = d.push(&s, ops.clone());
    assert_eq!((status, error_code(&body)), (413, "payload_too_large"));
    // The same body gzip-compressed is far under the limit as sent, and over it decoded.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(
        json!({"device_id": d.id, "ops": ops})
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    let compressed = gz.finish().unwrap();
    assert!(compressed.len() < 64 * 1024);
    let (status, body) = s.post_raw(
        "/v1/sync/push",
        Some(&d.token),
        &[
            ("Content-Type", "application/json"),
            ("Content-Encoding", "gzip"),
        ],
        compressed,
    );
    assert_eq!((status, error_code(&body)), (413, "payload_too_large"));
    let ops: Vec<Value> = (1..=51)
        .map(|i| put_household(i, Uuid::now_v7(), 0, None, "h"))
        .collect();
    let (status, body) = d.push(&s, ops);
    assert_eq!((status, error_code(&body)), (413, "batch_too_large"));
    let ok = d.push_ok(
        &s,
        (1..=50)
            .map(|i| put_household(i, Uuid::now_v7(), 0, None, "h"))
            .collect(),
    );
    assert_eq!(ok["acked_seq"], 50, "a refused body consumes nothing");
}

fn gzip_bodies_are_accepted(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut d = Device::new(&s, "officer");
    // `x-gzip` is the old name of `gzip`; RFC 9110 asks servers to take it as the same.
    for coding in ["gzip", "x-gzip", "deflate"] {
        let seq = d.next_seq();
        let body = json!({"device_id": d.id, "ops": [put_household(seq, Uuid::now_v7(), 0, None, "Siti")]});
        let level = flate2::Compression::default();
        let compressed = if coding == "deflate" {
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), level);
            z.write_all(body.to_string().as_bytes()).unwrap();
            z.finish().unwrap()
        } else {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), level);
            gz.write_all(body.to_string().as_bytes()).unwrap();
            gz.finish().unwrap()
        };
        let (status, resp) = s.post_raw(
            "/v1/sync/push",
            Some(&d.token),
            &[
                ("Content-Type", "application/json"),
                ("Content-Encoding", coding),
            ],
            compressed,
        );
        assert_eq!(status, 200, "{coding}: {resp}");
        assert_eq!(statuses(&resp), ["applied"], "{coding}");
    }
    // Data that is not gzip.
    let (status, resp) = s.post_raw(
        "/v1/sync/push",
        Some(&d.token),
        &[
            ("Content-Type", "application/json"),
            ("Content-Encoding", "gzip"),
        ],
        b"this is not gzip".to_vec(),
    );
    assert_eq!(
        (status, error_code(&resp)),
        (400, "unreadable_body"),
        "{resp}"
    );
    // An encoding the server does not decode: the body is read as it is, and refused.
    let (status, resp) = s.post_raw(
        "/v1/sync/push",
        Some(&d.token),
        &[
            ("Content-Type", "application/json"),
            ("Content-Encoding", "br"),
        ],
        vec![0x1b, 0x2f, 0x00, 0xf8],
    );
    assert_eq!((status, error_code(&resp)), (400, "malformed_json"));
}

fn tokens_are_checked_and_a_device_cannot_push_for_another(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let d = Device::new(&s, "officer-1");
    let body = json!({"device_id": d.id, "ops": []});
    let (st, r) = s.post("/v1/sync/push", None, &body);
    assert_eq!((st, error_code(&r)), (401, "missing_token"));
    let (st, r) = s.post("/v1/sync/push", Some("not.a.token"), &body);
    assert_eq!((st, error_code(&r)), (401, "invalid_token"));
    let forged = kampung_sync::auth::Keys::from_secret(b"another-secret-another-secret-0123456789")
        .mint("officer-1", d.id, 3600)
        .unwrap();
    let (st, r) = s.post("/v1/sync/push", Some(&forged), &body);
    assert_eq!((st, error_code(&r)), (401, "invalid_token"));
    let expired = s.expired_token("officer-1", d.id);
    let (st, r) = s.post("/v1/sync/push", Some(&expired), &body);
    assert_eq!((st, error_code(&r)), (401, "token_expired"));
    let (st, r) = s.get("/v1/sync/pull", Some(&expired));
    assert_eq!((st, error_code(&r)), (401, "token_expired"));

    // A token for device A cannot push for device B.
    let other = Device::new(&s, "officer-1");
    let (st, r) = s.post(
        "/v1/sync/push",
        Some(&d.token),
        &json!({"device_id": other.id, "ops": [put_household(1, Uuid::now_v7(), 0, None, "x")]}),
    );
    assert_eq!((st, error_code(&r)), (403, "device_mismatch"));

    // A device registered to one user cannot be used by another: not to sign in, not with
    // a token made for it.
    d.push_ok(&s, vec![put_household(1, Uuid::now_v7(), 0, None, "Siti")]);
    let officer2 = s.ensure_user("officer-2", kampung_sync::auth::Role::Officer);
    let (st, r) = s.login("officer-2", PASSWORD, d.id);
    assert_eq!(
        (st, error_code(&r)),
        (403, "device_registered_to_another_user")
    );
    let mut thief = Device::new(&s, "officer-2");
    thief.id = d.id;
    thief.token = s.token(&officer2, d.id);
    let (st, r) = thief.push(&s, vec![put_household(2, Uuid::now_v7(), 0, None, "x")]);
    assert_eq!(
        (st, error_code(&r)),
        (403, "device_registered_to_another_user")
    );
    let (st, r) = thief.pull_page(&s, None);
    assert_eq!(
        (st, error_code(&r)),
        (403, "device_registered_to_another_user")
    );
    // A token for a device that never signed in.
    let unregistered = sync_protocol::DeviceId(Uuid::now_v7());
    let (st, r) = s.post(
        "/v1/sync/push",
        Some(&s.token(&officer2, unregistered)),
        &json!({"device_id": unregistered, "ops": []}),
    );
    assert_eq!((st, error_code(&r)), (403, "device_not_registered"));
}

fn health_reports_the_database(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let (st, body) = s.get("/healthz", None);
    assert_eq!(st, 200);
    assert_eq!(body["database"], "reachable");
    assert_eq!(
        body["backend"],
        if b == Backend::Sqlite {
            "sqlite"
        } else {
            "postgres"
        }
    );
}

fn health_answers_head_like_get_without_a_body(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let head = s.send("HEAD", "/healthz", &[], None);
    assert_eq!(head.status, 200, "{head:?}");
    assert_eq!(head.body, Value::String(String::new()), "{head:?}");
    assert_eq!(head.content_type.as_deref(), Some("application/json"));
}

/// An operator's probe: while PostgreSQL refuses this database's connections `/healthz`
/// answers 503 `unreachable` (after the pool's 10-second wait for a connection), and 200 again
/// once it accepts them, with no restart of the server.
#[test]
fn health_on_postgres_answers_503_while_the_database_refuses_connections_and_recovers() {
    let Some(b) = Backend::postgres() else { return };
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    assert_eq!(s.get("/healthz", None).0, 200);
    let name = db.pg_name().unwrap();
    let mut admin = kampung_sync::db::connect(&std::env::var(PG_ENV).unwrap()).unwrap();
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {name} ALLOW_CONNECTIONS false; \
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}';"
        ))
        .unwrap();
    let (st, body) = s.get("/healthz", None);
    assert_eq!(
        (st, &body["database"]),
        (503, &json!("unreachable")),
        "{body}"
    );
    admin
        .batch_execute(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true;"))
        .unwrap();
    let (st, body) = s.get("/healthz", None);
    assert_eq!(
        (st, &body["database"]),
        (200, &json!("reachable")),
        "{body}"
    );
}
