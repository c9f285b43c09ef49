//! Visit review over HTTP, as supervisors know it from ODK Central: a supervisor marks a
//! visit `has_issues` with a comment, the officer's phone (the reference client) pulls the
//! decision like any edit and answers with an amending visit, which the supervisor
//! approves; officers' devices cannot write reviews, agency admins review their agency's
//! visits only, and a review leaves the old officer's phone with its household.

use kampung_sync::auth::Role;
use kampung_sync::db::typed_tables;
use kampung_sync_tests::client_transport::{HttpClient, fields, household_fields};
use kampung_sync_tests::*;
use serde_json::{Value, json};
use sync_protocol::client::Event;
use sync_protocol::review::review_id;
use sync_protocol::{Collection, RecordId};
use uuid::Uuid;

kampung_sync_tests::on_both_backends!(
    a_visit_with_issues_is_amended_by_the_officer_and_the_amendment_approved,
    an_officers_device_pushing_a_review_is_rejected_while_its_other_operations_apply,
    an_agency_admin_cannot_review_another_agencys_visit_and_bad_input_is_refused,
    concurrent_reviews_are_a_conflict_and_a_re_review_with_its_ctx_settles_it,
    a_reassigned_household_takes_its_review_off_the_old_officers_phone,
);

fn assign(s: &TestServer, admin: &Device, household: RecordId, officer: &str) {
    let (status, body) = s.post(
        "/v1/admin/assignments",
        Some(&admin.token),
        &json!({"household_id": household, "officer_id": officer, "reason": "first visit due"}),
    );
    assert_eq!(status, 200, "{body}");
}

/// A household of `officer`'s, made by the regency admin and pulled by the phone.
fn household_of(s: &TestServer, admin: &mut HttpClient, officer: &mut HttpClient) -> RecordId {
    let h = RecordId(Uuid::now_v7());
    admin
        .client
        .put(
            Collection::Households,
            h,
            household_fields("Siti"),
            now_ms(),
        )
        .unwrap();
    admin.sync_caught_up(s);
    assign(s, &Device::new(s, "regency"), h, &officer.user_id);
    officer.sync_caught_up(s);
    h
}

/// The officer records a visit on the phone and syncs it.
fn visit(
    s: &TestServer,
    officer: &mut HttpClient,
    h: RecordId,
    amends: Option<RecordId>,
) -> RecordId {
    let v = RecordId(Uuid::now_v7());
    let mut f = json!({"household_id": h, "visited_at": "2026-12-03T09:05:00+07:00",
                       "outcome": "completed", "kesehatan_score": 3});
    if let Some(a) = amends {
        f["amends"] = json!(a);
    }
    officer
        .client
        .put(Collection::Visits, v, fields(f), now_ms())
        .unwrap();
    officer.sync_caught_up(s);
    v
}

fn review(s: &TestServer, by: &Device, v: RecordId, body: &Value) -> (u16, Value) {
    s.post(
        &format!("/v1/admin/visits/{v}/review"),
        Some(&by.token),
        body,
    )
}

fn visits_of(s: &TestServer, by: &Device, h: RecordId) -> Vec<Value> {
    let (st, body) = s.get(&format!("/v1/admin/households/{h}"), Some(&by.token));
    assert_eq!(st, 200, "{body}");
    body["visits"].as_array().unwrap().clone()
}

fn row(visits: &[Value], v: RecordId) -> &Value {
    visits
        .iter()
        .find(|x| x["id"] == v.to_string())
        .unwrap_or_else(|| panic!("visit {v} in {visits:?}"))
}

fn a_visit_with_issues_is_amended_by_the_officer_and_the_amendment_approved(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut admin = HttpClient::new(&s, "regency");
    let mut dewi = HttpClient::officer(&s, "dewi");
    let h = household_of(&s, &mut admin, &mut dewi);
    let first = visit(&s, &mut dewi, h, None);
    // Dewi's supervisor: the agency admin of her agency.
    let kepala = Device::with_role(&s, "kepala", Role::AgencyAdmin);

    let (st, unreviewed) = s.get(
        &format!("/v1/admin/visits/{first}/review"),
        Some(&kepala.token),
    );
    assert_eq!(st, 200, "{unreviewed}");
    assert_eq!(unreviewed["state"], "received", "{unreviewed}");
    assert_eq!(unreviewed["record"], Value::Null, "{unreviewed}");
    assert_eq!(unreviewed["review_id"], review_id(first).to_string());

    let comment = "Skor kesehatan tidak sesuai catatan: mohon kunjungi ulang.";
    let (st, done) = review(
        &s,
        &kepala,
        first,
        &json!({"state": "has_issues", "comment": comment}),
    );
    assert_eq!(st, 200, "{done}");
    assert_eq!(done["status"], "applied", "{done}");
    assert_eq!(done["state"], "has_issues", "{done}");
    assert_eq!(done["comment"], comment, "{done}");
    assert_eq!(done["reviewed_by"], kepala.user_id.as_str(), "{done}");
    assert_eq!(done["reviewed_by_username"], "kepala", "{done}");
    let at = done["reviewed_at"].as_str().unwrap().to_owned();
    assert!(at.ends_with('Z') && at.len() == 24, "UTC text: {at}");
    assert_eq!(done["record"]["collection"], "reviews", "{done}");
    assert_eq!(done["record"]["fields"]["visit_id"], first.to_string());
    assert_eq!(done["record"]["fields"]["household_id"], h.to_string());

    let (st, read) = s.get(
        &format!("/v1/admin/visits/{first}/review"),
        Some(&kepala.token),
    );
    assert_eq!(st, 200, "{read}");
    assert_eq!(read["state"], "has_issues");
    assert_eq!(read["reviewed_at"], at.as_str());
    assert_eq!(read["ctx"], done["ctx"]);

    // The decision reaches Dewi's phone as a record of her household.
    dewi.sync_caught_up(&s);
    let on_phone = dewi
        .client
        .review_of(first)
        .expect("the review on the phone");
    assert_eq!(on_phone.fields["state"], "has_issues");
    assert_eq!(on_phone.fields["comment"], comment);
    assert_eq!(on_phone.fields["visit_id"], first.to_string());

    // She answers with a visit that amends the first, which her supervisor approves.
    let second = visit(&s, &mut dewi, h, Some(first));
    let (st, done) = review(&s, &kepala, second, &json!({"state": "approved"}));
    assert_eq!(st, 200, "{done}");
    assert_eq!(done["state"], "approved", "{done}");
    assert_eq!(done["comment"], Value::Null, "{done}");

    let visits = visits_of(&s, &kepala, h);
    assert_eq!(visits.len(), 2, "{visits:?}");
    let (one, two) = (row(&visits, first), row(&visits, second));
    assert_eq!(one["review_state"], "has_issues", "{one}");
    assert_eq!(one["review_comment"], comment, "{one}");
    assert_eq!(one["reviewed_by"], kepala.user_id.as_str(), "{one}");
    assert_eq!(one["reviewed_at"], at.as_str(), "{one}");
    assert_eq!(two["review_state"], "approved", "{two}");
    assert_eq!(two["amends"], first.to_string(), "{two}");
    assert_eq!(two["reviewed_by"], kepala.user_id.as_str(), "{two}");

    let regency = Device::new(&s, "regency");
    let (st, log) = s.get(
        "/v1/admin/audit?action=visit_reviewed",
        Some(&regency.token),
    );
    assert_eq!(st, 200, "{log}");
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0]["target"], second.to_string());
    assert_eq!(log[0]["detail"]["state"], "approved");
    assert_eq!(log[1]["target"], first.to_string());
    assert_eq!(log[1]["detail"]["state"], "has_issues");
    assert_eq!(log[1]["detail"]["household_id"], h.to_string());

    // The columns are what the states give, and a rebuild writes them again.
    let mut c = db.connect();
    assert_eq!(typed_tables::verify(&mut c).unwrap(), Vec::<String>::new());
    typed_tables::rebuild(&mut c).unwrap();
    assert_eq!(typed_tables::verify(&mut c).unwrap(), Vec::<String>::new());
    let visits = visits_of(&s, &kepala, h);
    assert_eq!(row(&visits, first)["review_state"], "has_issues");
    assert_eq!(row(&visits, second)["review_state"], "approved");
}

fn an_officers_device_pushing_a_review_is_rejected_while_its_other_operations_apply(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut admin = HttpClient::new(&s, "regency");
    let mut dewi = HttpClient::officer(&s, "dewi");
    let h = household_of(&s, &mut admin, &mut dewi);
    let v = visit(&s, &mut dewi, h, None);

    // One batch: her own approval of her visit, and a phone number.
    let rid = review_id(v);
    dewi.client
        .put(
            Collection::Reviews,
            rid,
            fields(json!({"visit_id": v, "household_id": h, "state": "approved"})),
            now_ms(),
        )
        .unwrap();
    dewi.client
        .patch(
            Collection::Households,
            h,
            fields(json!({"phone": "0811"})),
            now_ms(),
        )
        .unwrap();
    dewi.sync_caught_up(&s);
    let rejected: Vec<&str> = dewi
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Rejected {
                record_id, code, ..
            } if *record_id == rid => Some(code.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(rejected, ["review_not_allowed"], "{:?}", dewi.events);
    assert!(dewi.client.outbox().is_empty());
    assert_eq!(dewi.client.view(h).unwrap().fields["phone"], "0811");
    assert!(dewi.client.view(rid).is_none(), "nothing was written");

    let regency = Device::new(&s, "regency");
    let (_, read) = s.get(
        &format!("/v1/admin/visits/{v}/review"),
        Some(&regency.token),
    );
    assert_eq!(read["state"], "received", "{read}");
    assert_eq!(read["record"], Value::Null, "{read}");
    let (_, held) = s.get("/v1/admin/held-writes", Some(&regency.token));
    assert!(
        !held.to_string().contains(&rid.to_string()),
        "a refused review is not held for a supervisor: {held}"
    );

    // An administrator's device may write a review, but only under the id derived from
    // its visit, and only in its visit's household.
    let mut phone = Device::new(&s, "regency");
    let wrong = Uuid::now_v7();
    let other = Uuid::now_v7();
    let op = |seq: u64, id: String, household: String| {
        json!({"seq": seq, "collection": "reviews", "record_id": id, "kind": "put",
               "ctx": {}, "hlc": {"wall_ms": now_ms(), "counter": 0},
               "fields": {"visit_id": v, "household_id": household, "state": "approved"}})
    };
    let (s1, s2) = (phone.next_seq(), phone.next_seq());
    let resp = phone.push_ok(
        &s,
        vec![
            op(s1, wrong.to_string(), h.to_string()),
            op(s2, rid.to_string(), other.to_string()),
        ],
    );
    assert_eq!(statuses(&resp), ["rejected", "rejected"], "{resp}");
    for r in resp["results"].as_array().unwrap() {
        assert_eq!(r["error"]["code"], "invalid_value", "{resp}");
    }
    let s3 = phone.next_seq();
    let resp = phone.push_ok(&s, vec![op(s3, rid.to_string(), h.to_string())]);
    assert_eq!(statuses(&resp), ["applied"], "{resp}");
    let (_, read) = s.get(
        &format!("/v1/admin/visits/{v}/review"),
        Some(&regency.token),
    );
    assert_eq!(read["state"], "approved", "{read}");
    assert_eq!(read["reviewed_by"], phone.user_id.as_str(), "{read}");
}

fn an_agency_admin_cannot_review_another_agencys_visit_and_bad_input_is_refused(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let regency = Device::new(&s, "regency");
    let (st, agency) = s.post(
        "/v1/admin/agencies",
        Some(&regency.token),
        &json!({"name": "SMPN 2 Rogojampi", "kind": "school"}),
    );
    assert_eq!(st, 201, "{agency}");
    let (st, rina) = s.post(
        "/v1/admin/users",
        Some(&regency.token),
        &json!({"username": "rina", "display_name": "Rina", "role": "officer",
                "agency_id": agency["id"], "password": PASSWORD}),
    );
    assert_eq!(st, 201, "{rina}");
    let mut admin = HttpClient::new(&s, "regency");
    let mut rina = HttpClient::officer(&s, "rina");
    let h = household_of(&s, &mut admin, &mut rina);
    let v = visit(&s, &mut rina, h, None);
    let kepala = Device::with_role(&s, "kepala", Role::AgencyAdmin);

    let (st, body) = review(&s, &kepala, v, &json!({"state": "rejected"}));
    assert_eq!(
        (st, body["error"]["code"].as_str()),
        (403, Some("other_agency")),
        "{body}"
    );
    let (st, body) = s.get(&format!("/v1/admin/visits/{v}/review"), Some(&kepala.token));
    assert_eq!(
        (st, body["error"]["code"].as_str()),
        (403, Some("other_agency")),
        "{body}"
    );
    let (_, read) = s.get(
        &format!("/v1/admin/visits/{v}/review"),
        Some(&regency.token),
    );
    assert_eq!(read["state"], "received", "nothing written: {read}");

    // Bad input, from the regency admin who may review it.
    for (body, code) in [
        (json!({"state": "edited"}), "invalid_request"),
        (json!({"state": "approved", "score": 5}), "invalid_request"),
        (json!({"comment": "no state"}), "invalid_request"),
    ] {
        let (st, answer) = review(&s, &regency, v, &body);
        assert_eq!(
            (st, answer["error"]["code"].as_str()),
            (400, Some(code)),
            "{body}: {answer}"
        );
    }
    let long = "x".repeat(2001);
    let (st, answer) = review(
        &s,
        &regency,
        v,
        &json!({"state": "has_issues", "comment": long}),
    );
    assert_eq!(
        (st, answer["error"]["code"].as_str()),
        (422, Some("edit_rejected")),
        "{answer}"
    );
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid_value"),
        "{answer}"
    );
    // Not a visit: a household's id, an unknown id, no UUID at all.
    for id in [h.to_string(), Uuid::now_v7().to_string(), "visit-1".into()] {
        let (st, answer) = s.post(
            &format!("/v1/admin/visits/{id}/review"),
            Some(&regency.token),
            &json!({"state": "approved"}),
        );
        assert_eq!(
            (st, answer["error"]["code"].as_str()),
            (404, Some("record_not_found")),
            "{id}: {answer}"
        );
    }
    // An officer is no reviewer, even of her own visit.
    let (st, answer) = s.post(
        &format!("/v1/admin/visits/{v}/review"),
        Some(&rina.token),
        &json!({"state": "approved"}),
    );
    assert_eq!(
        (st, answer["error"]["code"].as_str()),
        (403, Some("forbidden_role")),
        "{answer}"
    );
    let (_, read) = s.get(
        &format!("/v1/admin/visits/{v}/review"),
        Some(&regency.token),
    );
    assert_eq!(read["state"], "received", "nothing written: {read}");
}

fn concurrent_reviews_are_a_conflict_and_a_re_review_with_its_ctx_settles_it(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut admin = HttpClient::new(&s, "regency");
    let mut dewi = HttpClient::officer(&s, "dewi");
    let h = household_of(&s, &mut admin, &mut dewi);
    let v = visit(&s, &mut dewi, h, None);
    let kepala = Device::with_role(&s, "kepala", Role::AgencyAdmin);
    let regency = Device::new(&s, "regency");

    let (_, first) = review(&s, &kepala, v, &json!({"state": "approved"}));
    assert_eq!(first["status"], "applied", "{first}");
    // The regency admin decides without having read the agency's decision.
    let (st, second) = review(
        &s,
        &regency,
        v,
        &json!({"state": "rejected", "comment": "duplikat"}),
    );
    assert_eq!(st, 200, "{second}");
    assert_eq!(second["status"], "conflict", "{second}");
    assert_eq!(second["conflicted"], true, "{second}");
    let decisions: Vec<&str> = second["record"]["conflicts"]["decision"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["value"]["state"].as_str().unwrap())
        .collect();
    assert_eq!(decisions.len(), 2, "{second}");
    assert!(decisions.contains(&"approved") && decisions.contains(&"rejected"));

    // The phone sees the conflict too, and so does the supervisor's conflict inbox.
    dewi.sync_caught_up(&s);
    assert!(dewi.client.view(review_id(v)).unwrap().conflicted);
    let (st, open) = s.get(
        "/v1/admin/conflicts?collection=reviews",
        Some(&kepala.token),
    );
    assert_eq!(st, 200, "{open}");
    let listed: Vec<&str> = open["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [review_id(v).to_string()], "{open}");

    // The supervisor reads it and decides once more, on what was read; a reset to
    // `received` is a decision like any (taking one back).
    let (_, read) = s.get(&format!("/v1/admin/visits/{v}/review"), Some(&kepala.token));
    let (st, settled) = review(
        &s,
        &kepala,
        v,
        &json!({"state": "received", "comment": "ditinjau ulang", "ctx": read["ctx"]}),
    );
    assert_eq!(st, 200, "{settled}");
    assert_eq!(settled["status"], "applied", "{settled}");
    assert_eq!(settled["conflicted"], false, "{settled}");
    assert_eq!(settled["state"], "received", "{settled}");
    assert_eq!(settled["comment"], "ditinjau ulang", "{settled}");
    assert_eq!(settled["reviewed_by"], kepala.user_id.as_str(), "{settled}");
    let visits = visits_of(&s, &kepala, h);
    assert_eq!(row(&visits, v)["review_state"], "received");
    dewi.sync_caught_up(&s);
    let on_phone = dewi.client.view(review_id(v)).unwrap();
    assert!(!on_phone.conflicted);
    assert_eq!(on_phone.fields["state"], "received");
    let (_, open) = s.get("/v1/admin/conflicts", Some(&kepala.token));
    assert_eq!(open["items"], json!([]), "{open}");
    assert_eq!(
        typed_tables::verify(&mut db.connect()).unwrap(),
        Vec::<String>::new()
    );
}

fn a_reassigned_household_takes_its_review_off_the_old_officers_phone(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut admin = HttpClient::new(&s, "regency");
    let mut dewi = HttpClient::officer(&s, "dewi");
    let mut budi = HttpClient::officer(&s, "budi");
    let h = household_of(&s, &mut admin, &mut dewi);
    let v = visit(&s, &mut dewi, h, None);
    let regency = Device::new(&s, "regency");
    let (st, done) = review(
        &s,
        &regency,
        v,
        &json!({"state": "has_issues", "comment": "foto rumah kurang jelas"}),
    );
    assert_eq!(st, 200, "{done}");
    dewi.sync_caught_up(&s);
    assert_eq!(dewi.client.views().len(), 3, "household, visit, review");

    assign(&s, &regency, h, &budi.user_id);
    dewi.sync_caught_up(&s);
    assert!(
        dewi.client.views().is_empty(),
        "the removals took the household, its visit and its review: {:?}",
        dewi.client.views()
    );
    budi.sync_caught_up(&s);
    let review = budi
        .client
        .view(review_id(v))
        .expect("the review moves along");
    assert_eq!(review.fields["state"], "has_issues");
    assert_eq!(budi.client.views().len(), 3);
}
