//! The conflict inbox and a record's history over real HTTP: a concurrent edit of two
//! devices is listed with both values, who wrote them, from which device and when; a
//! resolution (a picked or a merged value) is an ordinary console write both devices pull;
//! a stale context writes nothing; an agency admin sees and resolves their agency's
//! conflicts only; the history keeps every write that changed a record and nothing else.

use kampung_sync::auth::Role;
use kampung_sync_tests::*;
use serde_json::{Value, json};
use uuid::Uuid;

kampung_sync_tests::on_both_backends!(
    the_inbox_lists_both_values_and_a_pick_resolves_them_on_both_devices,
    a_merged_value_resolves_a_conflict_and_unnamed_fields_stay_conflicted,
    a_stale_context_is_refused_and_nothing_is_written,
    bad_resolutions_are_refused_with_a_clear_code,
    an_agency_admin_sees_and_resolves_their_agencys_conflicts_only,
    the_history_lists_every_write_newest_first_without_retries_or_rejections,
    the_inbox_and_the_history_page_with_a_cursor,
);

/// The regency admin's field device, Dewi's phone, and a household of Dewi's both have.
struct Scene {
    s: TestServer,
    admin: Device,
    dewi: Device,
}

fn scene(db: &TestDb) -> Scene {
    let s = TestServer::start(db);
    let admin = Device::new(&s, "regency");
    let dewi = Device::officer(&s, "dewi");
    Scene { s, admin, dewi }
}

fn household_of(sc: &mut Scene, officer_id: &str, head: &str) -> Uuid {
    let h = Uuid::now_v7();
    let seq = sc.admin.next_seq();
    sc.admin
        .push_ok(&sc.s, vec![put_household(seq, h, 0, None, head)]);
    let (st, body) = sc.s.post(
        "/v1/admin/assignments",
        Some(&sc.admin.token),
        &json!({"household_id": h, "officer_id": officer_id, "reason": "first visit due"}),
    );
    assert_eq!(st, 200, "{body}");
    h
}

/// The record's version and epoch as the admin reads it.
fn seen(s: &TestServer, admin: &Device, h: Uuid) -> (u64, String) {
    let (st, read) = s.get(
        &format!("/v1/admin/records/households/{h}"),
        Some(&admin.token),
    );
    assert_eq!(st, 200, "{read}");
    (
        read["record"]["version"].as_u64().unwrap(),
        read["ctx"]["epoch"].as_str().unwrap().to_owned(),
    )
}

/// `a` (an administrator's field device) and `b` both patch `fa` / `fb` on the version `a`
/// reads: a conflict.
fn concurrent(s: &TestServer, a: &mut Device, b: &mut Device, h: Uuid, fa: Value, fb: Value) {
    let (version, epoch) = seen(s, a, h);
    let seq = a.next_seq();
    let r = a.push_ok(s, vec![patch_household(seq, h, version, Some(&epoch), fa)]);
    assert_eq!(statuses(&r), ["applied"], "{r}");
    let seq = b.next_seq();
    let r = b.push_ok(s, vec![patch_household(seq, h, version, Some(&epoch), fb)]);
    assert_eq!(statuses(&r), ["conflict"], "{r}");
}

/// A household of Dewi's whose head name the admin and Dewi wrote at once (`A`, `B`).
fn conflicted_household(sc: &mut Scene) -> Uuid {
    let dewi_id = sc.dewi.user_id.clone();
    let h = household_of(sc, &dewi_id, "Siti");
    let (s, admin, dewi) = (&sc.s, &mut sc.admin, &mut sc.dewi);
    concurrent(
        s,
        admin,
        dewi,
        h,
        json!({"head_name": "A"}),
        json!({"head_name": "B"}),
    );
    h
}

fn resolve(s: &TestServer, by: &Device, collection: &str, h: Uuid, body: &Value) -> (u16, Value) {
    s.post(
        &format!("/v1/admin/conflicts/{collection}/{h}/resolve"),
        Some(&by.token),
        body,
    )
}

fn inbox(s: &TestServer, by: &Device, query: &str) -> (u16, Value) {
    s.get(&format!("/v1/admin/conflicts{query}"), Some(&by.token))
}

fn item_for(page: &Value, h: Uuid) -> &Value {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == h.to_string())
        .unwrap_or_else(|| panic!("{h} is not in the inbox: {page}"))
}

fn code(body: &Value) -> Option<&str> {
    body["error"]["code"].as_str()
}

fn the_inbox_lists_both_values_and_a_pick_resolves_them_on_both_devices(b: Backend) {
    let db = TestDb::new(b);
    let mut sc = scene(&db);
    let dewi_id = sc.dewi.user_id.clone();
    let h = household_of(&mut sc, &dewi_id, "Siti");
    sc.admin.pull_all(&sc.s);
    sc.dewi.pull_all(&sc.s);
    let (s, admin, dewi) = (&sc.s, &mut sc.admin, &mut sc.dewi);
    concurrent(
        s,
        admin,
        dewi,
        h,
        json!({"head_name": "Siti Aminah"}),
        json!({"head_name": "Sitti"}),
    );

    let (st, page) = inbox(s, admin, "");
    assert_eq!(st, 200, "{page}");
    assert_eq!(page["next_cursor"], Value::Null, "{page}");
    let item = item_for(&page, h);
    assert_eq!(item["collection"], "households");
    assert_eq!(item["household_id"], h.to_string());
    let values = item["conflicts"]["head_name"].as_array().unwrap();
    assert_eq!(values.len(), 2, "{item}");
    let mut who: Vec<(String, String, String, String)> = values
        .iter()
        .map(|v| {
            assert_eq!(v["written_at_source"], "server", "{v}");
            assert!(
                chrono::DateTime::parse_from_rfc3339(v["written_at"].as_str().unwrap()).is_ok(),
                "{v}"
            );
            (
                v["value"]["head_name"].as_str().unwrap().to_owned(),
                v["username"].as_str().unwrap().to_owned(),
                v["user_id"].as_str().unwrap().to_owned(),
                v["device_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    who.sort();
    assert_eq!(
        who,
        vec![
            (
                "Siti Aminah".to_owned(),
                "regency".to_owned(),
                admin.user_id.clone(),
                admin.id.to_string()
            ),
            (
                "Sitti".to_owned(),
                "dewi".to_owned(),
                dewi.user_id.clone(),
                dewi.id.to_string()
            ),
        ],
        "{item}"
    );
    // The record read shows the same values side by side.
    let (_, read) = s.get(
        &format!("/v1/admin/records/households/{h}"),
        Some(&admin.token),
    );
    assert_eq!(
        read["conflicts"]["head_name"],
        item["conflicts"]["head_name"]
    );
    assert_eq!(read["ctx"], item["ctx"]);

    let pick = values.iter().find(|v| v["username"] == "dewi").unwrap()["index"].clone();
    let (st, done) = resolve(
        s,
        admin,
        "households",
        h,
        &json!({"ctx": item["ctx"], "pick": {"head_name": pick}}),
    );
    assert_eq!(st, 200, "{done}");
    assert_eq!(done["result"]["status"], "applied", "{done}");
    assert_eq!(done["result"]["record"]["conflicted"], false, "{done}");

    let (_, page) = inbox(s, admin, "");
    assert_eq!(page["items"], json!([]), "{page}");
    for device in [&mut *admin, &mut *dewi] {
        let pulled = device.pull_all(s);
        let record = pulled
            .iter()
            .rev()
            .find(|r| r["id"] == h.to_string())
            .unwrap();
        assert_eq!(record["conflicted"], false, "{record}");
        assert_eq!(record["fields"]["head_name"], "Sitti", "{record}");
    }
    let (_, log) = s.get(
        "/v1/admin/audit?action=conflict_resolved",
        Some(&admin.token),
    );
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["target"], h.to_string());
    assert_eq!(log[0]["detail"]["picked"]["head_name"], pick);
}

fn a_merged_value_resolves_a_conflict_and_unnamed_fields_stay_conflicted(b: Backend) {
    let db = TestDb::new(b);
    let mut sc = scene(&db);
    let dewi_id = sc.dewi.user_id.clone();
    let h = household_of(&mut sc, &dewi_id, "Siti");
    sc.dewi.pull_all(&sc.s);
    let (s, admin, dewi) = (&sc.s, &mut sc.admin, &mut sc.dewi);
    concurrent(
        s,
        admin,
        dewi,
        h,
        json!({"head_name": "Siti Aminah", "phone": "0811"}),
        json!({"head_name": "Sitti", "phone": "0822"}),
    );
    let (_, page) = inbox(s, admin, "?collection=households");
    let item = item_for(&page, h).clone();
    let mut names: Vec<&String> = item["conflicts"].as_object().unwrap().keys().collect();
    names.sort();
    assert_eq!(names, ["head_name", "phone"], "{item}");

    let (st, done) = resolve(
        s,
        admin,
        "households",
        h,
        &json!({"ctx": item["ctx"], "fields": {"head_name": {"head_name": "Siti Aminah binti Slamet"}}}),
    );
    assert_eq!(st, 200, "{done}");
    let record = &done["result"]["record"];
    assert_eq!(record["fields"]["head_name"], "Siti Aminah binti Slamet");
    assert_eq!(record["conflicted"], true, "phone was not named: {record}");
    assert!(record["conflicts"].get("head_name").is_none(), "{record}");

    // The rest, on the new context: the record is clean, on both devices.
    let (_, page) = inbox(s, admin, "");
    let item = item_for(&page, h).clone();
    let (st, done) = resolve(
        s,
        admin,
        "households",
        h,
        &json!({"ctx": item["ctx"], "pick": {"phone": 1}}),
    );
    assert_eq!(st, 200, "{done}");
    assert_eq!(done["result"]["record"]["conflicted"], false, "{done}");
    let (_, page) = inbox(s, admin, "");
    assert_eq!(page["items"], json!([]), "{page}");
    let pulled = dewi.pull_all(s);
    let last = pulled
        .iter()
        .rev()
        .find(|r| r["id"] == h.to_string())
        .unwrap();
    assert_eq!(last["conflicted"], false, "{last}");
    assert_eq!(last["fields"]["head_name"], "Siti Aminah binti Slamet");
    assert_eq!(
        last["fields"]["phone"],
        item["conflicts"]["phone"][1]["value"]["phone"]
    );
}

fn a_stale_context_is_refused_and_nothing_is_written(b: Backend) {
    let db = TestDb::new(b);
    let mut sc = scene(&db);
    let h = conflicted_household(&mut sc);
    let (s, admin, dewi) = (&sc.s, &mut sc.admin, &mut sc.dewi);
    let (_, page) = inbox(s, admin, "");
    let read_ctx = item_for(&page, h)["ctx"].clone();
    // Dewi writes again before the admin resolves.
    let (version, epoch) = seen(s, admin, h);
    let seq = dewi.next_seq();
    dewi.push_ok(
        s,
        vec![patch_household(
            seq,
            h,
            version,
            Some(&epoch),
            json!({"notes": "pindah RT"}),
        )],
    );
    let writes = db.scalar(&format!(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM record_writes WHERE record_id = '{h}'"
    ));
    let (st, body) = resolve(
        s,
        admin,
        "households",
        h,
        &json!({"ctx": read_ctx, "pick": {"head_name": 0}}),
    );
    assert_eq!((st, code(&body)), (409, Some("stale_context")), "{body}");
    assert_eq!(seen(s, admin, h).0, version + 1, "nothing was written");
    assert_eq!(
        db.scalar(&format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM record_writes WHERE record_id = '{h}'"
        )),
        writes
    );
    let (_, log) = s.get(
        "/v1/admin/audit?action=conflict_resolved",
        Some(&admin.token),
    );
    assert_eq!(log, json!([]));

    // On a fresh read it resolves; then there is nothing left to resolve.
    let (_, page) = inbox(s, admin, "");
    let ctx = item_for(&page, h)["ctx"].clone();
    let (st, body) = resolve(
        s,
        admin,
        "households",
        h,
        &json!({"ctx": ctx, "pick": {"head_name": 0}}),
    );
    assert_eq!(st, 200, "{body}");
    let (st, body) = resolve(
        s,
        admin,
        "households",
        h,
        &json!({"ctx": body["ctx"], "pick": {"head_name": 0}}),
    );
    assert_eq!((st, code(&body)), (409, Some("not_conflicted")), "{body}");
}

fn bad_resolutions_are_refused_with_a_clear_code(b: Backend) {
    let db = TestDb::new(b);
    let mut sc = scene(&db);
    let h = conflicted_household(&mut sc);
    let (s, admin, dewi) = (&sc.s, &mut sc.admin, &mut sc.dewi);
    let (_, page) = inbox(s, admin, "");
    let ctx = item_for(&page, h)["ctx"].clone();
    let version = seen(s, admin, h).0;
    for (body, status, want) in [
        (
            json!({"ctx": ctx, "pick": {"head_name": 2}}),
            400,
            "invalid_resolution",
        ),
        (
            json!({"ctx": ctx, "pick": {"phone": 0}}),
            400,
            "invalid_resolution",
        ),
        (
            json!({"ctx": ctx, "pick": {"no_such_field": 0}}),
            400,
            "invalid_resolution",
        ),
        (json!({"ctx": ctx}), 400, "invalid_resolution"),
        (
            json!({"ctx": ctx, "pick": {"head_name": 0}, "fields": {"head_name": {"head_name": "C"}}}),
            400,
            "invalid_resolution",
        ),
        (
            json!({"ctx": ctx, "fields": {"head_name": "C"}}),
            400,
            "invalid_resolution",
        ),
        (
            json!({"ctx": ctx, "fields": {"head_name": {"phone": "0811"}}}),
            400,
            "invalid_resolution",
        ),
        (
            json!({"ctx": ctx, "fields": {"head_name": {"head_name": null}}}),
            422,
            "edit_rejected",
        ),
        (json!({"pick": {"head_name": 0}}), 400, "invalid_request"),
        (
            json!({"ctx": ctx, "pick": {"head_name": 0}, "extra": 1}),
            400,
            "invalid_request",
        ),
    ] {
        let (st, answer) = resolve(s, admin, "households", h, &body);
        assert_eq!(
            (st, code(&answer)),
            (status, Some(want)),
            "{body} → {answer}"
        );
    }
    // The wrong collection, or no such record: as the record read answers.
    for collection in ["visits", "nonsense"] {
        let (st, answer) = resolve(
            s,
            admin,
            collection,
            h,
            &json!({"ctx": ctx, "pick": {"head_name": 0}}),
        );
        assert_eq!(
            (st, code(&answer)),
            (404, Some("record_not_found")),
            "{answer}"
        );
    }
    let (st, answer) = resolve(
        s,
        admin,
        "households",
        Uuid::now_v7(),
        &json!({"ctx": ctx, "pick": {"head_name": 0}}),
    );
    assert_eq!(
        (st, code(&answer)),
        (404, Some("record_not_found")),
        "{answer}"
    );
    // Officers resolve nothing.
    let (st, answer) = resolve(
        s,
        dewi,
        "households",
        h,
        &json!({"ctx": ctx, "pick": {"head_name": 0}}),
    );
    assert_eq!(
        (st, code(&answer)),
        (403, Some("forbidden_role")),
        "{answer}"
    );
    let (st, answer) = inbox(s, dewi, "");
    assert_eq!(
        (st, code(&answer)),
        (403, Some("forbidden_role")),
        "{answer}"
    );
    assert_eq!(seen(s, admin, h).0, version, "nothing was written");
    for query in [
        "?collection=bogus",
        "?limit=501",
        "?limit=0",
        "?cursor=zzz",
        "?agency=x",
        "?sort=id",
    ] {
        let (st, answer) = inbox(s, admin, query);
        let want = if query.starts_with("?cursor") {
            "invalid_cursor"
        } else {
            "invalid_query"
        };
        assert_eq!((st, code(&answer)), (400, Some(want)), "{query} → {answer}");
    }
}

fn an_agency_admin_sees_and_resolves_their_agencys_conflicts_only(b: Backend) {
    let db = TestDb::new(b);
    let mut sc = scene(&db);
    let dewi_id = sc.dewi.user_id.clone();
    let mine = household_of(&mut sc, &dewi_id, "Siti");
    let (st, agency) = sc.s.post(
        "/v1/admin/agencies",
        Some(&sc.admin.token),
        &json!({"name": "SMPN 2 Rogojampi", "kind": "school"}),
    );
    assert_eq!(st, 201, "{agency}");
    let (st, rina) = sc.s.post(
        "/v1/admin/users",
        Some(&sc.admin.token),
        &json!({"username": "rina", "display_name": "Rina", "role": "officer",
                "agency_id": agency["id"], "password": PASSWORD}),
    );
    assert_eq!(st, 201, "{rina}");
    let theirs = household_of(&mut sc, rina["id"].as_str().unwrap(), "Budi");
    let mut rina_phone = Device::officer(&sc.s, "rina");
    let kepala = Device::with_role(&sc.s, "kepala", Role::AgencyAdmin);
    let (s, admin, dewi) = (&sc.s, &mut sc.admin, &mut sc.dewi);
    concurrent(
        s,
        admin,
        dewi,
        mine,
        json!({"head_name": "A"}),
        json!({"head_name": "B"}),
    );
    concurrent(
        s,
        admin,
        &mut rina_phone,
        theirs,
        json!({"head_name": "C"}),
        json!({"head_name": "D"}),
    );

    let (_, all) = inbox(s, admin, "");
    assert_eq!(all["items"].as_array().unwrap().len(), 2, "{all}");
    let (_, one) = inbox(
        s,
        admin,
        &format!("?agency={}", agency["id"].as_str().unwrap()),
    );
    let ids: Vec<&Value> = one["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["id"])
        .collect();
    assert_eq!(ids, [&json!(theirs.to_string())], "{one}");

    let (st, page) = inbox(s, &kepala, "");
    assert_eq!(st, 200, "{page}");
    let ids: Vec<&Value> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["id"])
        .collect();
    assert_eq!(ids, [&json!(mine.to_string())], "{page}");
    let (st, body) = inbox(
        s,
        &kepala,
        &format!("?agency={}", agency["id"].as_str().unwrap()),
    );
    assert_eq!((st, code(&body)), (403, Some("other_agency")), "{body}");

    let theirs_ctx = item_for(&all, theirs)["ctx"].clone();
    let (st, body) = resolve(
        s,
        &kepala,
        "households",
        theirs,
        &json!({"ctx": theirs_ctx, "pick": {"head_name": 0}}),
    );
    assert_eq!((st, code(&body)), (403, Some("other_agency")), "{body}");
    let (st, body) = s.get(
        &format!("/v1/admin/records/households/{theirs}/history"),
        Some(&kepala.token),
    );
    assert_eq!((st, code(&body)), (403, Some("other_agency")), "{body}");
    let (_, page) = inbox(
        s,
        admin,
        &format!("?agency={}", agency["id"].as_str().unwrap()),
    );
    assert_eq!(
        page["items"].as_array().unwrap().len(),
        1,
        "still open: {page}"
    );

    let mine_ctx = item_for(&all, mine)["ctx"].clone();
    let (st, body) = resolve(
        s,
        &kepala,
        "households",
        mine,
        &json!({"ctx": mine_ctx, "pick": {"head_name": 0}}),
    );
    assert_eq!(st, 200, "{body}");
    let (_, page) = inbox(s, &kepala, "");
    assert_eq!(page["items"], json!([]), "{page}");
}

fn the_history_lists_every_write_newest_first_without_retries_or_rejections(b: Backend) {
    let db = TestDb::new(b);
    let mut sc = scene(&db);
    let dewi_id = sc.dewi.user_id.clone();
    let h = household_of(&mut sc, &dewi_id, "Siti");
    let (s, admin, dewi) = (&sc.s, &mut sc.admin, &mut sc.dewi);
    let (version, epoch) = seen(s, admin, h);
    let seq = dewi.next_seq();
    let op = patch_household(seq, h, version, Some(&epoch), json!({"phone": "0811"}));
    dewi.push_ok(s, vec![op.clone()]);
    // A retry of the same operation, and an operation the server rejects.
    let retried = dewi.push_ok(s, vec![op]);
    assert_eq!(statuses(&retried), ["duplicate"], "{retried}");
    let seq = dewi.next_seq();
    let rejected = dewi.push_ok(
        s,
        vec![patch_household(
            seq,
            h,
            version + 1,
            Some(&epoch),
            json!({"welfare_decile": 11}),
        )],
    );
    assert_eq!(statuses(&rejected), ["rejected"], "{rejected}");
    // An administrator's edit through the console.
    let path = format!("/v1/admin/records/households/{h}");
    let (_, read) = s.get(&path, Some(&admin.token));
    let r = s.send(
        "PATCH",
        &path,
        &[
            (
                "Authorization".to_owned(),
                format!("Bearer {}", admin.token),
            ),
            ("Content-Type".to_owned(), "application/json".to_owned()),
        ],
        Some(
            json!({"ctx": read["ctx"], "fields": {"status": "graduated"}})
                .to_string()
                .into_bytes(),
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);

    let (st, page) = s.get(&format!("{path}/history"), Some(&admin.token));
    assert_eq!(st, 200, "{page}");
    assert_eq!(page["next_cursor"], Value::Null);
    let items = page["items"].as_array().unwrap();
    let got: Vec<(u64, &str, &str, &str)> = items
        .iter()
        .map(|w| {
            (
                w["version"].as_u64().unwrap(),
                w["kind"].as_str().unwrap(),
                w["username"].as_str().unwrap(),
                w["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (version + 2, "patch", "regency", "applied"),
            (version + 1, "patch", "dewi", "applied"),
            (version, "put", "regency", "applied"),
        ],
        "{page}"
    );
    assert_eq!(items[1]["device_id"], dewi.id.to_string());
    assert_eq!(items[1]["user_id"], dewi.user_id);
    assert_eq!(items[1]["fields"], json!({"phone": "0811"}));
    assert_eq!(items[1]["ctx"]["vv"]["server"], version);
    assert_eq!(items[2]["device_id"], admin.id.to_string());
    assert_eq!(items[2]["fields"]["head_name"], "Siti");
    assert_eq!(items[0]["fields"], json!({"status": "graduated"}));
    assert_ne!(
        items[0]["device_id"],
        admin.id.to_string(),
        "the console device"
    );
    for w in items {
        assert!(
            chrono::DateTime::parse_from_rfc3339(w["at"].as_str().unwrap()).is_ok(),
            "{w}"
        );
    }
    assert_eq!(
        db.scalar(&format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM record_writes WHERE record_id = '{h}'"
        )),
        3,
        "a retry and a rejection add no row"
    );
}

fn the_inbox_and_the_history_page_with_a_cursor(b: Backend) {
    let db = TestDb::new(b);
    let mut sc = scene(&db);
    let dewi_id = sc.dewi.user_id.clone();
    let hs: Vec<Uuid> = (0..3)
        .map(|i| household_of(&mut sc, &dewi_id, &format!("H{i}")))
        .collect();
    let (s, admin, dewi) = (&sc.s, &mut sc.admin, &mut sc.dewi);
    for h in &hs {
        concurrent(
            s,
            admin,
            dewi,
            *h,
            json!({"head_name": "A"}),
            json!({"head_name": "B"}),
        );
    }
    let mut seen_ids = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let q = match &cursor {
            Some(c) => format!("?limit=2&cursor={c}"),
            None => "?limit=2".to_owned(),
        };
        let (st, page) = inbox(s, admin, &q);
        assert_eq!(st, 200, "{page}");
        pages += 1;
        seen_ids.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 2);
    let mut want: Vec<String> = hs.iter().map(Uuid::to_string).collect();
    want.sort();
    assert_eq!(seen_ids, want, "every conflict once, in id order");
    let (_, none) = inbox(s, admin, "?collection=visits");
    assert_eq!(none["items"], json!([]));
    let (_, here) = inbox(s, admin, "?desa=3510010001&kecamatan=3510010");
    assert_eq!(here["items"].as_array().unwrap().len(), 3, "{here}");
    let (_, elsewhere) = inbox(s, admin, "?desa=3510020001");
    assert_eq!(elsewhere["items"], json!([]));

    // Each household has three writes: the put and the two patches.
    let path = format!("/v1/admin/records/households/{}/history", hs[0]);
    let (st, first) = s.get(&format!("{path}?limit=2"), Some(&admin.token));
    assert_eq!(st, 200, "{first}");
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) = s.get(
        &format!("{path}?limit=2&cursor={cursor}"),
        Some(&admin.token),
    );
    let versions: Vec<u64> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .map(|w| w["version"].as_u64().unwrap())
        .collect();
    assert_eq!(versions, [3, 2, 1], "{first} {second}");
    assert_eq!(second["next_cursor"], Value::Null);
    for (q, want) in [
        ("?limit=501", "invalid_query"),
        ("?cursor=x", "invalid_cursor"),
        ("?order=asc", "invalid_query"),
    ] {
        let (st, body) = s.get(&format!("{path}{q}"), Some(&admin.token));
        assert_eq!((st, code(&body)), (400, Some(want)), "{q} → {body}");
    }
}
