//! One rule for each kind of input, on both backends: NUL in text, UUID spellings, made-up
//! cursors, names that do not read as what they are, blank passwords, list limits, and
//! error messages that name the field without showing internals.

use std::io::Write;

use kampung_sync::auth::Role;
use kampung_sync_tests::*;
use serde_json::{Value, json};
use uuid::Uuid;

kampung_sync_tests::on_both_backends!(
    a_nul_character_in_any_text_is_refused_400_naming_the_field,
    uuid_field_values_are_stored_in_one_canonical_spelling,
    a_cursor_past_every_position_the_server_issued_is_invalid,
    agency_and_display_names_must_read_as_what_they_are,
    a_password_of_spaces_is_refused,
    list_limits_and_audit_paging_follow_one_rule,
    error_messages_name_the_field_and_show_no_internals,
);

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<none>")
}

fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or("<none>")
}

fn a_nul_character_in_any_text_is_refused_400_naming_the_field(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let admin = Device::with_role(&s, "regency", Role::RegencyAdmin);
    let t = Some(admin.token.as_str());
    let device = Uuid::now_v7();

    // No token needed to reach the database with a user name.
    let (st, body) = s.post(
        "/v1/auth/login",
        None,
        &json!({"username": "ad\u{0}min", "password": "whatever-it-is", "device_id": device}),
    );
    assert_eq!((st, error_code(&body)), (400, "invalid_request"), "{body}");
    assert!(message(&body).contains("`username`"), "{body}");

    let (st, body) = s.post(
        "/v1/admin/agencies",
        t,
        &json!({"name": "Dinas\u{0}Sosial", "kind": "opd"}),
    );
    assert_eq!((st, error_code(&body)), (400, "invalid_request"), "{body}");
    assert!(message(&body).contains("`name`"), "{body}");
    let (st, body) = s.post(
        "/v1/admin/agencies",
        t,
        &json!({"name": "Dinas Sosial 2", "kind": "o\u{0}pd"}),
    );
    assert_eq!((st, error_code(&body)), (400, "invalid_request"), "{body}");
    assert!(message(&body).contains("`kind`"), "{body}");

    let (st, body) = s.post(
        "/v1/admin/users",
        t,
        &json!({"username": "dewi", "display_name": "De\u{0}wi", "role": "regency_admin",
                "password": "sandi-dewi-2026"}),
    );
    assert_eq!((st, error_code(&body)), (400, "invalid_request"), "{body}");
    assert!(message(&body).contains("`display_name`"), "{body}");

    for q in ["action=login%00", "before=%00"] {
        let (st, body) = s.get(&format!("/v1/admin/audit?{q}"), t);
        assert_eq!(
            (st, error_code(&body)),
            (400, "invalid_query"),
            "{q}: {body}"
        );
    }
    let (st, body) = s.post("/v1/admin/users/%00/deactivate", t, &json!({}));
    assert_eq!((st, error_code(&body)), (404, "user_not_found"), "{body}");

    // A pushed text field: that operation is refused, the rest of the batch goes on.
    let mut officer = Device::new(&s, "officer");
    let kept = Uuid::now_v7();
    let mut nul = put_household(1, Uuid::now_v7(), 0, None, "Siti");
    nul["fields"]["notes"] = json!("rumah\u{0}kayu");
    let resp = officer.push_ok(&s, vec![nul, put_household(2, kept, 0, None, "Budi")]);
    assert_eq!(
        resp["results"][0]["error"]["code"], "invalid_value",
        "{resp}"
    );
    assert!(message(&resp["results"][0]).contains("`notes`"), "{resp}");
    assert_eq!(statuses(&resp)[1], "applied");
    let pulled = officer.pull_all(&s);
    assert_eq!(pulled.len(), 1);
    assert_eq!(pulled[0]["id"], kept.to_string());

    // Nothing refused was written, and the server still answers everything.
    assert_eq!(
        db.scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM agencies WHERE name LIKE 'Dinas%Sosial 2'"
        ),
        0
    );
    let (st, _) = s.get("/v1/admin/agencies", t);
    assert_eq!(st, 200);
}

fn uuid_field_values_are_stored_in_one_canonical_spelling(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut d = Device::new(&s, "officer");
    let household = Uuid::now_v7();
    let spellings = [
        household.hyphenated().to_string().to_uppercase(),
        format!("{{{household}}}"),
        format!("urn:uuid:{household}"),
        household.simple().to_string(),
    ];
    let ops: Vec<Value> = spellings
        .iter()
        .enumerate()
        .map(|(i, spelled)| {
            json!({
                "seq": i + 1, "collection": "visits", "kind": "put",
                "record_id": Uuid::now_v7(),
                "hlc": {"wall_ms": now_ms(), "counter": 0},
                "fields": {"household_id": spelled, "visited_at": "2026-11-28T09:05:00+07:00",
                           "outcome": "completed"}
            })
        })
        .collect();
    let resp = d.push_ok(&s, ops);
    assert_eq!(statuses(&resp), ["applied"; 4], "{resp}");
    for r in resp["results"].as_array().unwrap() {
        assert_eq!(r["record"]["fields"]["household_id"], household.to_string());
    }
    let pulled = d.pull_all(&s);
    assert_eq!(pulled.len(), 4);
    for r in &pulled {
        assert_eq!(r["fields"]["household_id"], household.to_string(), "{r}");
    }
}

fn a_cursor_past_every_position_the_server_issued_is_invalid(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut d = Device::new(&s, "officer");
    d.push_ok(&s, vec![put_household(1, Uuid::now_v7(), 0, None, "Siti")]);
    d.pull_all(&s);
    let issued = d.cursor.clone().unwrap();
    let parts: Vec<&str> = issued.split('.').collect();
    let (epoch, xid, seq) = (parts[1], parts[2], parts[3]);
    let xid: i64 = xid.parse().unwrap();
    let seq: i64 = seq.parse().unwrap();
    for made_up in [
        format!("v1.{epoch}.{xid}.{}", seq + 1_000_000),
        format!("v1.{epoch}.{}.0", xid + 1_000_000),
        format!("v1.{epoch}.{}.{}", xid + 1, seq + 1_000_000),
    ] {
        let (st, body) = s.get(&format!("/v1/sync/pull?cursor={made_up}"), Some(&d.token));
        assert_eq!(
            (st, error_code(&body)),
            (400, "invalid_cursor"),
            "{made_up}: {body}"
        );
    }
    // The cursor the server issued still works, and so does every earlier position.
    let (st, body) = s.get(&format!("/v1/sync/pull?cursor={issued}"), Some(&d.token));
    assert_eq!(st, 200, "{body}");
    let (st, body) = s.get(
        &format!("/v1/sync/pull?cursor=v1.{epoch}.0.0"),
        Some(&d.token),
    );
    assert_eq!(st, 200, "{body}");
    // After more writes, a position that was ahead may become one the server has passed.
    for i in 2..=3 {
        d.push_ok(&s, vec![put_household(i, Uuid::now_v7(), 0, None, "Budi")]);
    }
    let (st, body) = s.get(&format!("/v1/sync/pull?cursor={issued}"), Some(&d.token));
    assert_eq!(st, 200, "{body}");
}

fn agency_and_display_names_must_read_as_what_they_are(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let admin = Device::with_role(&s, "regency", Role::RegencyAdmin);
    let t = Some(admin.token.as_str());
    let (st, body) = s.post(
        "/v1/admin/agencies",
        t,
        &json!({"name": "SMPN 2 Rogojampi", "kind": "school"}),
    );
    assert_eq!(st, 201, "{body}");
    let agency = body["id"].as_str().unwrap().to_owned();
    for (name, code) in [
        ("SMPN 2 \u{202E}ipmajogoR", "invalid_agency"),
        ("\u{200B}", "invalid_agency"),
        ("Dinas\u{2066}Sosial", "invalid_agency"),
        ("   ", "invalid_agency"),
        ("smpn 2 rogojampi", "agency_exists"),
        ("  SMPN 2 ROGOJAMPI ", "agency_exists"),
    ] {
        let (st, body) = s.post(
            "/v1/admin/agencies",
            t,
            &json!({"name": name, "kind": "school"}),
        );
        assert_eq!(error_code(&body), code, "{name:?}: {body}");
        assert_eq!(st, if code == "agency_exists" { 409 } else { 400 });
    }
    let (st, body) = s.post(
        "/v1/admin/agencies",
        t,
        &json!({"name": "SMPN 3 Rogojampi", "kind": "\u{200D}"}),
    );
    assert_eq!((st, error_code(&body)), (400, "invalid_agency"), "{body}");
    for display in ["\u{200B}", "Dewi\u{202E}", "\u{3164}"] {
        let (st, body) = s.post(
            "/v1/admin/users",
            t,
            &json!({"username": "dewi", "display_name": display, "role": "officer",
                    "agency_id": agency, "password": "sandi-dewi-2026"}),
        );
        assert_eq!(
            (st, error_code(&body)),
            (400, "invalid_display_name"),
            "{display:?}: {body}"
        );
    }
    let (_, list) = s.get("/v1/admin/agencies", t);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(
        names
            .iter()
            .filter(|n| n.eq_ignore_ascii_case("smpn 2 rogojampi"))
            .count()
            == 1,
        "{names:?}"
    );
}

fn a_password_of_spaces_is_refused(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let admin = Device::with_role(&s, "regency", Role::RegencyAdmin);
    let (st, body) = s.post(
        "/v1/admin/users",
        Some(&admin.token),
        &json!({"username": "dewi", "display_name": "Dewi", "role": "regency_admin",
                "password": "          "}),
    );
    assert_eq!((st, error_code(&body)), (400, "weak_password"), "{body}");
    let (st, body) = s.post(
        "/v1/auth/password",
        Some(&admin.token),
        &json!({"current_password": PASSWORD, "new_password": "   pendek   "}),
    );
    assert_eq!((st, error_code(&body)), (400, "weak_password"), "{body}");
    // Inner spaces of a passphrase count.
    let (st, body) = s.post(
        "/v1/auth/password",
        Some(&admin.token),
        &json!({"current_password": PASSWORD, "new_password": "satu dua tiga"}),
    );
    assert_eq!(st, 204, "{body}");
}

fn list_limits_and_audit_paging_follow_one_rule(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let admin = Device::with_role(&s, "regency", Role::RegencyAdmin);
    let t = Some(admin.token.as_str());
    for q in [
        "/v1/admin/audit?before=garbage",
        "/v1/admin/audit?limit=-5",
        "/v1/admin/audit?limit=0",
        "/v1/admin/audit?limit=abc",
        "/v1/sync/pull?limit=0",
        "/v1/sync/pull?limit=-1",
    ] {
        let (st, body) = s.get(q, t);
        assert_eq!(
            (st, error_code(&body)),
            (400, "invalid_query"),
            "{q}: {body}"
        );
        assert!(!message(&body).is_empty());
    }
    // Above the maximum is refused, naming it: a client silently given fewer rows than it
    // asked for would take the short page for the last one.
    let (st, body) = s.get("/v1/admin/audit?limit=5000", t);
    assert_eq!((st, error_code(&body)), (400, "invalid_query"), "{body}");
    assert!(message(&body).contains("1000"), "{body}");
    let (st, page) = s.get("/v1/admin/audit?limit=1000", t);
    assert_eq!(st, 200, "the maximum itself is served: {page}");
    let (st, all) = s.get("/v1/admin/audit", t);
    assert_eq!(st, 200);
    let first = all[0]["id"].as_str().unwrap();
    // An entry id in another spelling pages the same.
    let (st, older) = s.get(
        &format!("/v1/admin/audit?before={}", first.to_uppercase()),
        t,
    );
    assert_eq!(st, 200, "{older}");
    assert_eq!(
        older.as_array().unwrap().len(),
        all.as_array().unwrap().len() - 1
    );
    // The pull keeps the protocol's rule: a larger limit gets the server's page size.
    let (st, _) = s.get("/v1/sync/pull?limit=5000", t);
    assert_eq!(st, 200);
}

fn error_messages_name_the_field_and_show_no_internals(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start_with(&db, |a| a.max_body_bytes = 16 * 1024);
    let d = Device::new(&s, "officer");
    let internals = ["Some(", "Custom {", "kind:", "line 1 column", "Error {"];
    let clean = |body: &Value| {
        let m = message(body);
        assert!(!m.is_empty(), "{body}");
        for bad in internals {
            assert!(!m.contains(bad), "{bad:?} in {m:?}");
        }
    };

    let (st, body) = s.post(
        "/v1/auth/login",
        None,
        &json!({"username": "dewi", "password": "sandi-dewi-2026", "device_id": "my-phone"}),
    );
    assert_eq!((st, error_code(&body)), (400, "invalid_request"), "{body}");
    assert!(message(&body).contains("`device_id`"), "{body}");
    clean(&body);

    // A gzip body cut in the middle.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(json!({"device_id": d.id, "ops": []}).to_string().as_bytes())
        .unwrap();
    let mut cut = gz.finish().unwrap();
    cut.truncate(cut.len() / 2);
    let (st, body) = s.post_raw(
        "/v1/sync/push",
        Some(&d.token),
        &[
            ("Content-Type", "application/json"),
            ("Content-Encoding", "gzip"),
        ],
        cut,
    );
    assert_eq!((st, error_code(&body)), (400, "unreadable_body"), "{body}");
    clean(&body);

    let (st, body) = s.post_raw(
        "/v1/sync/push",
        Some(&d.token),
        &[("Content-Type", "application/json")],
        format!("{{\"device_id\": \"{}\", ops: []}}", d.id).into_bytes(),
    );
    assert_eq!((st, error_code(&body)), (400, "malformed_json"), "{body}");

    // Over the limit: a push is told to send fewer operations, a sign-in is not.
    let huge = "x".repeat(20 * 1024);
    let (st, body) = s.post(
        "/v1/auth/login",
        None,
        &json!({"username": huge, "password": "p", "device_id": d.id}),
    );
    assert_eq!(
        (st, error_code(&body)),
        (413, "payload_too_large"),
        "{body}"
    );
    assert!(!message(&body).contains("operations"), "{body}");
    clean(&body);
    let ops: Vec<Value> = (1..=20)
        .map(|i| {
            patch_household(
                i,
                Uuid::now_v7(),
                0,
                None,
                json!({"notes": "x".repeat(1500)}),
            )
        })
        .collect();
    let (st, body) = d.push(&s, ops);
    assert_eq!(
        (st, error_code(&body)),
        (413, "payload_too_large"),
        "{body}"
    );
    assert!(message(&body).contains("fewer operations"), "{body}");
}
