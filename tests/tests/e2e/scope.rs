//! Scope: an officer's devices sync the households assigned to the officer, with their
//! visits and aid, and nothing else; a household that enters the scope comes with its
//! history, one that leaves it is removed; writes outside the scope are held, not applied.

use kampung_sync::auth::Role;
use kampung_sync_tests::client_transport::{HttpClient, Step};
use kampung_sync_tests::*;
use serde_json::{Value, json};
use sync_protocol::{Collection, RecordId};
use uuid::Uuid;

use crate::merge::{hold_record_lock, release};

kampung_sync_tests::on_both_backends!(
    an_officer_pulls_only_the_households_assigned_to_them,
    a_write_outside_the_scope_is_refused_and_held_while_the_rest_of_the_batch_applies,
    a_push_answer_shows_nothing_of_a_household_outside_the_scope,
    a_household_that_comes_and_goes_between_two_pulls_ends_as_its_last_move_left_it,
    a_household_that_enters_the_scope_comes_with_its_history_once,
    a_reassigned_household_is_removed_from_the_old_device_and_its_later_changes_stay_away,
    a_reassignment_racing_the_old_officers_push_neither_loses_nor_silently_accepts_it,
    assignments_keep_their_history_and_admins_act_within_their_agency,
    an_agency_admin_syncs_the_households_of_their_agencys_officers_only,
    an_officer_pulls_the_visits_and_aid_of_the_history_window_only,
    a_reassignment_racing_the_new_officers_pull_brings_the_household_once_after_it_commits,
);

fn visit(seq: u64, household: Uuid) -> Value {
    json!({
        "seq": seq, "collection": "visits", "kind": "put", "record_id": Uuid::now_v7(),
        "hlc": {"wall_ms": now_ms(), "counter": 0},
        "fields": {"household_id": household, "visited_at": "2026-11-28T09:05:00+07:00",
                   "outcome": "completed"}
    })
}

/// The regency's administrator and two households, each with one visit.
struct Regency {
    admin: Device,
    households: [Uuid; 2],
    epoch: String,
}

fn regency(s: &TestServer) -> Regency {
    let mut admin = Device::new(s, "regency");
    let households = [Uuid::now_v7(), Uuid::now_v7()];
    let mut ops = Vec::new();
    for h in households {
        let seq = admin.next_seq();
        ops.push(put_household(seq, h, 0, None, "Siti"));
        let seq = admin.next_seq();
        ops.push(visit(seq, h));
    }
    let resp = admin.push_ok(s, ops);
    assert_eq!(statuses(&resp), ["applied"; 4], "{resp}");
    let epoch = resp["epoch"].as_str().unwrap().to_owned();
    Regency {
        admin,
        households,
        epoch,
    }
}

fn assign(s: &TestServer, by: &Device, household: Uuid, officer: &str) -> (u16, Value) {
    s.post(
        "/v1/admin/assignments",
        Some(&by.token),
        &json!({"household_id": household, "officer_id": officer, "reason": "first visit due"}),
    )
}

fn households_in(records: &[Value]) -> Vec<String> {
    let mut h: Vec<String> = records
        .iter()
        .map(|r| match r["collection"].as_str() {
            Some("households") => r["id"].as_str().unwrap().to_owned(),
            _ => r["fields"]["household_id"].as_str().unwrap().to_owned(),
        })
        .collect();
    h.sort();
    h.dedup();
    h
}

/// The households a phone holds, with their visits and aid, as its replica shows them.
fn households_on(phone: &HttpClient) -> Vec<String> {
    let views: Vec<Value> = phone
        .client
        .views()
        .into_iter()
        .map(|v| serde_json::to_value(v).unwrap())
        .collect();
    households_in(&views)
}

/// The removals of every pull answer among `steps`, as (id, collection), sorted.
fn removals_in(steps: &[Step]) -> Vec<(String, String)> {
    let mut removed: Vec<(String, String)> = steps
        .iter()
        .filter_map(|st| match st {
            Step::Pull { answer, .. } => answer["removals"].as_array().cloned(),
            _ => None,
        })
        .flatten()
        .map(|x| {
            (
                x["id"].as_str().unwrap().into(),
                x["collection"].as_str().unwrap().into(),
            )
        })
        .collect();
    removed.sort();
    removed
}

fn an_officer_pulls_only_the_households_assigned_to_them(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let r = regency(&s);
    let mut dewi = HttpClient::officer(&s, "dewi");
    dewi.sync_caught_up(&s);
    assert!(
        dewi.client.views().is_empty(),
        "no assignment, nothing on the phone"
    );
    let (st, a) = assign(&s, &r.admin, r.households[0], &dewi.user_id);
    assert_eq!(st, 200, "{a}");
    assert_eq!(a["active"], true);
    dewi.sync_caught_up(&s);
    assert_eq!(
        dewi.client.views().len(),
        2,
        "the household and its visit: {:?}",
        dewi.client.views()
    );
    assert_eq!(households_on(&dewi), [r.households[0].to_string()]);
    // The administrator's device still pulls everything.
    let mut admin = r.admin;
    admin.cursor = None;
    assert_eq!(admin.pull_all(&s).len(), 4);
}

fn a_write_outside_the_scope_is_refused_and_held_while_the_rest_of_the_batch_applies(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let r = regency(&s);
    let mut dewi = Device::officer(&s, "dewi");
    assign(&s, &r.admin, r.households[0], &dewi.user_id);
    let own = visit(dewi.next_seq(), r.households[0]);
    let other = visit(dewi.next_seq(), r.households[1]);
    let other_id = other["record_id"].as_str().unwrap().to_owned();
    let registered = Uuid::now_v7();
    let invented = put_household(dewi.next_seq(), registered, 0, None, "Budi");
    let patch_other = patch_household(
        dewi.next_seq(),
        r.households[1],
        1,
        Some(&r.epoch),
        json!({"notes": "tidak di rumah"}),
    );
    let resp = dewi.push_ok(&s, vec![own, other, invented, patch_other]);
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
        ["applied", "out_of_scope", "applied", "out_of_scope"],
        "a household the officer registers in the field is theirs: {resp}"
    );
    assert_eq!(
        resp["acked_seq"], 4,
        "refused operations are answered, not left pending"
    );
    assert_eq!(
        db.scalar(&format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM records WHERE id = '{other_id}' AND version > 0"
        )),
        0,
        "nothing about a household outside the scope is written"
    );
    assert_eq!(
        db.scalar("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM held_writes"),
        2,
        "each refused write is kept for review"
    );
    let (st, held) = s.get("/v1/admin/held-writes", Some(&r.admin.token));
    assert_eq!(st, 200, "{held}");
    let mut seen: Vec<(i64, String)> = held
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            assert_eq!(h["username"], "dewi");
            assert_eq!(h["device_id"], dewi.id.to_string());
            assert_eq!(h["household_id"], r.households[1].to_string());
            assert_eq!(h["operation"]["record_id"], h["record_id"]);
            (
                h["seq"].as_i64().unwrap(),
                h["record_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [(2, other_id.clone()), (4, r.households[1].to_string())],
        "{held}"
    );
    let (st, body) = s.get("/v1/admin/held-writes", Some(&dewi.token));
    assert_eq!(
        (st, body["error"]["code"].as_str()),
        (403, Some("forbidden_role"))
    );
    let mut admin = r.admin;
    admin.cursor = None;
    let all = admin.pull_all(&s);
    assert_eq!(
        all.len(),
        6,
        "the four of the regency, Dewi's visit and her household"
    );
    let (_, mine) = s.get(
        &format!(
            "/v1/admin/assignments?officer_id={}&active=true",
            dewi.user_id
        ),
        Some(&admin.token),
    );
    let mut assigned: Vec<&str> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["household_id"].as_str().unwrap())
        .collect();
    assigned.sort_unstable();
    let mut want = vec![r.households[0].to_string(), registered.to_string()];
    want.sort();
    assert_eq!(assigned, want, "{mine}");
    let h1 = all
        .iter()
        .find(|x| x["id"] == r.households[1].to_string())
        .unwrap();
    assert_eq!(
        h1["fields"]["notes"],
        Value::Null,
        "the refused patch changed nothing"
    );
}

/// Found by the simulator: a refused write's result carried the household as it now stands
/// (the new officer's edits) to the device that lost it, and so did a resend of a write made
/// before the household was reassigned.
fn a_push_answer_shows_nothing_of_a_household_outside_the_scope(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let r = regency(&s);
    let mut dewi = Device::officer(&s, "dewi");
    let rina = Device::officer(&s, "rina");
    assign(&s, &r.admin, r.households[0], &dewi.user_id);
    let own = vec![visit(dewi.next_seq(), r.households[0])];
    let first = dewi.push_ok(&s, own.clone());
    assert!(first["results"][0]["record"].is_object(), "{first}");
    assign(&s, &r.admin, r.households[0], &rina.user_id);
    let patch = vec![patch_household(
        dewi.next_seq(),
        r.households[1],
        1,
        Some(&r.epoch),
        json!({"notes": "tidak di rumah"}),
    )];
    for _ in 0..2 {
        let refused = dewi.push_ok(&s, patch.clone());
        let result = &refused["results"][0];
        assert_eq!(
            result["error"]["code"]
                .as_str()
                .or(result["status"].as_str()),
            Some("out_of_scope"),
            "{refused}"
        );
        assert!(
            result.get("record").is_none(),
            "a refused write carries no record of the household: {refused}"
        );
    }
    let again = dewi.push_ok(&s, own);
    assert_eq!(statuses(&again), ["duplicate"], "{again}");
    assert!(
        again["results"][0].get("record").is_none(),
        "a resend shows nothing of a household reassigned since: {again}"
    );
}

/// Found by the simulator: a household taken away and given back between two pulls came in
/// one page as both changes and removals, and the client, applying removals last, dropped it.
fn a_household_that_comes_and_goes_between_two_pulls_ends_as_its_last_move_left_it(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let r = regency(&s);
    let mut dewi = Device::officer(&s, "dewi");
    let rina = Device::officer(&s, "rina");
    assign(&s, &r.admin, r.households[0], &dewi.user_id);
    assert_eq!(dewi.pull_all(&s).len(), 2, "the household and its visit");
    // Away and back: h0 stays; given and taken: h1 never arrives.
    assign(&s, &r.admin, r.households[0], &rina.user_id);
    assign(&s, &r.admin, r.households[0], &dewi.user_id);
    assign(&s, &r.admin, r.households[1], &dewi.user_id);
    assign(&s, &r.admin, r.households[1], &rina.user_id);
    let (st, page) = dewi.pull_page(&s, None);
    assert_eq!(st, 200, "{page}");
    assert_eq!(page["has_more"], false, "{page}");
    let changed = households_in(page["changes"].as_array().unwrap());
    assert_eq!(changed, [r.households[0].to_string()], "{page}");
    let removed: Vec<&str> = page["removals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    let changed_ids: Vec<&str> = page["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(
        removed.iter().all(|g| !changed_ids.contains(g)),
        "a record is either changed or removed in one page: {page}"
    );
    assert!(
        removed.contains(&r.households[1].to_string().as_str()),
        "the household given and taken again is removed: {page}"
    );
}

fn a_household_that_enters_the_scope_comes_with_its_history_once(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let r = regency(&s);
    let mut dewi = HttpClient::officer(&s, "dewi");
    assign(&s, &r.admin, r.households[0], &dewi.user_id);
    dewi.sync_caught_up(&s);
    assert_eq!(dewi.client.views().len(), 2);
    // More changes elsewhere: Dewi's cursor is now past the second household's history.
    let mut admin = r.admin;
    let seq = admin.next_seq();
    admin.push_ok(
        &s,
        vec![put_household(seq, Uuid::now_v7(), 0, None, "Lain")],
    );
    dewi.sync_caught_up(&s);
    assert_eq!(dewi.client.views().len(), 2, "nothing of another officer's");
    assign(&s, &admin, r.households[1], &dewi.user_id);
    let steps = dewi.sync(&s);
    let pulled: Vec<Value> = steps
        .iter()
        .filter_map(|st| match st {
            Step::Pull { answer, .. } => answer["changes"].as_array().cloned(),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(
        households_in(&pulled),
        [r.households[1].to_string()],
        "{pulled:?}"
    );
    assert_eq!(pulled.len(), 2, "the household and its visit, once");
    let mut both = r.households.map(|h| h.to_string()).to_vec();
    both.sort();
    assert_eq!(households_on(&dewi), both);
    dewi.sync_caught_up(&s);
    assert_eq!(dewi.client.views().len(), 4, "and not a second time");
    // A new phone of Dewi's, from the start: both households, each record once.
    let mut fresh = HttpClient::officer(&s, "dewi");
    fresh.sync_caught_up(&s);
    assert_eq!(fresh.client.views(), dewi.client.views());
}

fn a_reassigned_household_is_removed_from_the_old_device_and_its_later_changes_stay_away(
    b: Backend,
) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let r = regency(&s);
    let mut dewi = HttpClient::officer(&s, "dewi");
    let mut budi = HttpClient::officer(&s, "budi");
    let h = r.households[0];
    assign(&s, &r.admin, h, &dewi.user_id);
    dewi.sync_caught_up(&s);
    let before = dewi.client.views();
    assert_eq!(before.len(), 2);
    let visit_id = before
        .iter()
        .find(|v| v.collection == Collection::Visits.name())
        .unwrap()
        .id
        .to_string();
    let (st, moved) = assign(&s, &r.admin, h, &budi.user_id);
    assert_eq!(st, 200, "{moved}");

    let steps = dewi.sync(&s);
    let mut want = vec![
        (h.to_string(), "households".to_owned()),
        (visit_id, "visits".to_owned()),
    ];
    want.sort();
    assert_eq!(removals_in(&steps), want, "{steps:?}");
    assert!(
        dewi.client.views().is_empty(),
        "the household and its visit are off the old phone: {:?}",
        dewi.client.views()
    );

    budi.sync_caught_up(&s);
    assert_eq!(households_on(&budi), [h.to_string()]);
    assert_eq!(budi.client.views().len(), 2);

    // A later change reaches the new officer only.
    let mut admin = r.admin;
    let seq = admin.next_seq();
    let epoch = r.epoch.clone();
    admin.push_ok(
        &s,
        vec![patch_household(
            seq,
            h,
            1,
            Some(&epoch),
            json!({"notes": "pindah RT"}),
        )],
    );
    let steps = dewi.sync(&s);
    assert!(
        removals_in(&steps).is_empty(),
        "removals come once: {steps:?}"
    );
    dewi.sync_caught_up(&s);
    assert!(dewi.client.views().is_empty());
    budi.sync_caught_up(&s);
    let record = budi.client.view(RecordId(h)).unwrap();
    assert_eq!(record.fields["notes"], "pindah RT");
    assert_eq!(budi.client.views().len(), 2);
}

fn a_reassignment_racing_the_old_officers_push_neither_loses_nor_silently_accepts_it(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let r = regency(&s);
    let mut dewi = Device::officer(&s, "dewi");
    let mut budi = Device::officer(&s, "budi");
    let h = r.households[0];
    assign(&s, &r.admin, h, &dewi.user_id);
    dewi.pull_all(&s);
    let offline_edit = patch_household(1, h, 1, Some(&r.epoch), json!({"notes": "atap bocor"}));

    let mut lock = db.connect();
    hold_record_lock(&mut lock, b, h);
    let (push, moved) = std::thread::scope(|sc| {
        let push = sc.spawn(|| dewi.push(&s, vec![offline_edit]));
        // The push holds Dewi's assignments (PostgreSQL: FOR SHARE) and waits for the
        // household's row; the reassignment then waits for the push.
        match b {
            Backend::Postgres => wait_until("the push waits for the household's row", || {
                pg_lock_waiters(&mut db.connect()) >= 1
            }),
            Backend::Sqlite => wait_until("the push waits for the write lock", || {
                s.write_lock_waiters() >= 1
            }),
        }
        let moved = sc.spawn(|| assign(&s, &r.admin, h, &budi.user_id));
        match b {
            Backend::Postgres => wait_until("the reassignment waits for the push", || {
                pg_lock_waiters(&mut db.connect()) >= 2
            }),
            Backend::Sqlite => wait_until("both wait for the write lock", || {
                s.write_lock_waiters() >= 2
            }),
        }
        assert!(!push.is_finished() && !moved.is_finished());
        release(&mut lock);
        (push.join().unwrap(), moved.join().unwrap())
    });
    assert_eq!(push.0, 200, "{}", push.1);
    assert_eq!(moved.0, 200, "{}", moved.1);
    let outcome = push.1["results"][0]["error"]["code"]
        .as_str()
        .unwrap_or(push.1["results"][0]["status"].as_str().unwrap())
        .to_owned();
    let held = db.scalar("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM held_writes");
    let taken = budi.pull_all(&s);
    let household = taken.iter().find(|x| x["id"] == h.to_string()).unwrap();
    match outcome.as_str() {
        // The push committed first: the edit is part of the history the new officer gets.
        "applied" => {
            assert_eq!(household["fields"]["notes"], "atap bocor");
            assert_eq!(held, 0);
        }
        // The reassignment committed first: the edit is held for review, not applied.
        "out_of_scope" => {
            assert_eq!(household["fields"]["notes"], Value::Null);
            assert_eq!(held, 1);
        }
        other => panic!("unexpected outcome {other}: {}", push.1),
    }
    if b == Backend::Postgres {
        assert_eq!(
            outcome, "applied",
            "on PostgreSQL the push was first to the locks"
        );
    }
    let (_, page) = dewi.pull_page(&s, None);
    assert!(
        page["removals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == h.to_string()),
        "{page}"
    );
}

fn assignments_keep_their_history_and_admins_act_within_their_agency(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let r = regency(&s);
    let dewi = Device::officer(&s, "dewi");
    let budi = Device::officer(&s, "budi");
    let h = r.households[0];
    let (_, first) = assign(&s, &r.admin, h, &dewi.user_id);
    let (st, again) = assign(&s, &r.admin, h, &dewi.user_id);
    assert_eq!(st, 200);
    assert_eq!(
        again["id"], first["id"],
        "assigning the same officer again changes nothing"
    );
    let (_, second) = assign(&s, &r.admin, h, &budi.user_id);
    let (st, history) = s.get(
        &format!("/v1/admin/assignments?household_id={h}"),
        Some(&r.admin.token),
    );
    assert_eq!(st, 200, "{history}");
    let history = history["items"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["id"], second["id"]);
    assert_eq!(history[0]["active"], true);
    assert_eq!(history[1]["id"], first["id"]);
    assert_eq!(history[1]["active"], false);
    assert_eq!(history[1]["end_reason"], "reassigned");
    assert!(history[1]["ends_at"].as_i64().is_some());

    let (st, ended) = s.post(
        &format!(
            "/v1/admin/assignments/{}/end",
            second["id"].as_str().unwrap()
        ),
        Some(&r.admin.token),
        &json!({"reason": "household moved away"}),
    );
    assert_eq!(st, 200, "{ended}");
    assert_eq!(ended["active"], false);
    let (_, active) = s.get("/v1/admin/assignments?active=true", Some(&r.admin.token));
    assert!(active["items"].as_array().unwrap().is_empty(), "{active}");

    for (body, status, code) in [
        (
            json!({"household_id": Uuid::now_v7(), "officer_id": dewi.user_id, "reason": "x"}),
            404,
            "household_not_found",
        ),
        (
            json!({"household_id": h, "officer_id": r.admin.user_id, "reason": "x"}),
            400,
            "not_an_officer",
        ),
        (
            json!({"household_id": h, "officer_id": Uuid::now_v7(), "reason": "x"}),
            404,
            "user_not_found",
        ),
        (
            json!({"household_id": h, "officer_id": dewi.user_id, "reason": "\u{200B}"}),
            400,
            "invalid_reason",
        ),
    ] {
        let (st, resp) = s.post("/v1/admin/assignments", Some(&r.admin.token), &body);
        assert_eq!(
            (st, resp["error"]["code"].as_str().unwrap_or("")),
            (status, code),
            "{body}: {resp}"
        );
    }
    let (st, resp) = s.post(
        "/v1/admin/assignments",
        Some(&dewi.token),
        &json!({"household_id": h, "officer_id": dewi.user_id, "reason": "mine"}),
    );
    assert_eq!(
        (st, resp["error"]["code"].as_str().unwrap_or("")),
        (403, "forbidden_role")
    );
}

fn an_agency_admin_syncs_the_households_of_their_agencys_officers_only(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let r = regency(&s);
    let dewi = Device::officer(&s, "dewi");
    let mut principal = Device::with_role(&s, "kepala.dinsos", Role::AgencyAdmin);
    let (st, school) = s.post(
        "/v1/admin/agencies",
        Some(&r.admin.token),
        &json!({"name": "SMPN 2 Rogojampi", "kind": "school"}),
    );
    assert_eq!(st, 201, "{school}");
    let (st, guru) = s.post(
        "/v1/admin/users",
        Some(&r.admin.token),
        &json!({"username": "guru", "display_name": "Guru", "role": "officer",
                "agency_id": school["id"], "password": PASSWORD}),
    );
    assert_eq!(st, 201, "{guru}");
    let guru_id = guru["id"].as_str().unwrap().to_owned();
    let [h1, h2] = r.households;
    assign(&s, &r.admin, h1, &dewi.user_id);
    assign(&s, &r.admin, h2, &guru_id);

    let mine = principal.pull_all(&s);
    assert_eq!(households_in(&mine), [h1.to_string()], "{mine:?}");
    // Another agency's household is neither visible nor assignable to them.
    let (st, body) = assign(&s, &principal, h2, &dewi.user_id);
    assert_eq!(
        (st, body["error"]["code"].as_str()),
        (403, Some("other_agency")),
        "{body}"
    );
    // When the household goes to the other agency, the agency admin's device drops it.
    assign(&s, &r.admin, h1, &guru_id);
    let (_, page) = principal.pull_page(&s, None);
    let removed: Vec<&str> = page["removals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert!(removed.contains(&h1.to_string().as_str()), "{page}");
    assert!(page["changes"].as_array().unwrap().is_empty(), "{page}");
}

fn an_officer_pulls_the_visits_and_aid_of_the_history_window_only(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start_with(&db, |a| a.history_months = 12);
    let r = regency(&s);
    let mut admin = r.admin;
    let h = r.households[0];
    let dated = |seq: u64, collection: &str, field: &str, at: &str| {
        let mut fields = json!({"household_id": h});
        fields[field] = json!(at);
        match collection {
            "visits" => fields["outcome"] = json!("completed"),
            _ => fields["kind"] = json!("beras"),
        }
        json!({
            "seq": seq, "collection": collection, "kind": "put", "record_id": Uuid::now_v7(),
            "hlc": {"wall_ms": now_ms(), "counter": 0}, "fields": fields
        })
    };
    let two_years_ago = (chrono::Utc::now() - chrono::Duration::days(730)).to_rfc3339();
    let ops = vec![
        dated(admin.next_seq(), "visits", "visited_at", &two_years_ago),
        dated(admin.next_seq(), "aid", "given_at", &two_years_ago),
        dated(
            admin.next_seq(),
            "aid",
            "given_at",
            "2026-11-30T08:00:00+07:00",
        ),
    ];
    let old: Vec<String> = ops[..2]
        .iter()
        .map(|o| o["record_id"].as_str().unwrap().to_owned())
        .collect();
    let old_aid = old[1].clone();
    assert_eq!(statuses(&admin.push_ok(&s, ops)), ["applied"; 3]);
    let mut dewi = Device::officer(&s, "dewi");
    assign(&s, &admin, h, &dewi.user_id);
    let pulled = dewi.pull_all(&s);
    let ids: Vec<&str> = pulled.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        pulled.len(),
        3,
        "the household, this month's visit and aid, nothing older than 12 months: {ids:?}"
    );
    assert!(old.iter().all(|o| !ids.contains(&o.as_str())), "{ids:?}");
    // A tombstone goes whatever its date: a device may hold the record from when it was
    // recent.
    let seen = admin
        .pull_all(&s)
        .into_iter()
        .find(|r| r["id"] == json!(old_aid))
        .unwrap()["version"]
        .clone();
    let seq = admin.next_seq();
    let void = json!({"seq": seq, "collection": "aid", "kind": "delete", "record_id": old_aid,
                      "ctx": {"vv": {"server": seen}, "epoch": r.epoch},
                      "hlc": {"wall_ms": now_ms(), "counter": 0}});
    let resp = admin.push_ok(&s, vec![void]);
    assert_eq!(statuses(&resp), ["applied"], "{resp}");
    let again = dewi.pull_all(&s);
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0]["id"], json!(old_aid));
    assert_eq!(again[0]["deleted"], true);
    // The administrator's device has no window.
    admin.cursor = None;
    assert_eq!(admin.pull_all(&s).len(), 7);
}

fn a_reassignment_racing_the_new_officers_pull_brings_the_household_once_after_it_commits(
    b: Backend,
) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let r = regency(&s);
    let mut dewi = Device::officer(&s, "dewi");
    let mut budi = Device::officer(&s, "budi");
    let h = r.households[0];
    assign(&s, &r.admin, h, &dewi.user_id);
    assert_eq!(dewi.pull_all(&s).len(), 2);
    assert!(budi.pull_all(&s).is_empty());

    // The reassignment stamps the household's records as changed; held here, it is in
    // flight (PostgreSQL: it waits for the household's row with its assignment written;
    // SQLite: it waits for the write lock) while Budi pulls.
    let mut lock = db.connect();
    hold_record_lock(&mut lock, b, h);
    let budi_id = budi.user_id.clone();
    let moved = std::thread::scope(|sc| {
        let moved = sc.spawn(|| assign(&s, &r.admin, h, &budi_id));
        match b {
            Backend::Postgres => {
                wait_until("the reassignment waits for the household's row", || {
                    pg_lock_waiters(&mut db.connect()) >= 1
                })
            }
            Backend::Sqlite => wait_until("the reassignment waits for the write lock", || {
                s.write_lock_waiters() >= 1
            }),
        }
        let during = budi.pull_once(&s);
        assert!(
            during.is_empty(),
            "an assignment that has not committed gives nothing: {during:?}"
        );
        assert!(!moved.is_finished());
        release(&mut lock);
        moved.join().unwrap()
    });
    assert_eq!(moved.0, 200, "{}", moved.1);
    let taken = budi.pull_all(&s);
    assert_eq!(
        households_in(&taken),
        [h.to_string()],
        "the cursor of the pull made during the reassignment did not pass its changes"
    );
    assert_eq!(taken.len(), 2, "the household and its visit: {taken:?}");
    assert!(budi.pull_all(&s).is_empty(), "and only once");
    let (_, page) = dewi.pull_page(&s, None);
    let removed: Vec<&str> = page["removals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        removed.len(),
        2,
        "the household and its visit leave Dewi's device: {page}"
    );
    assert!(removed.contains(&h.to_string().as_str()));
}
