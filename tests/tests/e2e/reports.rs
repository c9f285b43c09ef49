//! A supervisor's view of one household: distances from the home point, suspect locations,
//! the last completed visit and whether it is overdue, aid totals; kept by every push and
//! limited to the caller's scope.

use chrono::{Duration, Utc};
use kampung_sync::auth::Role;
use kampung_sync::config::ReportingArgs;
use kampung_sync::db;
use kampung_sync_tests::*;
use serde_json::{Value, json};
use sync_protocol::rows::utc_text;
use uuid::Uuid;

kampung_sync_tests::on_both_backends!(
    a_supervisor_sees_distances_suspect_locations_overdue_and_aid_totals,
);

const HOME: (f64, f64) = (-8.2, 114.3);
/// About 5 km south of [`HOME`].
const FAR: (f64, f64) = (-8.245, 114.3);

/// `days` ago as a device in Banyuwangi (UTC+7) writes it.
fn days_ago_local(days: i64) -> String {
    let t = Utc::now() - Duration::days(days);
    let local = utc_text(t + Duration::hours(7));
    format!("{}+07:00", local.trim_end_matches('Z'))
}

fn op(seq: u64, collection: &str, kind: &str, id: Uuid, fields: Option<Value>) -> Value {
    let mut o = json!({"seq": seq, "collection": collection, "kind": kind, "record_id": id,
                       "hlc": {"wall_ms": now_ms(), "counter": 0}});
    if let Some(f) = fields {
        o["fields"] = f;
    }
    o
}

fn visit(household: Uuid, days: i64, outcome: &str, at: (f64, f64), mock: bool) -> Value {
    json!({"household_id": household, "visited_at": days_ago_local(days), "outcome": outcome,
           "pangan_score": 3, "gps_lat": at.0, "gps_lon": at.1, "gps_accuracy_m": 8.0,
           "gps_mock": mock})
}

fn report(s: &TestServer, by: &Device, household: Uuid) -> (u16, Value) {
    s.get(
        &format!("/v1/admin/households/{household}"),
        Some(&by.token),
    )
}

fn visit_in(r: &Value, id: Uuid) -> &Value {
    r["visits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == json!(id.to_string()))
        .unwrap_or_else(|| panic!("no visit {id} in {r}"))
}

fn distance(r: &Value, id: Uuid) -> f64 {
    visit_in(r, id)["distance_m"].as_f64().unwrap()
}

fn a_supervisor_sees_distances_suspect_locations_overdue_and_aid_totals(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut admin = Device::new(&s, "regency");
    let mut dewi = Device::officer(&s, "dewi");
    let household = Uuid::now_v7();
    let mut put = put_household(admin.next_seq(), household, 0, None, "Siti");
    put["fields"]["home_lat"] = json!(HOME.0);
    put["fields"]["home_lon"] = json!(HOME.1);
    let resp = admin.push_ok(&s, vec![put]);
    let epoch = resp["epoch"].as_str().unwrap().to_owned();
    let (st, body) = s.post(
        "/v1/admin/assignments",
        Some(&admin.token),
        &json!({"household_id": household, "officer_id": dewi.user_id, "reason": "pendampingan"}),
    );
    assert_eq!(st, 200, "{body}");

    // A completed visit 40 days ago next door, a recent one 5 km away where nobody was
    // home, a completed one with a mocked location; aid given, and aid given then voided.
    let (near, far, mocked) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let (rice, cash) = (Uuid::now_v7(), Uuid::now_v7());
    let near_point = (HOME.0 - 0.0009, HOME.1);
    let ops = vec![
        op(
            dewi.next_seq(),
            "visits",
            "put",
            near,
            Some(visit(household, 40, "completed", near_point, false)),
        ),
        op(
            dewi.next_seq(),
            "visits",
            "put",
            far,
            Some(visit(household, 1, "nobody_home", FAR, false)),
        ),
        op(
            dewi.next_seq(),
            "visits",
            "put",
            mocked,
            Some(visit(household, 45, "completed", HOME, true)),
        ),
        op(
            dewi.next_seq(),
            "aid",
            "put",
            rice,
            Some(json!({"household_id": household,
           "given_at": days_ago_local(3), "kind": "beras", "quantity": 10.0, "unit": "kg",
           "value_rupiah": 150_000, "source": "Dinsos"})),
        ),
        op(
            dewi.next_seq(),
            "aid",
            "put",
            cash,
            Some(json!({"household_id": household,
           "given_at": days_ago_local(2), "kind": "tunai", "quantity": 1.0, "unit": "paket",
           "value_rupiah": 300_000})),
        ),
    ];
    let resp = dewi.push_ok(&s, ops);
    assert_eq!(statuses(&resp), ["applied"; 5], "{resp}");
    let mut void = op(dewi.next_seq(), "aid", "delete", cash, None);
    void["ctx"] = json!({"epoch": epoch, "vv": {"server": 1}});
    let resp = dewi.push_ok(&s, vec![void]);
    assert_eq!(statuses(&resp), ["applied"], "{resp}");

    let (st, r) = report(&s, &admin, household);
    assert_eq!(st, 200, "{r}");
    assert_eq!(distance(&r, near), 100.1, "metres to 0.1 m: {r}");
    assert!((distance(&r, far) - 5004.0).abs() < 5.0, "{r}");
    assert_eq!(distance(&r, mocked), 0.0, "{r}");
    let suspect = |id| visit_in(&r, id)["location_suspect"].clone();
    assert_eq!(
        [suspect(near), suspect(far), suspect(mocked)],
        [json!(false), json!(true), json!(true)],
        "far is beyond 1000 m, mocked says so itself: {r}"
    );
    let v = visit_in(&r, near);
    assert_eq!(
        (
            &v["user_id"],
            &v["device_id"],
            &v["agency_id"],
            &v["outcome"],
            &v["pangan_score"]
        ),
        (
            &json!(dewi.user_id),
            &json!(dewi.id),
            &json!(AGENCY),
            &json!("completed"),
            &json!(3)
        ),
        "{v}"
    );
    let near_at = visit_in(&r, near)["visited_at"].as_str().unwrap();
    assert_eq!(
        r["last_completed_visit_at"],
        json!(sync_protocol::rows::utc_instant(near_at).unwrap()),
        "the latest completed visit, in UTC; the later one found nobody home: {r}"
    );
    assert_eq!(r["overdue"], true, "40 days without a completed visit: {r}");
    assert_eq!(
        (&r["visit_count"], &r["aid_count"], &r["aid_value_rupiah"]),
        (&json!(3), &json!(1), &json!(150_000)),
        "the voided aid is listed but not counted: {r}"
    );
    let aid = r["aid"].as_array().unwrap();
    assert_eq!(aid.len(), 2, "{r}");
    assert_eq!(
        (&aid[0]["id"], &aid[0]["voided"], &aid[0]["user_id"]),
        (&json!(cash), &json!(true), &json!(dewi.user_id)),
        "newest first, voided and marked, with who gave it: {r}"
    );
    assert_eq!(r["home_lat"], json!(HOME.0));
    assert!(
        r.get("kk_number").is_none() && r.get("phone").is_none(),
        "{r}"
    );

    // The thresholds are settings applied when read: another instance on the same database
    // with wider ones answers differently, with nothing rebuilt.
    let wide = TestServer::start_with(&db, |a| {
        a.reporting = ReportingArgs {
            overdue_days: 50,
            implausible_distance_m: 6000,
        }
    });
    let (st, w) = report(&wide, &admin, household);
    assert_eq!(st, 200, "{w}");
    assert_eq!(w["overdue"], false, "40 days is within 50: {w}");
    assert_eq!(visit_in(&w, far)["location_suspect"], false, "{w}");
    assert_eq!(visit_in(&w, mocked)["location_suspect"], true, "{w}");
    wide.stop();

    // A completed visit two days ago ends the overdue; moving the home point to where the
    // far visit was moves every distance.
    let recent = Uuid::now_v7();
    let ops = vec![op(
        dewi.next_seq(),
        "visits",
        "put",
        recent,
        Some(visit(household, 2, "completed", FAR, false)),
    )];
    assert_eq!(statuses(&dewi.push_ok(&s, ops)), ["applied"]);
    let moved = patch_household(
        admin.next_seq(),
        household,
        1,
        Some(&epoch),
        json!({"home_lat": FAR.0, "home_lon": FAR.1}),
    );
    assert_eq!(statuses(&admin.push_ok(&s, vec![moved])), ["applied"]);
    let (st, r) = report(&s, &admin, household);
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["overdue"], false, "{r}");
    assert_eq!(r["visit_count"], 4, "{r}");
    assert_eq!(distance(&r, far), 0.0, "{r}");
    assert!((distance(&r, near) - 4904.0).abs() < 5.0, "{r}");
    assert_eq!(visit_in(&r, far)["location_suspect"], false, "{r}");
    assert_eq!(visit_in(&r, near)["location_suspect"], true, "{r}");
    assert_eq!(
        db::typed_tables::verify(&mut db.connect()).unwrap(),
        Vec::<String>::new()
    );

    // Its agency's admin reads it; another agency's admin is told it does not exist, and
    // an officer is not an administrator.
    let kepala = Device::with_role(&s, "kepala.dinsos", Role::AgencyAdmin);
    let (st, r) = report(&s, &kepala, household);
    assert_eq!((st, &r["id"]), (200, &json!(household.to_string())), "{r}");
    let (st, school) = s.post(
        "/v1/admin/agencies",
        Some(&admin.token),
        &json!({"name": "SMPN 2 Rogojampi", "kind": "school"}),
    );
    assert_eq!(st, 201, "{school}");
    let (st, body) = s.post(
        "/v1/admin/users",
        Some(&admin.token),
        &json!({"username": "kepala.sekolah", "display_name": "Kepala Sekolah",
                "role": "agency_admin", "agency_id": school["id"], "password": PASSWORD}),
    );
    assert_eq!(st, 201, "{body}");
    let other = Device::with_role(&s, "kepala.sekolah", Role::AgencyAdmin);
    let code = |(st, body): (u16, Value)| (st, body["error"]["code"].as_str().map(str::to_owned));
    assert_eq!(
        code(report(&s, &other, household)),
        (404, Some("household_not_found".into()))
    );
    assert_eq!(
        code(report(&s, &other, Uuid::now_v7())),
        (404, Some("household_not_found".into())),
        "the same answer as for an id that does not exist"
    );
    assert_eq!(
        code(report(&s, &dewi, household)),
        (403, Some("forbidden_role".into()))
    );
    assert_eq!(
        code(s.get("/v1/admin/households/not-a-uuid", Some(&admin.token))),
        (404, Some("household_not_found".into()))
    );
}
