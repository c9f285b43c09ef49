//! Personal data: KK and NIK numbers are stored sealed, found through their blind index,
//! refused twice, read back only by a regency admin with a reason, and appear in plain text
//! nowhere else: not in the database, not in the server's log, not in anything an officer's
//! device receives.

use kampung_sync::auth::Role;
use kampung_sync::config::PiiArgs;
use kampung_sync::service::identity;
use kampung_sync_tests::*;
use serde_json::{Value, json};
use uuid::Uuid;

kampung_sync_tests::on_both_backends!(
    numbers_are_set_found_and_a_second_household_with_one_is_refused,
    roles_and_scope_decide_who_sets_finds_and_reads_numbers,
    no_number_is_in_plain_text_in_the_database_the_log_or_an_officers_answers,
    a_restart_reads_the_generated_key_and_a_rotation_keeps_the_numbers_readable,
);

const KK: [&str; 2] = ["3510012345678901", "3510019876543210"];
const NIK: [&str; 2] = ["3510024407800001", "3510025512830002"];

fn put(s: &TestServer, path: &str, token: &str, body: &Value) -> (u16, Value) {
    let r = s.send(
        "PUT",
        path,
        &[
            ("Authorization".into(), format!("Bearer {token}")),
            ("Content-Type".into(), "application/json".into()),
        ],
        Some(body.to_string().into_bytes()),
    );
    (r.status, r.body)
}

fn set(s: &TestServer, by: &Device, household: Uuid, body: &Value) -> (u16, Value) {
    put(
        s,
        &format!("/v1/admin/households/{household}/identity"),
        &by.token,
        body,
    )
}

fn lookup(s: &TestServer, by: &Device, body: &Value) -> (u16, Value) {
    s.post("/v1/admin/households/lookup", Some(&by.token), body)
}

fn read(s: &TestServer, by: &Device, household: Uuid) -> (u16, Value) {
    s.get(
        &format!("/v1/admin/households/{household}/identity?reason=verifikasi%20DTKS"),
        Some(&by.token),
    )
}

/// Households pushed by the regency admin's device.
fn households(s: &TestServer, admin: &mut Device, n: usize) -> Vec<Uuid> {
    let ids: Vec<Uuid> = (0..n).map(|_| Uuid::now_v7()).collect();
    let ops = ids
        .iter()
        .map(|h| put_household(admin.next_seq(), *h, 0, None, "Siti Aminah"))
        .collect();
    let resp = admin.push_ok(s, ops);
    assert_eq!(statuses(&resp), vec!["applied"; n], "{resp}");
    ids
}

fn ids(v: &Value) -> Vec<String> {
    v["household_ids"]
        .as_array()
        .unwrap_or_else(|| panic!("no household_ids: {v}"))
        .iter()
        .map(|h| h.as_str().unwrap().to_owned())
        .collect()
}

/// Panics if `text` holds any of the numbers, naming where.
fn assert_no_number(what: &str, text: &str) {
    for n in KK.iter().chain(&NIK) {
        assert!(!text.contains(n), "{what} holds a number in plain text");
    }
}

fn numbers_are_set_found_and_a_second_household_with_one_is_refused(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut admin = Device::new(&s, "regency");
    let h = households(&s, &mut admin, 2);

    let (st, v) = set(&s, &admin, h[0], &json!({"kk": KK[0], "nik": NIK[0]}));
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["has_kk"], true);
    assert_eq!(v["has_nik"], true);
    // Separators and a spreadsheet's apostrophe are not part of the number.
    let spaced = "'3510 0198.7654-3210";
    let (st, v) = set(&s, &admin, h[1], &json!({"kk": spaced}));
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (v["has_kk"].clone(), v["has_nik"].clone()),
        (json!(true), json!(false))
    );

    let (st, v) = lookup(&s, &admin, &json!({"kk": KK[0]}));
    assert_eq!(st, 200, "{v}");
    assert_eq!(ids(&v), [h[0].to_string()]);
    assert_eq!(
        ids(&lookup(&s, &admin, &json!({"kk": KK[1]})).1),
        [h[1].to_string()]
    );
    assert_eq!(
        ids(&lookup(&s, &admin, &json!({"nik": NIK[0]})).1),
        [h[0].to_string()]
    );
    // A KK number is not found as a NIK number: the indexes are kept apart.
    assert!(ids(&lookup(&s, &admin, &json!({"nik": KK[0]})).1).is_empty());

    // The same KK for the second household: refused, naming the first, not the number.
    let (st, v) = set(&s, &admin, h[1], &json!({"kk": KK[0]}));
    assert_eq!(st, 409, "{v}");
    assert_eq!(v["error"]["code"], "duplicate_kk");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains(&h[0].to_string()), "{message}");
    assert_no_number("a duplicate_kk answer", &v.to_string());
    let (st, v) = set(&s, &admin, h[1], &json!({"nik": NIK[0]}));
    assert_eq!(
        (st, v["error"]["code"].clone()),
        (409, json!("duplicate_nik")),
        "{v}"
    );
    // Setting a household's own number again is no duplicate.
    assert_eq!(set(&s, &admin, h[0], &json!({"kk": KK[0]})).0, 200);

    // Read back, with a reason; `null` removes a number.
    let (st, v) = read(&s, &admin, h[0]);
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (v["kk"].clone(), v["nik"].clone()),
        (json!(KK[0]), json!(NIK[0]))
    );
    assert_eq!(read(&s, &admin, h[1]).1["kk"], KK[1]);
    let (st, v) = set(&s, &admin, h[0], &json!({"nik": null}));
    assert_eq!(
        (st, v["has_kk"].clone(), v["has_nik"].clone()),
        (200, json!(true), json!(false))
    );
    assert_eq!(read(&s, &admin, h[0]).1["nik"], Value::Null);
    // Once removed, the NIK is free for the other household.
    assert_eq!(set(&s, &admin, h[1], &json!({"nik": NIK[0]})).0, 200);

    // Bad numbers: clear errors that never repeat what was sent.
    for (body, code) in [
        (json!({"kk": "351001234567890"}), "invalid_identity_number"),
        (json!({"kk": "35100123456789O1"}), "invalid_identity_number"),
        (json!({"kk": 3_510_012_345_678_901_u64}), "invalid_request"),
        (json!({"nik": [NIK[1]]}), "invalid_request"),
        (json!({}), "invalid_request"),
        (json!({"kk": KK[0], "nomor": NIK[1]}), "invalid_request"),
    ] {
        let (st, v) = set(&s, &admin, h[1], &body);
        assert_eq!((st, v["error"]["code"].as_str()), (400, Some(code)), "{v}");
        assert!(!v.to_string().contains("35100123456789"), "{v}");
        assert!(!v.to_string().contains(NIK[1]), "{v}");
    }
    let (st, v) = lookup(&s, &admin, &json!({"kk": KK[0], "nik": NIK[0]}));
    assert_eq!(
        (st, v["error"]["code"].clone()),
        (400, json!("invalid_request")),
        "{v}"
    );
    let (st, v) = set(&s, &admin, Uuid::now_v7(), &json!({"kk": KK[0]}));
    assert_eq!(
        (st, v["error"]["code"].clone()),
        (404, json!("household_not_found")),
        "{v}"
    );

    // The audit log says what happened, never the numbers.
    let (st, audit) = s.get("/v1/admin/audit?limit=1000", Some(&admin.token));
    assert_eq!(st, 200, "{audit}");
    let actions: Vec<&str> = audit
        .as_array()
        .or_else(|| audit["entries"].as_array())
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for a in [
        "household_identity_set",
        "household_identity_lookup",
        "household_identity_read",
    ] {
        assert!(actions.contains(&a), "no {a} in {actions:?}");
    }
    assert!(
        audit.to_string().contains("verifikasi DTKS"),
        "the reason is kept"
    );
    assert_no_number("the audit log", &audit.to_string());
}

fn roles_and_scope_decide_who_sets_finds_and_reads_numbers(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut admin = Device::new(&s, "regency");
    let h = households(&s, &mut admin, 2);
    let dewi = Device::officer(&s, "dewi");
    let (st, v) = s.post(
        "/v1/admin/assignments",
        Some(&admin.token),
        &json!({"household_id": h[0], "officer_id": dewi.user_id, "reason": "first visit due"}),
    );
    assert_eq!(st, 200, "{v}");
    let lia = Device::with_role(&s, "lia", Role::AgencyAdmin);

    // An agency admin sets numbers of their agency's households only.
    assert_eq!(set(&s, &lia, h[0], &json!({"kk": KK[0]})).0, 200);
    let (st, v) = set(&s, &lia, h[1], &json!({"kk": KK[1]}));
    assert_eq!(
        (st, v["error"]["code"].clone()),
        (403, json!("other_agency")),
        "{v}"
    );
    assert_eq!(set(&s, &admin, h[1], &json!({"kk": KK[1]})).0, 200);
    // ... finds only those ...
    assert_eq!(
        ids(&lookup(&s, &lia, &json!({"kk": KK[0]})).1),
        [h[0].to_string()]
    );
    assert!(ids(&lookup(&s, &lia, &json!({"kk": KK[1]})).1).is_empty());
    // ... and reads no number.
    let (st, v) = read(&s, &lia, h[0]);
    assert_eq!(
        (st, v["error"]["code"].clone()),
        (403, json!("forbidden_role")),
        "{v}"
    );

    // An officer does none of it.
    for (st, v) in [
        set(&s, &dewi, h[0], &json!({"kk": KK[0]})),
        lookup(&s, &dewi, &json!({"kk": KK[0]})),
        read(&s, &dewi, h[0]),
    ] {
        assert_eq!(
            (st, v["error"]["code"].clone()),
            (403, json!("forbidden_role")),
            "{v}"
        );
    }

    // A read needs a reason.
    let path = format!("/v1/admin/households/{}/identity", h[0]);
    let (st, v) = s.get(&path, Some(&admin.token));
    assert_eq!(
        (st, v["error"]["code"].clone()),
        (400, json!("invalid_query")),
        "{v}"
    );
    let (st, v) = s.get(&format!("{path}?reason=%20"), Some(&admin.token));
    assert_eq!(
        (st, v["error"]["code"].clone()),
        (400, json!("invalid_reason")),
        "{v}"
    );
}

fn no_number_is_in_plain_text_in_the_database_the_log_or_an_officers_answers(b: Backend) {
    let log = logs::capture();
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut admin = Device::new(&s, "regency");
    let h = households(&s, &mut admin, 3);
    let mut dewi = Device::officer(&s, "dewi");
    // The third household is not the officer's.
    for household in &h[..2] {
        let (st, v) = s.post(
            "/v1/admin/assignments",
            Some(&admin.token),
            &json!({"household_id": household, "officer_id": dewi.user_id, "reason": "first visit due"}),
        );
        assert_eq!(st, 200, "{v}");
    }
    for (i, household) in h[..2].iter().enumerate() {
        let (st, v) = set(&s, &admin, *household, &json!({"kk": KK[i], "nik": NIK[i]}));
        assert_eq!(st, 200, "{v}");
    }
    // Refusals, which a careless server would log or echo.
    assert_eq!(set(&s, &admin, h[1], &json!({"kk": KK[0]})).0, 409);
    assert_eq!(
        set(
            &s,
            &admin,
            h[1],
            &json!({"kk": KK[0].parse::<u64>().unwrap()})
        )
        .0,
        400
    );
    assert_eq!(set(&s, &admin, h[1], &json!({"nik": &NIK[1][1..]})).0, 400);
    let broken = format!(r#"{{"kk": "{}", "nik": {}}}"#, KK[1], NIK[1]);
    let r = s.send(
        "PUT",
        &format!("/v1/admin/households/{}/identity", h[1]),
        &[
            ("Authorization".into(), format!("Bearer {}", admin.token)),
            ("Content-Type".into(), "application/json".into()),
        ],
        Some(broken.into_bytes()),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert_no_number("an answer to a malformed body", &r.body.to_string());
    assert_eq!(lookup(&s, &admin, &json!({"nik": NIK[1]})).0, 200);
    assert_eq!(read(&s, &admin, h[0]).1["kk"], KK[0]);

    // Everything the officer's device is answered.
    let mut answers = Vec::new();
    answers.push(Value::Array(dewi.pull_all(&s)).to_string());
    let seq = dewi.next_seq();
    let patch = patch_household(seq, h[0], 1, None, json!({"notes": "rumah kosong"}));
    answers.push(dewi.push_ok(&s, vec![patch]).to_string());
    // A device that sends a number anyway is refused (`kk` is no household field), and
    // not told the number back.
    let seq = dewi.next_seq();
    let smuggled = patch_household(seq, h[0], 1, None, json!({"kk": KK[0], "nik": NIK[0]}));
    let resp = dewi.push_ok(&s, vec![smuggled]);
    assert_eq!(
        resp["results"][0]["error"]["code"], "unknown_field",
        "{resp}"
    );
    answers.push(resp.to_string());
    // Nor when the household is not theirs: a write out of scope is held for review as it
    // was sent, but the schema refuses this one first, so no number reaches `held_writes`.
    let seq = dewi.next_seq();
    let elsewhere = patch_household(seq, h[2], 1, None, json!({"kk": KK[1]}));
    let resp = dewi.push_ok(&s, vec![elsewhere]);
    assert_eq!(
        resp["results"][0]["error"]["code"], "unknown_field",
        "{resp}"
    );
    answers.push(resp.to_string());
    dewi.cursor = None;
    answers.push(Value::Array(dewi.pull_all(&s)).to_string());
    answers.push(s.get("/v1/me", Some(&dewi.token)).1.to_string());
    answers.push(set(&s, &dewi, h[0], &json!({"kk": KK[0]})).1.to_string());
    answers.push(lookup(&s, &dewi, &json!({"kk": KK[0]})).1.to_string());
    answers.push(read(&s, &dewi, h[0]).1.to_string());
    let (st, refreshed) = s.post(
        "/v1/auth/refresh",
        None,
        &json!({"refresh_token": dewi.refresh}),
    );
    assert_eq!(st, 200, "{refreshed}");
    answers.push(refreshed.to_string());
    assert!(
        answers[0].contains(&h[0].to_string()),
        "the officer pulled the households"
    );
    for a in &answers {
        assert_no_number("an answer to the officer's device", a);
    }
    s.stop();

    let captured = log.text();
    assert!(
        captured.contains("/v1/admin/households/lookup"),
        "the log was captured"
    );
    assert_no_number("the server log", &captured);

    match b {
        Backend::Sqlite => {
            let dir = db.data_dir().parent().unwrap().to_owned();
            let mut all = String::new();
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_file() {
                    let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
                    assert_no_number(&path.display().to_string(), &text);
                    all.push_str(&text);
                }
            }
            // The search would see a number: other text is there in the clear.
            assert!(
                all.contains("Siti Aminah"),
                "the database files were searched"
            );
        }
        Backend::Postgres => {
            let out = std::process::Command::new("pg_dump")
                .arg("--data-only")
                .arg(&db.url)
                .output()
                .expect("pg_dump runs");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let dump = String::from_utf8_lossy(&out.stdout);
            assert!(
                dump.contains("household_identity"),
                "the dump holds the table"
            );
            assert!(
                dump.contains("Siti Aminah"),
                "the dump holds the records in the clear"
            );
            assert_no_number("the PostgreSQL database", &dump);
        }
    }
    for file in std::fs::read_dir(db.data_dir()).unwrap() {
        let path = file.unwrap().path();
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        assert_no_number(&path.display().to_string(), &text);
    }
}

/// `(key_id, kk_index)` of the household's row, read directly.
fn stored_key(db: &TestDb, household: Uuid) -> (String, String) {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        key_id: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        kk_index: String,
    }
    let r: Row = diesel::RunQueryDsl::get_result(
        diesel::sql_query(format!(
            "SELECT key_id, kk_index FROM household_identity WHERE household_id = '{household}'"
        )),
        &mut db.connect(),
    )
    .unwrap();
    (r.key_id, r.kk_index)
}

fn a_restart_reads_the_generated_key_and_a_rotation_keeps_the_numbers_readable(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut admin = Device::new(&s, "regency");
    let h = households(&s, &mut admin, 1)[0];
    assert_eq!(
        set(&s, &admin, h, &json!({"kk": KK[0], "nik": NIK[0]})).0,
        200
    );
    s.stop();
    let key_file = db.data_dir().join("pii-key");
    let generated = std::fs::read_to_string(&key_file).unwrap();
    let before = stored_key(&db, h);

    // A restart reads the generated key back.
    let s = TestServer::start(&db);
    let admin = Device::new(&s, "regency");
    assert_eq!(read(&s, &admin, h).1["kk"], KK[0]);
    s.stop();

    // A new key alone does not start: the stored numbers are under the old one.
    let new = kampung_sync::pii::generate_master_key().unwrap();
    let refused = start_fails(
        &db,
        PiiArgs {
            pii_key: Some(new.clone()),
            pii_old_keys: Vec::new(),
        },
    );
    assert!(refused.contains(&before.0), "{refused}");

    // The documented rotation: new key, old key in KAMPUNG_PII_OLD_KEYS, rotate.
    let both = PiiArgs {
        pii_key: Some(new.clone()),
        pii_old_keys: vec![generated.trim().to_owned()],
    };
    let mut conn = db.connect();
    let rotation = identity::rotate_keys(&mut conn, &both, &db.data_dir()).unwrap();
    assert_eq!(rotation.resealed, 1);
    assert_eq!(rotation.from_keys, std::slice::from_ref(&before.0));
    let after = stored_key(&db, h);
    assert_ne!(after.0, before.0, "the key id changed");
    assert_ne!(after.1, before.1, "the blind index changed");
    assert_eq!(after.0, rotation.key_id);
    // A second rotation has nothing left to do.
    assert_eq!(
        identity::rotate_keys(&mut conn, &both, &db.data_dir())
            .unwrap()
            .resealed,
        0
    );
    drop(conn);

    // The old key can go: the new one alone reads and finds everything.
    let s = TestServer::start_with(&db, |a| a.pii.pii_key = Some(new.clone()));
    let admin = Device::new(&s, "regency");
    let (st, v) = read(&s, &admin, h);
    assert_eq!(
        (st, v["kk"].clone(), v["nik"].clone()),
        (200, json!(KK[0]), json!(NIK[0])),
        "{v}"
    );
    assert_eq!(
        ids(&lookup(&s, &admin, &json!({"kk": KK[0]})).1),
        [h.to_string()]
    );
    s.stop();

    // Without any key, and the key file gone, the server refuses to start rather than
    // generate a second key.
    std::fs::remove_file(&key_file).unwrap();
    let refused = start_fails(&db, PiiArgs::default());
    assert!(refused.contains("restore"), "{refused}");
    assert!(!key_file.exists());
}

/// The error of a server start on `db` with `pii`, which must fail.
fn start_fails(db: &TestDb, pii: PiiArgs) -> String {
    let mut args = kampung_sync::config::ServeArgs::new(&db.url, "127.0.0.1:0", db.data_dir());
    args.jwt_secret = Some(SECRET.into());
    args.pii = pii;
    actix_web::rt::System::new().block_on(async move {
        match kampung_sync::startup::Application::build(args) {
            Ok(_) => panic!("the server started"),
            Err(e) => format!("{e:#}"),
        }
    })
}
