//! Administrators edit records over HTTP through their console device: the same merge as a
//! device's push, so a concurrent field edit becomes a sibling the devices see, and an edit
//! on top of what was read reaches the officer's device as an ordinary change.

use kampung_sync::auth::Role;
use kampung_sync_tests::*;
use serde_json::{Value, json};
use uuid::Uuid;

kampung_sync_tests::on_both_backends!(
    an_admin_edit_concurrent_with_a_device_edit_is_a_conflict_the_device_pulls,
    an_admin_edit_on_what_was_read_reaches_the_officers_device,
    an_agency_admin_cannot_read_or_edit_another_agencys_household,
);

fn edit(s: &TestServer, by: &Device, method: &str, path: &str, body: &Value) -> (u16, Value) {
    let r = s.send(
        method,
        path,
        &[
            ("Authorization".to_owned(), format!("Bearer {}", by.token)),
            ("Content-Type".to_owned(), "application/json".to_owned()),
        ],
        Some(body.to_string().into_bytes()),
    );
    (r.status, r.body)
}

/// A household of Dewi's, made by the regency admin, which Dewi's device has pulled.
fn dewis_household(s: &TestServer, admin: &mut Device, dewi: &mut Device) -> Uuid {
    let h = Uuid::now_v7();
    let seq = admin.next_seq();
    admin.push_ok(s, vec![put_household(seq, h, 0, None, "Siti")]);
    let (st, body) = s.post(
        "/v1/admin/assignments",
        Some(&admin.token),
        &json!({"household_id": h, "officer_id": dewi.user_id, "reason": "first visit due"}),
    );
    assert_eq!(st, 200, "{body}");
    assert_eq!(dewi.pull_all(s).len(), 1);
    h
}

fn console_of(s: &TestServer, admin: &Device) -> Value {
    let (st, list) = s.get("/v1/admin/devices", Some(&admin.token));
    assert_eq!(st, 200, "{list}");
    let consoles: Vec<Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == "console" && d["user_id"] == admin.user_id.as_str())
        .cloned()
        .collect();
    assert_eq!(consoles.len(), 1, "one console device: {list}");
    consoles[0].clone()
}

fn an_admin_edit_concurrent_with_a_device_edit_is_a_conflict_the_device_pulls(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut admin = Device::new(&s, "regency");
    let mut dewi = Device::officer(&s, "dewi");
    let h = dewis_household(&s, &mut admin, &mut dewi);
    let path = format!("/v1/admin/records/households/{h}");

    let (st, read) = s.get(&path, Some(&admin.token));
    assert_eq!(st, 200, "{read}");
    assert_eq!(read["record"]["fields"]["head_name"], "Siti");
    let version = read["record"]["version"].as_u64().unwrap();
    assert_eq!(read["ctx"]["vv"]["server"], version, "{read}");
    let epoch = read["ctx"]["epoch"].as_str().unwrap().to_owned();

    // Dewi edits the name offline, on the version the admin read too.
    let seq = dewi.next_seq();
    let resp = dewi.push_ok(
        &s,
        vec![patch_household(
            seq,
            h,
            version,
            Some(&epoch),
            json!({"head_name": "Siti Aminah"}),
        )],
    );
    assert_eq!(statuses(&resp), ["applied"], "{resp}");

    let (st, done) = edit(
        &s,
        &admin,
        "PATCH",
        &path,
        &json!({"ctx": read["ctx"], "fields": {"head_name": "Sitti"}}),
    );
    assert_eq!(st, 200, "{done}");
    assert_eq!(done["result"]["status"], "conflict", "{done}");
    assert_eq!(done["result"]["conflicts"], json!(["head_name"]), "{done}");

    let console = console_of(&s, &admin);
    assert_eq!(console["revoked"], true, "a console device never signs in");
    let pulled = dewi.pull_all(&s);
    assert_eq!(pulled.len(), 1, "{pulled:?}");
    let record = &pulled[0];
    assert_eq!(record["conflicted"], true, "{record}");
    let siblings = record["conflicts"]["head_name"].as_array().unwrap();
    let mut writers: Vec<(String, String)> = siblings
        .iter()
        .map(|sib| {
            (
                sib["device"].as_str().unwrap().to_owned(),
                sib["value"]["head_name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    writers.sort();
    let mut want = vec![
        (dewi.id.to_string(), "Siti Aminah".to_owned()),
        (
            console["id"].as_str().unwrap().to_owned(),
            "Sitti".to_owned(),
        ),
    ];
    want.sort();
    assert_eq!(writers, want, "{record}");

    // The console device's id cannot be used to sign in.
    let console_id = kampung_sync::ids::DeviceId(console["id"].as_str().unwrap().parse().unwrap());
    let (st, body) = s.login("regency", PASSWORD, console_id);
    assert_eq!(
        (st, body["error"]["code"].as_str()),
        (403, Some("device_revoked"))
    );

    let (_, log) = s.get("/v1/admin/audit?action=record_edited", Some(&admin.token));
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["target"], h.to_string());
    assert_eq!(log[0]["detail"]["status"], "conflict");
}

fn an_admin_edit_on_what_was_read_reaches_the_officers_device(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut admin = Device::new(&s, "regency");
    let mut dewi = Device::officer(&s, "dewi");
    let h = dewis_household(&s, &mut admin, &mut dewi);
    let path = format!("/v1/admin/records/households/{h}");
    let (_, read) = s.get(&path, Some(&admin.token));

    let (st, done) = edit(
        &s,
        &admin,
        "PATCH",
        &path,
        &json!({"ctx": read["ctx"], "fields": {"phone": "081234567890"}}),
    );
    assert_eq!(st, 200, "{done}");
    assert_eq!(done["result"]["status"], "applied", "{done}");
    assert_eq!(done["result"]["record"]["fields"]["phone"], "081234567890");

    // A put with the answer's context supersedes everything: no conflict.
    let (st, done) = edit(
        &s,
        &admin,
        "PUT",
        &path,
        &json!({"ctx": done["ctx"], "fields": {"head_name": "Siti Aminah",
                "desa_code": "3510010001", "status": "active", "phone": "081234567890"}}),
    );
    assert_eq!(st, 200, "{done}");
    assert_eq!(done["result"]["status"], "applied", "{done}");

    let pulled = dewi.pull_all(&s);
    assert_eq!(pulled.len(), 1, "{pulled:?}");
    assert_eq!(pulled[0]["conflicted"], false, "{pulled:?}");
    assert_eq!(pulled[0]["fields"]["head_name"], "Siti Aminah");
    assert_eq!(pulled[0]["fields"]["phone"], "081234567890");

    // A bad field is rejected with the push's reject code, and nothing is written.
    let (_, read) = s.get(&path, Some(&admin.token));
    let (st, refused) = edit(
        &s,
        &admin,
        "PATCH",
        &path,
        &json!({"ctx": read["ctx"], "fields": {"welfare_decile": 11}}),
    );
    assert_eq!(st, 422, "{refused}");
    assert_eq!(refused["error"]["code"], "edit_rejected", "{refused}");
    assert_eq!(
        refused["result"]["error"]["code"], "invalid_value",
        "{refused}"
    );
    let (_, after) = s.get(&path, Some(&admin.token));
    assert_eq!(after["record"]["version"], read["record"]["version"]);

    // A delete with the current context is a tombstone the device pulls.
    let (st, done) = edit(&s, &admin, "DELETE", &path, &json!({"ctx": after["ctx"]}));
    assert_eq!(st, 200, "{done}");
    assert_eq!(done["result"]["record"]["deleted"], true, "{done}");
    let pulled = dewi.pull_all(&s);
    assert_eq!(pulled[0]["deleted"], true, "{pulled:?}");

    // Officers do not edit through this endpoint.
    let (st, body) = edit(
        &s,
        &dewi,
        "PATCH",
        &path,
        &json!({"fields": {"phone": "1"}}),
    );
    assert_eq!(
        (st, body["error"]["code"].as_str()),
        (403, Some("forbidden_role"))
    );
    let (st, body) = s.get(
        &format!("/v1/admin/records/households/{}", Uuid::now_v7()),
        Some(&admin.token),
    );
    assert_eq!(
        (st, body["error"]["code"].as_str()),
        (404, Some("record_not_found"))
    );
}

fn an_agency_admin_cannot_read_or_edit_another_agencys_household(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut admin = Device::new(&s, "regency");
    let mut dewi = Device::officer(&s, "dewi");
    let mine = dewis_household(&s, &mut admin, &mut dewi);
    let (st, agency) = s.post(
        "/v1/admin/agencies",
        Some(&admin.token),
        &json!({"name": "SMPN 2 Rogojampi", "kind": "school"}),
    );
    assert_eq!(st, 201, "{agency}");
    let (st, rina) = s.post(
        "/v1/admin/users",
        Some(&admin.token),
        &json!({"username": "rina", "display_name": "Rina", "role": "officer",
                "agency_id": agency["id"], "password": PASSWORD}),
    );
    assert_eq!(st, 201, "{rina}");
    let theirs = Uuid::now_v7();
    let seq = admin.next_seq();
    admin.push_ok(&s, vec![put_household(seq, theirs, 0, None, "Budi")]);
    let (st, body) = s.post(
        "/v1/admin/assignments",
        Some(&admin.token),
        &json!({"household_id": theirs, "officer_id": rina["id"], "reason": "first visit due"}),
    );
    assert_eq!(st, 200, "{body}");
    let kepala = Device::with_role(&s, "kepala", Role::AgencyAdmin);

    let path = format!("/v1/admin/records/households/{theirs}");
    let (st, body) = s.get(&path, Some(&kepala.token));
    assert_eq!(
        (st, body["error"]["code"].as_str()),
        (403, Some("other_agency")),
        "{body}"
    );
    let (st, body) = edit(
        &s,
        &kepala,
        "PATCH",
        &path,
        &json!({"fields": {"phone": "0812"}}),
    );
    assert_eq!(
        (st, body["error"]["code"].as_str()),
        (403, Some("other_agency")),
        "{body}"
    );
    let (_, read) = s.get(&path, Some(&admin.token));
    assert_eq!(
        read["record"]["fields"]["phone"],
        Value::Null,
        "nothing written"
    );

    // Their own agency's household they may edit.
    let path = format!("/v1/admin/records/households/{mine}");
    let (st, read) = s.get(&path, Some(&kepala.token));
    assert_eq!(st, 200, "{read}");
    let (st, done) = edit(
        &s,
        &kepala,
        "PATCH",
        &path,
        &json!({"ctx": read["ctx"], "fields": {"phone": "0812"}}),
    );
    assert_eq!(st, 200, "{done}");
    assert_eq!(done["result"]["status"], "applied", "{done}");
}
