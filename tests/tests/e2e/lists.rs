//! The admin lists and their CSV exports: filters, sorting, keyset pages that neither
//! repeat nor skip a row, the caller's scope (an agency admin sees their agency's records
//! only, in lists and exports, and naming another agency's ids is refused), every bad
//! input with its code, and KK and NIK numbers in an export only for a regency admin who
//! gives a reason, audited.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use kampung_sync::auth::Role;
use kampung_sync_tests::*;
use serde_json::{Value, json};
use sync_protocol::rows::utc_text;
use uuid::Uuid;

kampung_sync_tests::on_both_backends!(
    lists_filter_sort_and_page_within_the_callers_scope,
    bad_list_input_is_refused_with_a_clear_code,
    csv_exports_match_the_lists_and_identity_needs_a_reason,
);

/// The programme: a regency admin, Dinas Sosial (the harness's agency: officer dewi, admin
/// kepala) and a school (officer budi, admin kepala.sekolah).
struct World {
    s: TestServer,
    admin: Device,
    dewi: Device,
    budi: Device,
    kepala: Device,
    sekolah: Device,
    school: String,
    epoch: Option<String>,
}

fn world(db: &TestDb) -> World {
    let s = TestServer::start(db);
    let admin = Device::new(&s, "regency");
    let dewi = Device::officer(&s, "dewi");
    let kepala = Device::with_role(&s, "kepala.dinsos", Role::AgencyAdmin);
    let (st, school) = s.post(
        "/v1/admin/agencies",
        Some(&admin.token),
        &json!({"name": "SMPN 2 Rogojampi", "kind": "school"}),
    );
    assert_eq!(st, 201, "{school}");
    let school = school["id"].as_str().unwrap().to_owned();
    for (name, role) in [("budi", "officer"), ("kepala.sekolah", "agency_admin")] {
        let (st, body) = s.post(
            "/v1/admin/users",
            Some(&admin.token),
            &json!({"username": name, "display_name": name, "role": role,
                    "agency_id": school, "password": PASSWORD}),
        );
        assert_eq!(st, 201, "{body}");
    }
    let budi = Device::officer(&s, "budi");
    let sekolah = Device::with_role(&s, "kepala.sekolah", Role::AgencyAdmin);
    World {
        s,
        admin,
        dewi,
        budi,
        kepala,
        sekolah,
        school,
        epoch: None,
    }
}

fn op(seq: u64, collection: &str, id: Uuid, fields: Value) -> Value {
    json!({"seq": seq, "collection": collection, "kind": "put", "record_id": id,
           "hlc": {"wall_ms": now_ms(), "counter": 0}, "fields": fields})
}

/// `days` ago in UTC+7, as a phone in Banyuwangi writes it.
fn days_ago(days: i64) -> String {
    let local = utc_text(Utc::now() - Duration::days(days) + Duration::hours(7));
    format!("{}+07:00", local.trim_end_matches('Z'))
}

impl World {
    /// A household in `desa`, assigned to `officer` (none: unassigned).
    fn household(&mut self, head: &str, desa: &str, officer: Option<&str>) -> Uuid {
        let id = Uuid::now_v7();
        let mut put = put_household(self.admin.next_seq(), id, 0, None, head);
        put["fields"]["desa_code"] = json!(desa);
        let resp = self.admin.push_ok(&self.s, vec![put]);
        self.epoch = resp["epoch"].as_str().map(str::to_owned);
        if let Some(o) = officer {
            let (st, body) = self.s.post(
                "/v1/admin/assignments",
                Some(&self.admin.token),
                &json!({"household_id": id, "officer_id": o, "reason": "pendampingan"}),
            );
            assert_eq!(st, 200, "{body}");
        }
        id
    }
}

fn visit(household: Uuid, days: i64, outcome: &str, mock: bool) -> Value {
    json!({"household_id": household, "visited_at": days_ago(days), "outcome": outcome,
           "pangan_score": 3, "gps_lat": -8.2, "gps_lon": 114.3, "gps_accuracy_m": 8.0,
           "gps_mock": mock})
}

fn push(by: &mut Device, s: &TestServer, items: Vec<(&str, Value)>) -> Vec<Uuid> {
    let mut ids = Vec::new();
    let ops: Vec<Value> = items
        .into_iter()
        .map(|(collection, fields)| {
            let id = Uuid::now_v7();
            ids.push(id);
            op(by.next_seq(), collection, id, fields)
        })
        .collect();
    let n = ops.len();
    let resp = by.push_ok(s, ops);
    assert_eq!(statuses(&resp), vec!["applied"; n], "{resp}");
    ids
}

/// Every item of a list, page by page, checking each page's size.
fn all_pages(s: &TestServer, token: &str, path: &str, limit: usize) -> Vec<Value> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{path}{sep}limit={limit}");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let (st, page) = s.get(&url, Some(token));
        assert_eq!(st, 200, "{url}: {page}");
        let got = page["items"].as_array().unwrap();
        assert!(got.len() <= limit, "{url}: {page}");
        items.extend(got.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => {
                assert_eq!(got.len(), limit, "only a full page has a next one: {page}");
                cursor = Some(c.to_owned());
            }
            None => return items,
        }
    }
}

fn id_list(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

fn id_set(items: &[Value]) -> BTreeSet<String> {
    let ids = id_list(items);
    let set: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(set.len(), ids.len(), "a row came twice: {ids:?}");
    set
}

fn uuids(ids: &[Uuid]) -> BTreeSet<String> {
    ids.iter().map(Uuid::to_string).collect()
}

fn code(r: (u16, Value)) -> (u16, String) {
    (r.0, r.1["error"]["code"].as_str().unwrap_or("").to_owned())
}

fn lists_filter_sort_and_page_within_the_callers_scope(b: Backend) {
    let db = TestDb::new(b);
    let mut w = world(&db);
    let (dewi, budi) = (w.dewi.user_id.clone(), w.budi.user_id.clone());
    let ours = [
        w.household("Ani", "3510010001", Some(&dewi)),
        w.household("Bayu", "3510010002", Some(&dewi)),
        w.household("Citra", "3510040006", Some(&dewi)),
        w.household("Dodi", "3510010001", Some(&dewi)),
    ];
    let theirs = [
        w.household("Eka", "3510010001", Some(&budi)),
        w.household("Fajar", "3510040006", Some(&budi)),
    ];
    let loose = w.household("Gita", "3510010001", None);
    let s = &w.s;

    // Dewi visits Ani (completed, recently), Bayu (completed 40 days ago; nobody home since,
    // with a mocked location) and Citra (long ago); Budi visits Eka. Aid for Ani and Eka.
    let dv = push(
        &mut w.dewi,
        s,
        vec![
            ("visits", visit(ours[0], 2, "completed", false)),
            ("visits", visit(ours[1], 40, "completed", false)),
            ("visits", visit(ours[1], 1, "nobody_home", true)),
            ("visits", visit(ours[2], 100, "completed", false)),
            (
                "aid",
                json!({"household_id": ours[0], "given_at": days_ago(3), "kind": "beras",
                       "quantity": 10.0, "unit": "kg", "value_rupiah": 150_000, "source": "Dinsos"}),
            ),
        ],
    );
    let bv = push(
        &mut w.budi,
        s,
        vec![
            ("visits", visit(theirs[0], 5, "completed", false)),
            (
                "aid",
                json!({"household_id": theirs[0], "given_at": days_ago(4), "kind": "tunai",
                       "quantity": 1.0, "unit": "paket", "value_rupiah": 300_000, "source": "Baznas"}),
            ),
        ],
    );
    let admin = w.admin.token.clone();
    let get = |token: &str, path: &str| {
        let (st, body) = s.get(path, Some(token));
        assert_eq!(st, 200, "{path}: {body}");
        body["items"].as_array().unwrap().clone()
    };
    let ids_of = |token: &str, path: &str| id_set(&get(token, path));

    // Households: by head's name over pages of two, each once, in order.
    let all = all_pages(s, &admin, "/v1/admin/households", 2);
    let names: Vec<&str> = all
        .iter()
        .map(|h| h["head_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Ani", "Bayu", "Citra", "Dodi", "Eka", "Fajar", "Gita"]
    );
    let back = all_pages(s, &admin, "/v1/admin/households?sort=-head_name", 3);
    let mut reversed = id_list(&all);
    reversed.reverse();
    assert_eq!(id_list(&back), reversed, "descending is the exact reverse");
    let by_id = all_pages(s, &admin, "/v1/admin/households?sort=id", 4);
    let mut sorted = id_list(&all);
    sorted.sort();
    assert_eq!(id_list(&by_id), sorted);
    // Unvisited households (no last visit) come first ascending, by id, then the visited.
    let by_visit = all_pages(
        s,
        &admin,
        "/v1/admin/households?sort=last_completed_visit_at",
        2,
    );
    let lasts: Vec<Option<&str>> = by_visit
        .iter()
        .map(|h| h["last_completed_visit_at"].as_str())
        .collect();
    assert_eq!(lasts.iter().filter(|l| l.is_none()).count(), 3, "{lasts:?}");
    assert!(lasts[..3].iter().all(Option::is_none), "{lasts:?}");
    assert!(lasts[3..].windows(2).all(|p| p[0] <= p[1]), "{lasts:?}");
    let by_visit_desc = all_pages(
        s,
        &admin,
        "/v1/admin/households?sort=-last_completed_visit_at",
        2,
    );
    let mut r = id_list(&by_visit);
    r.reverse();
    assert_eq!(id_list(&by_visit_desc), r);
    let ani = &all[0];
    assert_eq!(
        (
            &ani["officer_id"],
            &ani["agency_id"],
            &ani["overdue"],
            &ani["visit_count"]
        ),
        (&json!(dewi), &json!(AGENCY), &json!(false), &json!(1)),
        "{ani}"
    );

    // Households' filters.
    let hh = |q: &str| ids_of(&admin, &format!("/v1/admin/households?{q}"));
    assert_eq!(
        hh("desa=3510010001"),
        uuids(&[ours[0], ours[3], theirs[0], loose])
    );
    assert_eq!(hh("kecamatan=3510040"), uuids(&[ours[2], theirs[1]]));
    assert_eq!(hh(&format!("agency={AGENCY}")), uuids(&ours));
    assert_eq!(hh(&format!("officer={budi}")), uuids(&theirs));
    assert_eq!(hh("overdue=false"), uuids(&[ours[0], theirs[0]]));
    assert_eq!(
        hh(&format!("overdue=true&agency={AGENCY}")),
        uuids(&[ours[1], ours[2], ours[3]]),
        "Bayu's last completed visit is 40 days old, Citra's 100, Dodi has none"
    );
    assert_eq!(hh("q=AYU"), uuids(&[ours[1]]), "any case, part of the name");
    assert_eq!(hh("conflicted=true"), BTreeSet::new());
    assert_eq!(hh("status=active&desa=3510010002"), uuids(&[ours[1]]));

    // An agency admin: their agency's households, visits, aid, officers and devices only.
    let kepala = w.kepala.token.clone();
    assert_eq!(
        id_set(&all_pages(s, &kepala, "/v1/admin/households", 1)),
        uuids(&ours)
    );
    assert_eq!(
        ids_of(&kepala, "/v1/admin/households?desa=3510010001"),
        uuids(&[ours[0], ours[3]])
    );
    assert_eq!(
        ids_of(
            &kepala,
            &format!("/v1/admin/households?agency={AGENCY}&officer={dewi}")
        ),
        uuids(&ours)
    );
    let sekolah = w.sekolah.token.clone();
    assert_eq!(ids_of(&sekolah, "/v1/admin/households"), uuids(&theirs));
    assert_eq!(ids_of(&sekolah, "/v1/admin/visits"), uuids(&bv[..1]));
    assert_eq!(ids_of(&sekolah, "/v1/admin/aid"), uuids(&bv[1..]));
    for path in [
        format!("/v1/admin/households?agency={}", w.school),
        format!("/v1/admin/visits?agency={}", w.school),
        format!("/v1/admin/aid?agency={}", w.school),
        format!("/v1/admin/officers?agency={}", w.school),
        format!("/v1/admin/devices?agency={}", w.school),
        format!("/v1/admin/assignments?agency={}", w.school),
        format!("/v1/admin/households?officer={budi}"),
        format!("/v1/admin/visits?officer={budi}"),
        format!("/v1/admin/aid?officer={budi}"),
        format!("/v1/admin/devices?user={budi}"),
        format!("/v1/admin/assignments?officer_id={budi}"),
        format!("/v1/admin/visits?officer={}", Uuid::now_v7()),
    ] {
        assert_eq!(
            code(s.get(&path, Some(&kepala))),
            (403, "other_agency".into()),
            "{path}"
        );
    }
    assert_eq!(
        code(s.get("/v1/admin/visits", Some(&w.dewi.token))),
        (403, "forbidden_role".into()),
        "officers are not administrators"
    );

    // Visits: newest first over pages, filters, and the review state another part fills.
    let visits = all_pages(s, &admin, "/v1/admin/visits", 2);
    let live: Vec<Uuid> = vec![dv[0], dv[1], dv[2], dv[3], bv[0]];
    assert_eq!(id_set(&visits), uuids(&live));
    let times: Vec<&str> = visits
        .iter()
        .map(|v| v["visited_at_utc"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|p| p[0] >= p[1]), "{times:?}");
    let vv = |q: &str| ids_of(&admin, &format!("/v1/admin/visits?{q}"));
    assert_eq!(vv(&format!("officer={dewi}")), uuids(&dv[..4]));
    assert_eq!(vv(&format!("household={}", ours[1])), uuids(&dv[1..3]));
    assert_eq!(vv("outcome=nobody_home"), uuids(&dv[2..3]));
    assert_eq!(
        vv("suspect=true"),
        uuids(&dv[2..3]),
        "mocked, or over 1000 m"
    );
    assert_eq!(vv("suspect=false").len(), 4);
    assert_eq!(vv("desa=3510040006"), uuids(&dv[3..4]));
    assert_eq!(
        vv("kecamatan=3510010"),
        uuids(&[dv[0], dv[1], dv[2], bv[0]])
    );
    assert_eq!(vv(&format!("agency={AGENCY}")), uuids(&dv[..4]));
    let from = utc_text(Utc::now() - Duration::days(10));
    assert_eq!(vv(&format!("from={from}")), uuids(&[dv[0], dv[2], bv[0]]));
    let to = (Utc::now() - Duration::days(30)).format("%Y-%m-%d");
    assert_eq!(vv(&format!("to={to}")), uuids(&[dv[1], dv[3]]));
    assert_eq!(vv("review=received").len(), 5, "nobody has reviewed yet");
    db.execute(&format!(
        "UPDATE q_visits SET review_state = 'approved' WHERE id = '{}'",
        dv[0]
    ));
    assert_eq!(vv("review=approved"), uuids(&dv[..1]));
    assert_eq!(vv("review=received").len(), 4);
    let v0 = get(&admin, &format!("/v1/admin/visits?household={}", ours[0]));
    assert_eq!(
        (
            &v0[0]["review_state"],
            &v0[0]["user_id"],
            &v0[0]["household_id"]
        ),
        (
            &json!("approved"),
            &json!(dewi),
            &json!(ours[0].to_string())
        ),
        "{v0:?}"
    );
    assert_eq!(
        ids_of(&kepala, "/v1/admin/visits"),
        uuids(&dv[..4]),
        "the visits of the agency's households"
    );
    let asc = all_pages(s, &admin, "/v1/admin/visits?sort=visited_at", 3);
    let mut r = id_list(&visits);
    r.reverse();
    assert_eq!(id_list(&asc), r);

    // Aid.
    let aa = |q: &str| ids_of(&admin, &format!("/v1/admin/aid?{q}"));
    assert_eq!(
        id_set(&all_pages(s, &admin, "/v1/admin/aid", 1)),
        uuids(&[dv[4], bv[1]])
    );
    assert_eq!(aa("kind=beras"), uuids(&dv[4..]));
    assert_eq!(aa("source=Baznas"), uuids(&bv[1..]));
    assert_eq!(aa(&format!("officer={budi}")), uuids(&bv[1..]));
    assert_eq!(aa(&format!("household={}", ours[0])), uuids(&dv[4..]));
    let today = Utc::now().format("%Y-%m-%d");
    assert_eq!(aa(&format!("from={today}")), BTreeSet::new());
    assert_eq!(
        aa(&format!("to={today}")).len(),
        2,
        "a date takes in the whole day"
    );
    assert_eq!(aa("voided=true"), BTreeSet::new());
    assert_eq!(ids_of(&kepala, "/v1/admin/aid"), uuids(&dv[4..]));

    // Officers: households assigned now and the last sync.
    let officers = all_pages(s, &admin, "/v1/admin/officers", 1);
    let names: Vec<&str> = officers
        .iter()
        .map(|o| o["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["budi", "dewi"]);
    assert_eq!(
        (
            &officers[1]["households_assigned"],
            &officers[1]["agency_id"]
        ),
        (&json!(4), &json!(AGENCY)),
        "{officers:?}"
    );
    assert!(officers[1]["last_push_at"].is_i64(), "{officers:?}");
    let theirs_officers = get(&kepala, "/v1/admin/officers");
    assert_eq!(id_list(&theirs_officers), std::slice::from_ref(&dewi));

    // Devices and assignments have the same pages.
    let devices = all_pages(s, &admin, "/v1/admin/devices", 2);
    assert_eq!(devices.len(), 5, "{devices:?}");
    id_set(&devices);
    for d in get(&kepala, "/v1/admin/devices") {
        assert_eq!(d["agency_id"], json!(AGENCY), "{d}");
    }
    let pushed = get(
        &admin,
        &format!("/v1/admin/devices?user={dewi}&sort=-last_push_at"),
    );
    assert_eq!(pushed.len(), 1);
    let assignments = all_pages(s, &admin, "/v1/admin/assignments?active=true", 2);
    assert_eq!(assignments.len(), 6);
    let starts: Vec<i64> = assignments
        .iter()
        .map(|a| a["starts_at"].as_i64().unwrap())
        .collect();
    assert!(starts.windows(2).all(|p| p[0] >= p[1]), "{starts:?}");
    assert_eq!(get(&kepala, "/v1/admin/assignments").len(), 4);
    assert_eq!(
        get(
            &admin,
            &format!("/v1/admin/assignments?agency={}", w.school)
        )
        .len(),
        2
    );
}

fn bad_list_input_is_refused_with_a_clear_code(b: Backend) {
    let db = TestDb::new(b);
    let mut w = world(&db);
    let dewi = w.dewi.user_id.clone();
    for name in ["Ani", "Bayu", "Citra"] {
        w.household(name, "3510010001", Some(&dewi));
    }
    let s = &w.s;
    let admin = &w.admin.token;
    let (st, page) = s.get("/v1/admin/households?limit=1", Some(admin));
    assert_eq!(st, 200, "{page}");
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    for (path, expected) in [
        ("/v1/admin/households?colour=red", (400, "invalid_query")),
        (
            "/v1/admin/visits?outcome=completed&houshold=x",
            (400, "invalid_query"),
        ),
        ("/v1/admin/households?sort=welfare", (400, "invalid_query")),
        ("/v1/admin/visits?sort=-head_name", (400, "invalid_query")),
        ("/v1/admin/visits?from=yesterday", (400, "invalid_query")),
        ("/v1/admin/aid?to=2026-13-01", (400, "invalid_query")),
        (
            "/v1/admin/visits?from=2026-12-01T10:00:00",
            (400, "invalid_query"),
        ),
        ("/v1/admin/households?overdue=yes", (400, "invalid_query")),
        ("/v1/admin/visits?suspect=1", (400, "invalid_query")),
        ("/v1/admin/visits?review=pending", (400, "invalid_query")),
        ("/v1/admin/households?limit=501", (400, "invalid_query")),
        ("/v1/admin/devices?limit=100000", (400, "invalid_query")),
        ("/v1/admin/assignments?limit=1000", (400, "invalid_query")),
        ("/v1/admin/audit?limit=1001", (400, "invalid_query")),
        ("/v1/admin/officers?limit=0", (400, "invalid_query")),
        ("/v1/admin/aid?limit=ten", (400, "invalid_query")),
        (
            "/v1/admin/households?agency=not-a-uuid",
            (400, "invalid_query"),
        ),
        ("/v1/admin/households?format=xlsx", (400, "invalid_query")),
        (
            "/v1/admin/visits?format=csv&limit=10",
            (400, "invalid_query"),
        ),
        (
            "/v1/admin/households?cursor=garbled",
            (400, "invalid_cursor"),
        ),
        (
            "/v1/admin/households?cursor=eyJzIjoxfQ",
            (400, "invalid_cursor"),
        ),
        (
            "/v1/admin/households?include_identity=true&reason=audit",
            (400, "invalid_query"),
        ),
        ("/v1/admin/households?reason=audit", (400, "invalid_query")),
        (
            "/v1/admin/households?format=csv&include_identity=true",
            (400, "invalid_reason"),
        ),
        (
            "/v1/admin/visits?format=csv&include_identity=true&reason=x",
            (400, "invalid_query"),
        ),
    ] {
        assert_eq!(
            code(s.get(path, Some(admin))),
            (expected.0, expected.1.to_owned()),
            "{path}"
        );
    }
    // A cursor is tied to its sort, and to its list's kind of key.
    let (st, body) = s.get(
        &format!("/v1/admin/households?sort=-head_name&cursor={cursor}"),
        Some(admin),
    );
    assert_eq!(
        (st, &body["error"]["code"]),
        (400, &json!("invalid_cursor")),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("sort=head_name"),
        "{body}"
    );
    assert_eq!(
        code(s.get(&format!("/v1/admin/devices?cursor={cursor}"), Some(admin))),
        (400, "invalid_cursor".into())
    );
    let (st, next) = s.get(
        &format!("/v1/admin/households?limit=1&cursor={cursor}"),
        Some(admin),
    );
    assert_eq!(
        (st, next["items"][0]["head_name"].as_str()),
        (200, Some("Bayu"))
    );
    // The sync pull keeps the protocol's rule: a larger limit gets the server's page size.
    let (st, pull) = w.dewi.pull_page(s, Some(100_000));
    assert_eq!(st, 200, "{pull}");
    // Unauthenticated, or an officer.
    assert_eq!(
        code(s.get("/v1/admin/aid", None)),
        (401, "missing_token".into())
    );
    assert_eq!(
        code(s.get("/v1/admin/officers", Some(&w.dewi.token))),
        (403, "forbidden_role".into())
    );
    assert_eq!(
        code(s.get(
            "/v1/admin/households?format=csv&include_identity=true&reason=cek",
            Some(&w.kepala.token)
        )),
        (403, "forbidden_role".into()),
        "an agency admin never exports numbers"
    );
}

/// A CSV answer: its status, content type and rows (the data has no commas or quotes).
fn csv(s: &TestServer, token: &str, path: &str) -> (u16, String, Vec<Vec<String>>) {
    let r = s.send(
        "GET",
        path,
        &[("Authorization".into(), format!("Bearer {token}"))],
        None,
    );
    let text = r.body.as_str().unwrap_or_default().to_owned();
    let rows = text
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    (r.status, r.content_type.unwrap_or_default(), rows)
}

fn csv_exports_match_the_lists_and_identity_needs_a_reason(b: Backend) {
    let db = TestDb::new(b);
    let mut w = world(&db);
    let (dewi, budi) = (w.dewi.user_id.clone(), w.budi.user_id.clone());
    let ani = w.household("Ani", "3510010001", Some(&dewi));
    let eka = w.household("Eka", "3510010001", Some(&budi));
    let s = &w.s;
    // More visits than one page of an export (1000), in pushes the batch limit allows.
    let mut visits = Vec::new();
    for chunk in 0..3 {
        let items = (0..350)
            .map(|i| {
                (
                    "visits",
                    visit(ani, 1 + (chunk * 350 + i) % 300, "completed", false),
                )
            })
            .collect();
        visits.extend(push(&mut w.dewi, s, items));
    }
    push(
        &mut w.budi,
        s,
        vec![("visits", visit(eka, 3, "completed", false))],
    );
    let admin = w.admin.token.clone();

    let (st, ctype, rows) = csv(s, &admin, "/v1/admin/visits?format=csv");
    assert_eq!(st, 200);
    assert!(ctype.starts_with("text/csv"), "{ctype}");
    assert_eq!(rows[0][0], "id");
    assert_eq!(rows.len(), 1 + 1051, "one header and every visit");
    let json_ids = id_list(&all_pages(s, &admin, "/v1/admin/visits", 500));
    let csv_ids: Vec<String> = rows[1..].iter().map(|r| r[0].clone()).collect();
    assert_eq!(csv_ids, json_ids, "the same rows in the same order");
    let col = |name: &str| rows[0].iter().position(|h| h == name).unwrap();
    let (hh, review) = (col("household_id"), col("review_state"));
    assert!(rows[1..].iter().all(|r| r[review] == "received"));
    let json_first = &all_pages(s, &admin, "/v1/admin/visits?sort=id", 500)[0];
    let (_, _, by_id) = csv(s, &admin, "/v1/admin/visits?format=csv&sort=id");
    assert_eq!(by_id[1][0], json_first["id"].as_str().unwrap());
    assert_eq!(by_id[1][hh], json_first["household_id"].as_str().unwrap());
    assert_eq!(by_id.len(), 1052);

    // Exports keep the scope and the filters.
    let (st, _, theirs) = csv(s, &w.sekolah.token, "/v1/admin/visits?format=csv");
    assert_eq!((st, theirs.len()), (200, 2), "the school's one visit");
    assert_eq!(theirs[1][hh], eka.to_string());
    let (_, _, filtered) = csv(
        s,
        &admin,
        &format!("/v1/admin/visits?format=csv&officer={budi}"),
    );
    assert_eq!(filtered.len(), 2);
    for list in ["households", "aid", "officers", "devices", "assignments"] {
        let (st, ctype, rows) = csv(s, &w.kepala.token, &format!("/v1/admin/{list}?format=csv"));
        assert_eq!(st, 200, "{list}");
        assert!(ctype.starts_with("text/csv"), "{list}: {ctype}");
        assert_eq!(rows[0][0], "id", "{list}");
        let (_, page) = s.get(
            &format!("/v1/admin/{list}?limit=500"),
            Some(&w.kepala.token),
        );
        let ids: Vec<String> = rows[1..].iter().map(|r| r[0].clone()).collect();
        assert_eq!(ids, id_list(page["items"].as_array().unwrap()), "{list}");
    }

    // KK and NIK numbers: not in an export unless a regency admin gives a reason.
    let (st, body) = {
        let r = s.send(
            "PUT",
            &format!("/v1/admin/households/{ani}/identity"),
            &[
                ("Authorization".into(), format!("Bearer {admin}")),
                ("Content-Type".into(), "application/json".into()),
            ],
            Some(
                json!({"kk": "3510012345678901", "nik": "3510024407800001"})
                    .to_string()
                    .into_bytes(),
            ),
        );
        (r.status, r.body)
    };
    assert_eq!(st, 200, "{body}");
    let (st, _, plain) = csv(s, &admin, "/v1/admin/households?format=csv");
    assert_eq!(st, 200);
    assert!(
        !plain[0].contains(&"kk_number".to_owned()),
        "{:?}",
        plain[0]
    );
    assert!(!format!("{plain:?}").contains("3510012345678901"));
    let (st, _, with) = csv(
        s,
        &admin,
        "/v1/admin/households?format=csv&include_identity=true&reason=verifikasi%20DTKS",
    );
    assert_eq!(st, 200);
    let (kk, nik) = (
        with[0].iter().position(|h| h == "kk_number").unwrap(),
        with[0].iter().position(|h| h == "nik_number").unwrap(),
    );
    let ani_row = with.iter().find(|r| r[0] == ani.to_string()).unwrap();
    assert_eq!(
        (ani_row[kk].as_str(), ani_row[nik].as_str()),
        ("3510012345678901", "3510024407800001")
    );
    let eka_row = with.iter().find(|r| r[0] == eka.to_string()).unwrap();
    assert_eq!((eka_row[kk].as_str(), eka_row[nik].as_str()), ("", ""));
    let (st, audit) = s.get(
        "/v1/admin/audit?action=household_identity_export",
        Some(&admin),
    );
    assert_eq!(st, 200, "{audit}");
    let entries = audit
        .as_array()
        .or_else(|| audit["entries"].as_array())
        .unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert!(audit.to_string().contains("verifikasi DTKS"), "{audit}");
    assert!(!audit.to_string().contains("3510012345678901"), "{audit}");
}
