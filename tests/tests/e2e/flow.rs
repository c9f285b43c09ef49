//! The Smart Kampung flow from end to end, over real HTTP, as the programme runs it: areas,
//! an agency, officers and households imported; an officer's phone syncs exactly its
//! households, records visits and aid offline and pushes them; the supervisor sees them at
//! once with the derived fields; two people edit one household into a conflict; a
//! reassignment moves a household with its history; an officer can neither read nor write
//! outside their assignments; and the family's KK number never reaches a phone.

use kampung_sync_tests::client_transport::{HttpClient, fields};
use kampung_sync_tests::*;
use serde_json::{Value, json};
use sync_protocol::client::Event;
use sync_protocol::{Collection, RecordId};
use uuid::Uuid;

kampung_sync_tests::on_both_backends!(the_smart_kampung_flow_from_import_to_reassignment,);

const KK: &str = "3510010101010001";

fn csv(s: &TestServer, by: &Device, path: &str, body: &str) -> Value {
    let (st, report) = s.post_raw(
        path,
        Some(&by.token),
        &[("Content-Type", "text/csv")],
        body.as_bytes().to_vec(),
    );
    assert_eq!(st, 200, "{path}: {report}");
    assert_eq!(report["refused"], json!([]), "{report}");
    report
}

/// An imported user's first sign-in: the one-time password replaced by the harness's, so
/// that the reference client signs in as any user.
fn take_over(s: &TestServer, username: &str, one_time: &str) {
    let (st, body) = s.login(username, one_time, sync_protocol::DeviceId(Uuid::now_v7()));
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["must_change_password"], true);
    let token = body["access_token"].as_str().unwrap();
    let (st, body) = s.post(
        "/v1/auth/password",
        Some(token),
        &json!({"current_password": one_time, "new_password": PASSWORD}),
    );
    assert_eq!(st, 204, "{body}");
}

fn visit(household: RecordId, days_ago: i64, lat: f64, lon: f64) -> serde_json::Map<String, Value> {
    let at = chrono::Utc::now() - chrono::Duration::days(days_ago);
    fields(json!({
        "household_id": household, "visited_at": at.to_rfc3339(), "outcome": "completed",
        "kesehatan_score": 3, "pangan_score": 2,
        "gps_lat": lat, "gps_lon": lon, "gps_accuracy_m": 8.0, "gps_mock": false
    }))
}

fn household_ids(c: &HttpClient) -> Vec<RecordId> {
    let mut ids: Vec<RecordId> = c
        .client
        .views()
        .into_iter()
        .filter(|v| v.collection == "households")
        .map(|v| v.id)
        .collect();
    ids.sort();
    ids
}

fn the_smart_kampung_flow_from_import_to_reassignment(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let regency = Device::new(&s, "regency");

    // Areas: the regency's kecamatan and desa come with the server; a new desa is added.
    let (st, area) = s.post(
        "/v1/admin/areas",
        Some(&regency.token),
        &json!({"code": "3510010099", "parent_code": "3510010", "level": "desa",
                "name": "Desa Pemekaran"}),
    );
    assert_eq!(st, 201, "{area}");
    let (st, agency) = s.post(
        "/v1/admin/agencies",
        Some(&regency.token),
        &json!({"name": "SDN 1 Pesanggaran", "kind": "school"}),
    );
    assert_eq!(st, 201, "{agency}");

    // Officers and their principal, imported; each takes their one-time password.
    let users = csv(
        &s,
        &regency,
        "/v1/admin/users/import",
        "username,display_name,agency,role\n\
         rina,Rina Wati,SDN 1 Pesanggaran,officer\n\
         agus,Agus Salim,SDN 1 Pesanggaran,officer\n\
         kepala,Kepala Sekolah,SDN 1 Pesanggaran,agency_admin\n",
    );
    for u in users["created"].as_array().unwrap() {
        take_over(
            &s,
            u["username"].as_str().unwrap(),
            u["password"].as_str().unwrap(),
        );
    }
    let kepala = Device::with_role(&s, "kepala", kampung_sync::auth::Role::AgencyAdmin);

    // Households from the registry, assigned in the same file.
    let report = csv(
        &s,
        &regency,
        "/v1/admin/households/import",
        &format!(
            "registry_id,registry_source,head_name,desa_code,home_lat,home_lon,officer,kk\n\
             DT-1,dtks,Siti Aminah,3510010001,-8.5000,114.2000,rina,{KK}\n\
             DT-2,dtks,Budi Santoso,3510010001,-8.5100,114.2100,rina,\n\
             DT-3,dtks,Sri Rahayu,3510010099,-8.5200,114.2200,agus,\n"
        ),
    );
    assert_eq!(
        (&report["created"], &report["assigned"]),
        (&json!(3), &json!(3))
    );
    let by_registry = |id: &str| -> RecordId {
        let mut all = Device::new(&s, "observer");
        let rec = all
            .pull_all(&s)
            .into_iter()
            .find(|r| r["fields"]["registry_id"] == id)
            .unwrap();
        rec["id"].as_str().unwrap().parse().unwrap()
    };
    let (h1, h2, h3) = (
        by_registry("DT-1"),
        by_registry("DT-2"),
        by_registry("DT-3"),
    );

    // Rina's phone pulls exactly her two households.
    let mut rina = HttpClient::officer(&s, "rina");
    rina.sync_caught_up(&s);
    let mut mine = vec![h1, h2];
    mine.sort();
    assert_eq!(household_ids(&rina), mine);

    // Offline in the village: a visit at the door, rice given, and a visit reported far
    // from the second household's home.
    let (v1, aid, v2) = (
        RecordId(Uuid::now_v7()),
        RecordId(Uuid::now_v7()),
        RecordId(Uuid::now_v7()),
    );
    let now = now_ms();
    rina.client
        .put(
            Collection::Visits,
            v1,
            visit(h1, 3, -8.50005, 114.20003),
            now,
        )
        .unwrap();
    rina.client
        .put(
            Collection::Aid,
            aid,
            fields(
                json!({"household_id": h1, "given_at": chrono::Utc::now().to_rfc3339(),
                          "kind": "beras", "quantity": 10.0, "unit": "kg",
                          "value_rupiah": 140000, "source": "ASN Berbagi"}),
            ),
            now + 1,
        )
        .unwrap();
    rina.client
        .put(Collection::Visits, v2, visit(h2, 1, -8.60, 114.30), now + 2)
        .unwrap();
    rina.sync_caught_up(&s);
    assert!(
        rina.events
            .iter()
            .all(|e| !matches!(e, Event::Rejected { .. })),
        "{:?}",
        rina.events
    );

    // The principal sees them at once, with what the server derived.
    let (st, one) = s.get(&format!("/v1/admin/households/{h1}"), Some(&kepala.token));
    assert_eq!(st, 200, "{one}");
    assert_eq!(one["overdue"], false, "{one}");
    assert_eq!(one["visit_count"], 1);
    assert_eq!(
        (&one["aid_count"], &one["aid_value_rupiah"]),
        (&json!(1), &json!(140000))
    );
    let seen = &one["visits"][0];
    assert_eq!(seen["id"], json!(v1));
    assert_eq!(
        seen["user_id"],
        json!(rina.user_id),
        "the writer, from the token"
    );
    assert!(seen["distance_m"].as_f64().unwrap() < 20.0, "{seen}");
    assert_eq!(seen["location_suspect"], false);
    let (_, two) = s.get(&format!("/v1/admin/households/{h2}"), Some(&kepala.token));
    assert_eq!(two["visits"][0]["location_suspect"], true, "{two}");
    let (st, three) = s.get(&format!("/v1/admin/households/{h3}"), Some(&kepala.token));
    assert_eq!(st, 200, "Agus's household is the agency's too: {three}");
    assert_eq!(three["overdue"], true, "never visited");

    // Rina and her principal change the phone number at once: a conflict, both kept.
    let (st, read) = s.get(
        &format!("/v1/admin/records/households/{h1}"),
        Some(&kepala.token),
    );
    assert_eq!(st, 200, "{read}");
    rina.client
        .patch(
            Collection::Households,
            h1,
            fields(json!({"phone": "0811"})),
            now_ms(),
        )
        .unwrap();
    let edit = s.send(
        "PATCH",
        &format!("/v1/admin/records/households/{h1}"),
        &[
            ("Authorization".into(), format!("Bearer {}", kepala.token)),
            ("Content-Type".into(), "application/json".into()),
        ],
        Some(
            json!({"ctx": read["ctx"], "fields": {"phone": "0822"}})
                .to_string()
                .into_bytes(),
        ),
    );
    assert_eq!(edit.status, 200, "{}", edit.body);
    rina.sync_caught_up(&s);
    assert!(
        rina.events
            .iter()
            .any(|e| matches!(e, Event::Conflict { record_id, .. } if *record_id == h1)),
        "{:?}",
        rina.events
    );
    let h1_now = rina.client.view(h1).unwrap();
    assert!(h1_now.conflicted);
    let phones: Vec<&Value> = h1_now.conflicts["phone"]
        .iter()
        .map(|v| &v.value["phone"])
        .collect();
    assert_eq!(phones.len(), 2, "{phones:?}");
    assert!(phones.contains(&&json!("0811")) && phones.contains(&&json!("0822")));

    // The principal moves the second household to Agus: it reaches his phone with its
    // history and leaves Rina's.
    let mut agus = HttpClient::officer(&s, "agus");
    agus.sync_caught_up(&s);
    let (st, moved) = s.post(
        "/v1/admin/assignments",
        Some(&kepala.token),
        &json!({"household_id": h2, "officer_id": agus.user_id, "reason": "Rina moved school"}),
    );
    assert_eq!(st, 200, "{moved}");
    agus.sync_caught_up(&s);
    rina.sync_caught_up(&s);
    let mut his = vec![h2, h3];
    his.sort();
    assert_eq!(household_ids(&agus), his);
    assert!(
        agus.client.view(v2).is_some(),
        "the household's visit came with it"
    );
    assert_eq!(household_ids(&rina), [h1]);
    assert!(rina.client.view(v2).is_none(), "removed from the old phone");

    // Outside her assignments Rina can neither write nor read.
    rina.client
        .put(
            Collection::Visits,
            RecordId(Uuid::now_v7()),
            visit(h3, 0, -8.52, 114.22),
            now_ms(),
        )
        .unwrap();
    rina.sync_caught_up(&s);
    assert!(
        rina.events
            .iter()
            .any(|e| matches!(e, Event::Rejected { code, .. } if code == "out_of_scope")),
        "{:?}",
        rina.events
    );
    let (st, _) = s.get(&format!("/v1/admin/households/{h3}"), Some(&rina.token));
    assert_eq!(st, 403);
    assert_eq!(
        db.scalar(&format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM q_visits WHERE household_id = '{h3}'"
        )),
        0
    );

    // The family's KK is on the server, sealed, and on no phone.
    let (st, found) = s.post(
        "/v1/admin/households/lookup",
        Some(&kepala.token),
        &json!({"kk": KK}),
    );
    assert_eq!(st, 200, "{found}");
    assert!(found.to_string().contains(&h1.to_string()), "{found}");
    for phone in [&rina, &agus] {
        let held = serde_json::to_string(&phone.client.views()).unwrap();
        assert!(!held.contains(KK), "no KK number on {}'s phone", phone.user);
    }
}
