//! Accounts over HTTP: sign in, refresh, sync, revoke and be refused; roles; throttling;
//! the audit log.

use kampung_sync::auth::Role;
use kampung_sync_tests::*;
use serde_json::{Value, json};
use uuid::Uuid;

kampung_sync_tests::on_both_backends!(
    sign_in_refresh_sync_then_revoke_and_be_refused,
    wrong_password_and_unknown_user_get_the_same_answer,
    a_replayed_refresh_credential_revokes_the_device_chain,
    an_expired_access_token_is_refreshed_and_offline_work_is_accepted,
    a_deactivated_user_is_refused_everywhere,
    roles_limit_what_each_admin_sees_and_does,
    repeated_failures_slow_down_then_lock_sign_in,
    the_tenth_failure_locks_the_account_for_fifteen_minutes,
    many_failures_from_one_address_slow_down_every_account_there,
    the_audit_log_records_who_did_what_from_where,
    the_first_administrator_must_change_the_one_time_password_before_anything_else,
);

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<none>")
}

fn admin(s: &TestServer) -> Device {
    Device::with_role(s, "regency-admin", Role::RegencyAdmin)
}

fn sign_in_refresh_sync_then_revoke_and_be_refused(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut d = Device::new(&s, "siti.aminah");
    let r = Uuid::now_v7();
    d.push_ok(&s, vec![put_household(1, r, 0, None, "Siti")]);

    let (st, fresh) = s.post(
        "/v1/auth/refresh",
        None,
        &json!({"refresh_token": d.refresh}),
    );
    assert_eq!(st, 200, "{fresh}");
    assert_eq!(fresh["token_type"], "Bearer");
    assert_eq!(fresh["device_id"], json!(d.id));
    assert_ne!(
        fresh["refresh_token"],
        json!(d.refresh),
        "the credential rotates"
    );
    d.token = fresh["access_token"].as_str().unwrap().into();
    d.refresh = fresh["refresh_token"].as_str().unwrap().into();
    let (st, me) = s.get("/v1/me", Some(&d.token));
    assert_eq!((st, me["username"].as_str()), (200, Some("siti.aminah")));
    d.push_ok(
        &s,
        vec![patch_household(2, r, 1, None, json!({"phone": "0811"}))],
    );

    // The phone is lost: an administrator revokes it.
    let a = admin(&s);
    let (st, rev) = s.post(
        &format!("/v1/admin/devices/{}/revoke", d.id),
        Some(&a.token),
        &json!({"reason": "lost"}),
    );
    assert_eq!(st, 200, "{rev}");
    assert_eq!(rev["revoked"], true);
    assert_eq!(rev["revoked_reason"], "lost");

    let queued = vec![patch_household(
        3,
        r,
        2,
        None,
        json!({"notes": "recorded offline"}),
    )];
    let (st, body) = d.push(&s, queued);
    assert_eq!(
        (st, code(&body)),
        (403, "device_revoked"),
        "queued uploads get the code"
    );
    let (st, body) = d.pull_page(&s, None);
    assert_eq!((st, code(&body)), (403, "device_revoked"));
    let (st, body) = s.post(
        "/v1/auth/refresh",
        None,
        &json!({"refresh_token": d.refresh}),
    );
    assert_eq!((st, code(&body)), (401, "refresh_token_revoked"));
    let (st, body) = s.login("siti.aminah", PASSWORD, d.id);
    assert_eq!((st, code(&body)), (403, "device_revoked"));
    // Nothing of the refused push was stored.
    let mut reader = admin(&s);
    let rec = reader
        .pull_all(&s)
        .into_iter()
        .find(|x| x["id"] == json!(r))
        .unwrap();
    assert_eq!(rec["version"], 2);
    assert!(rec["fields"]["notes"].is_null());
    // A new phone signs in and carries on.
    let mut replacement = Device::new(&s, "siti.aminah");
    assert_eq!(replacement.pull_all(&s).len(), 1);
}

fn wrong_password_and_unknown_user_get_the_same_answer(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    s.ensure_user("budi.santoso", Role::Officer);
    let device = sync_protocol::DeviceId(Uuid::now_v7());
    let wrong = s.login("budi.santoso", "not-the-password", device);
    let unknown = s.login("nobody.here", "not-the-password", device);
    assert_eq!(wrong.0, 401);
    assert_eq!(wrong, unknown, "the two failures must be indistinguishable");
    assert_eq!(code(&wrong.1), "invalid_credentials");
    let (st, body) = s.post("/v1/auth/login", None, &json!({"username": "budi.santoso"}));
    assert_eq!((st, code(&body)), (400, "invalid_request"));
}

fn refresh(s: &TestServer, credential: &Value) -> (u16, Value) {
    s.post(
        "/v1/auth/refresh",
        None,
        &json!({"refresh_token": credential}),
    )
}

fn a_replayed_refresh_credential_revokes_the_device_chain(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let d = Device::new(&s, "officer-replay");
    let c1 = json!(d.refresh);
    let (st, r2) = refresh(&s, &c1);
    assert_eq!(st, 200);
    // The answer was lost on the way: the app retries with the same credential at once.
    let (st, r2_again) = refresh(&s, &c1);
    assert_eq!(
        st, 200,
        "a retry within the grace period is not theft: {r2_again}"
    );
    let (st, body) = refresh(&s, &r2["refresh_token"]);
    assert_eq!(
        (st, code(&body)),
        (401, "refresh_token_revoked"),
        "the lost answer's credential is void"
    );
    let (st, r3) = refresh(&s, &r2_again["refresh_token"]);
    assert_eq!(st, 200);
    // Someone copied c1 and presents it after its successor was used: theft.
    let (st, body) = refresh(&s, &c1);
    assert_eq!((st, code(&body)), (401, "refresh_token_reused"));
    // The legitimate newest credential is revoked with the chain.
    let (st, body) = refresh(&s, &r3["refresh_token"]);
    assert_eq!((st, code(&body)), (401, "refresh_token_revoked"));
    let (st, body) = refresh(&s, &json!("garbage"));
    assert_eq!((st, code(&body)), (401, "invalid_refresh_token"));
    let forged = format!(
        "{}.{}",
        d.refresh.split('.').next().unwrap(),
        "0".repeat(64)
    );
    let (st, body) = refresh(&s, &json!(forged));
    assert_eq!((st, code(&body)), (401, "invalid_refresh_token"));

    // Signing in again starts a new chain; past the grace period, any second use is theft.
    let (st, again) = s.login("officer-replay", PASSWORD, d.id);
    assert_eq!(st, 200);
    let c = again["refresh_token"].clone();
    assert_eq!(refresh(&s, &c).0, 200);
    db.execute("UPDATE refresh_tokens SET used_at = used_at - 600000 WHERE used_at IS NOT NULL");
    let (st, body) = refresh(&s, &c);
    assert_eq!((st, code(&body)), (401, "refresh_token_reused"));
}

fn an_expired_access_token_is_refreshed_and_offline_work_is_accepted(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut d = Device::new(&s, "officer-offline");
    // Weeks offline: the officer records visits; meanwhile the access token expires.
    let household = Uuid::now_v7();
    let outbox = vec![
        put_household(1, household, 0, None, "Wati"),
        json!({"seq": 2, "collection": "visits", "record_id": Uuid::now_v7(), "kind": "put",
               "hlc": {"wall_ms": now_ms()},
               "fields": {"household_id": household, "visited_at": "2026-11-02T09:30:00+07:00", "outcome": "completed",
                          "pangan_score": 2, "pangan_note": "beras habis"}}),
    ];
    d.token = s.expired_token(&d.user_id, d.id);
    let (st, body) = d.push(&s, outbox.clone());
    assert_eq!((st, code(&body)), (401, "token_expired"));
    let (st, fresh) = s.post(
        "/v1/auth/refresh",
        None,
        &json!({"refresh_token": d.refresh}),
    );
    assert_eq!(st, 200, "{fresh}");
    d.token = fresh["access_token"].as_str().unwrap().into();
    let resp = d.push_ok(&s, outbox);
    assert_eq!(statuses(&resp), ["applied", "applied"]);
}

fn a_deactivated_user_is_refused_everywhere(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let d = Device::new(&s, "officer-leaving");
    let a = admin(&s);
    let (st, u) = s.post(
        &format!("/v1/admin/users/{}/deactivate", d.user_id),
        Some(&a.token),
        &json!({}),
    );
    assert_eq!(st, 200, "{u}");
    assert_eq!(u["active"], false);
    let (st, body) = d.push(&s, vec![put_household(1, Uuid::now_v7(), 0, None, "x")]);
    assert_eq!((st, code(&body)), (403, "user_deactivated"));
    let (st, body) = s.login("officer-leaving", PASSWORD, d.id);
    assert_eq!((st, code(&body)), (403, "user_deactivated"));
    let (st, body) = s.login("officer-leaving", "wrong-password", d.id);
    assert_eq!(
        (st, code(&body)),
        (401, "invalid_credentials"),
        "no hint without the password"
    );
    let (st, body) = s.post(
        "/v1/auth/refresh",
        None,
        &json!({"refresh_token": d.refresh}),
    );
    assert_eq!((st, code(&body)), (401, "refresh_token_revoked"));
    let (st, _) = s.post(
        &format!("/v1/admin/users/{}/activate", d.user_id),
        Some(&a.token),
        &json!({}),
    );
    assert_eq!(st, 200);
    let (st, _) = s.login("officer-leaving", PASSWORD, d.id);
    assert_eq!(st, 200, "reactivated users sign in again");
    let (st, body) = s.post(
        &format!("/v1/admin/users/{}/deactivate", a.user_id),
        Some(&a.token),
        &json!({}),
    );
    assert_eq!((st, code(&body)), (400, "cannot_deactivate_self"));
}

fn roles_limit_what_each_admin_sees_and_does(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let regency = admin(&s);
    let officer = Device::officer(&s, "officer-a");
    let (st, other) = s.post(
        "/v1/admin/agencies",
        Some(&regency.token),
        &json!({"name": "SMPN 2 Rogojampi", "kind": "school"}),
    );
    assert_eq!(st, 201, "{other}");
    let other_agency = other["id"].as_str().unwrap().to_owned();
    let (st, _) = s.post(
        "/v1/admin/users",
        Some(&regency.token),
        &json!({"username": "guru.rogojampi", "display_name": "Guru", "role": "officer",
                "agency_id": other_agency, "password": PASSWORD}),
    );
    assert_eq!(st, 201);
    let principal = Device::with_role(&s, "kepala.dinsos", Role::AgencyAdmin);

    // Officers have no admin access.
    for path in [
        "/v1/admin/users",
        "/v1/admin/devices",
        "/v1/admin/agencies",
        "/v1/admin/audit",
    ] {
        let (st, body) = s.get(path, Some(&officer.token));
        assert_eq!((st, code(&body)), (403, "forbidden_role"), "{path}");
    }
    // The agency admin sees their own agency only.
    let (st, users) = s.get("/v1/admin/users", Some(&principal.token));
    assert_eq!(st, 200);
    let names: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"officer-a") && !names.contains(&"guru.rogojampi"),
        "{names:?}"
    );
    let (_, devices) = s.get("/v1/admin/devices", Some(&principal.token));
    assert!(
        devices["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["agency_id"] == json!(AGENCY))
    );
    let (st, body) = s.get("/v1/admin/audit", Some(&principal.token));
    assert_eq!((st, code(&body)), (403, "forbidden_role"));
    // ... creates officers of their own agency, and nothing else.
    let new_officer = json!({"username": "officer-b", "display_name": "B", "role": "officer", "password": PASSWORD});
    let (st, created) = s.post("/v1/admin/users", Some(&principal.token), &new_officer);
    assert_eq!(st, 201, "{created}");
    assert_eq!(created["agency_id"], json!(AGENCY));
    let (st, body) = s.post(
        "/v1/admin/users",
        Some(&principal.token),
        &json!({"username": "boss-2", "display_name": "B", "role": "agency_admin", "password": PASSWORD}),
    );
    assert_eq!((st, code(&body)), (403, "forbidden_role"));
    let (st, body) = s.post(
        "/v1/admin/users",
        Some(&principal.token),
        &json!({"username": "spy", "display_name": "S", "role": "officer", "agency_id": other_agency, "password": PASSWORD}),
    );
    assert_eq!((st, code(&body)), (403, "other_agency"));
    // ... and cannot touch another agency's people or devices.
    let guru = Device::new(&s, "guru.rogojampi");
    let (st, body) = s.post(
        &format!("/v1/admin/users/{}/deactivate", guru.user_id),
        Some(&principal.token),
        &json!({}),
    );
    assert_eq!((st, code(&body)), (403, "other_agency"));
    let (st, body) = s.post(
        &format!("/v1/admin/devices/{}/revoke", guru.id),
        Some(&principal.token),
        &json!({"reason": "x"}),
    );
    assert_eq!((st, code(&body)), (404, "device_not_found"));
    let (st, _) = s.post(
        &format!("/v1/admin/devices/{}/revoke", officer.id),
        Some(&principal.token),
        &json!({"reason": "officer_left"}),
    );
    assert_eq!(st, 200, "their own officer's device");
    let peer = Device::with_role(&s, "kepala.dua", Role::AgencyAdmin);
    let (st, body) = s.post(
        &format!("/v1/admin/devices/{}/revoke", peer.id),
        Some(&principal.token),
        &json!({"reason": "x"}),
    );
    assert_eq!(
        (st, code(&body)),
        (404, "device_not_found"),
        "not another admin's device"
    );
    // The regency admin sees everyone.
    let (_, all) = s.get("/v1/admin/users", Some(&regency.token));
    assert!(all.as_array().unwrap().len() >= 5);
    let (st, body) = s.post(
        "/v1/admin/agencies",
        Some(&principal.token),
        &json!({"name": "X", "kind": "opd"}),
    );
    assert_eq!((st, code(&body)), (403, "forbidden_role"));
    let (st, body) = s.post(
        "/v1/admin/users",
        Some(&regency.token),
        &json!({"username": "officer-b", "display_name": "dup", "role": "officer", "agency_id": AGENCY, "password": PASSWORD}),
    );
    assert_eq!((st, code(&body)), (409, "username_taken"));
    let (st, body) = s.post(
        "/v1/admin/users",
        Some(&regency.token),
        &json!({"username": "weak", "display_name": "W", "role": "officer", "agency_id": AGENCY, "password": "short"}),
    );
    assert_eq!((st, code(&body)), (400, "weak_password"));
}

fn repeated_failures_slow_down_then_lock_sign_in(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    s.ensure_user("target.user", Role::Officer);
    let device = sync_protocol::DeviceId(Uuid::now_v7());
    for _ in 0..3 {
        let (st, _) = s.login("target.user", "guess-guess-guess", device);
        assert_eq!(st, 401);
    }
    // From now on even the right password waits.
    let (st, body) = s.login("target.user", PASSWORD, device);
    assert_eq!((st, code(&body)), (429, "too_many_attempts"));
    let wait = retry_after(&s, "target.user", device);
    assert!((1..=60).contains(&wait), "{wait}");
}

fn retry_after(s: &TestServer, user: &str, device: sync_protocol::DeviceId) -> i64 {
    let resp = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
        .post(format!("{}/v1/auth/login", s.base))
        .send_json(json!({"username": user, "password": PASSWORD, "device_id": device}))
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    resp.headers()["Retry-After"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// The delays between failures (1 s, 2 s, 4 s ...) are skipped by moving the counter's
/// `locked_until` into the past, as if the officer had waited each one out.
fn the_tenth_failure_locks_the_account_for_fifteen_minutes(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    s.ensure_user("target.user", Role::Officer);
    let device = sync_protocol::DeviceId(Uuid::now_v7());
    for attempt in 1..=10 {
        db.execute("UPDATE login_attempts SET locked_until = 0 WHERE key = 'user:target.user'");
        let (st, body) = s.login("target.user", "guess-guess-guess", device);
        assert_eq!(
            (st, code(&body)),
            (401, "invalid_credentials"),
            "attempt {attempt}"
        );
    }
    // Locked, not just slowed: the wait is the lock's quarter of an hour.
    let wait = retry_after(&s, "target.user", device);
    assert!((14 * 60..=15 * 60).contains(&wait), "{wait}");
    let (st, body) = s.login("target.user", PASSWORD, device);
    assert_eq!((st, code(&body)), (429, "too_many_attempts"));
    // Another officer on the same address is not locked out by it.
    s.ensure_user("colleague", Role::Officer);
    let (st, body) = s.login(
        "colleague",
        PASSWORD,
        sync_protocol::DeviceId(Uuid::now_v7()),
    );
    assert_eq!(st, 200, "{body}");
}

/// One address (a phone guessing many accounts, or a whole office behind one NAT) gets a far
/// looser limit than one account: at 30 failures in the window it is slowed down too.
fn many_failures_from_one_address_slow_down_every_account_there(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    s.ensure_user("officer-a", Role::Officer);
    // 29 failures already counted from this address, each for another name.
    db.execute(&format!(
        "INSERT INTO login_attempts (key, failures, window_start, locked_until) \
         VALUES ('addr:127.0.0.1', 29, {}, 0)",
        now_ms()
    ));
    let (st, _) = s.login(
        "officer-a",
        PASSWORD,
        sync_protocol::DeviceId(Uuid::now_v7()),
    );
    assert_eq!(
        st, 200,
        "29 failures from one address do not slow it down yet"
    );
    let (st, _) = s.login(
        "nobody-here",
        "guess-guess-guess",
        sync_protocol::DeviceId(Uuid::now_v7()),
    );
    assert_eq!(st, 401);
    // The 30th: every account from this address now waits, the right password too.
    let wait = retry_after(&s, "officer-a", sync_protocol::DeviceId(Uuid::now_v7()));
    assert!((1..=60).contains(&wait), "{wait}");
}

fn the_audit_log_records_who_did_what_from_where(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let a = admin(&s);
    let d = Device::new(&s, "officer-audited");
    let _ = s.login("officer-audited", "wrong-password!", d.id);
    let (st, _) = s.post(
        &format!("/v1/admin/devices/{}/revoke", d.id),
        Some(&a.token),
        &json!({"reason": "stolen"}),
    );
    assert_eq!(st, 200);
    let (st, _) = s.post(
        &format!("/v1/admin/users/{}/deactivate", d.user_id),
        Some(&a.token),
        &json!({}),
    );
    assert_eq!(st, 200);
    let (st, log) = s.get("/v1/admin/audit?limit=100", Some(&a.token));
    assert_eq!(st, 200, "{log}");
    let entries = log.as_array().unwrap();
    let find = |action: &str| entries.iter().find(|e| e["action"] == action).cloned();
    for action in [
        "login_succeeded",
        "login_failed",
        "device_registered",
        "device_revoked",
        "user_deactivated",
    ] {
        let e = find(action).unwrap_or_else(|| panic!("no {action} in {log}"));
        assert_eq!(e["remote_addr"], "127.0.0.1", "{e}");
        assert!(e["at"].as_i64().unwrap() > 0);
    }
    let revoked = find("device_revoked").unwrap();
    assert_eq!(revoked["actor_username"], "regency-admin");
    assert_eq!(revoked["target"], json!(d.id.to_string()));
    assert_eq!(find("login_failed").unwrap()["success"], false);
    // Newest first, and filterable.
    let (_, only) = s.get("/v1/admin/audit?action=login_failed", Some(&a.token));
    assert!(
        only.as_array()
            .unwrap()
            .iter()
            .all(|e| e["action"] == "login_failed")
    );
    let ids: Vec<&str> = entries.iter().map(|e| e["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort_by(|x, y| y.cmp(x));
    assert_eq!(ids, sorted);
}

fn the_first_administrator_must_change_the_one_time_password_before_anything_else(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let file = db.data_dir().join("first-admin-password");
    let one_time = std::fs::read_to_string(&file).unwrap();
    let one_time = one_time.trim_end();
    let device = sync_protocol::DeviceId(Uuid::now_v7());
    let (st, signed) = s.login("admin", one_time, device);
    assert_eq!(st, 200, "{signed}");
    assert_eq!(signed["must_change_password"], true, "{signed}");
    let token = signed["access_token"].as_str().unwrap();

    for path in ["/v1/admin/users", "/v1/admin/audit", "/v1/sync/pull"] {
        let (st, body) = s.get(path, Some(token));
        assert_eq!(
            (st, code(&body)),
            (403, "password_change_required"),
            "{path}: {body}"
        );
    }
    let (st, body) = s.post(
        "/v1/admin/agencies",
        Some(token),
        &json!({"name": "Dinas Sosial", "kind": "opd"}),
    );
    assert_eq!((st, code(&body)), (403, "password_change_required"));
    let (st, me) = s.get("/v1/me", Some(token));
    assert_eq!((st, me["username"].as_str()), (200, Some("admin")));
    let (st, fresh) = s.post(
        "/v1/auth/refresh",
        None,
        &json!({"refresh_token": signed["refresh_token"]}),
    );
    assert_eq!(st, 200, "{fresh}");
    assert_eq!(fresh["must_change_password"], true, "{fresh}");

    let (st, body) = s.post(
        "/v1/auth/password",
        Some(token),
        &json!({"current_password": one_time, "new_password": "sandi-admin-baru-2026"}),
    );
    assert_eq!(st, 204, "{body}");
    let (st, body) = s.get("/v1/admin/users", Some(token));
    assert_eq!(
        st, 200,
        "the same token works once the password is changed: {body}"
    );
    assert!(
        !file.exists(),
        "the file of a changed one-time password is deleted"
    );
    let (st, _) = s.login("admin", one_time, device);
    assert_eq!(st, 401, "the one-time password no longer signs in");
    let (st, signed) = s.login("admin", "sandi-admin-baru-2026", device);
    assert_eq!(st, 200, "{signed}");
    assert_eq!(signed["must_change_password"], false, "{signed}");

    // A file left behind (the change went through another instance) goes at the next start.
    s.stop();
    std::fs::write(&file, format!("{one_time}\n")).unwrap();
    TestServer::start(&db).stop();
    assert!(
        !file.exists(),
        "a start deletes the file of a password already changed"
    );
}
