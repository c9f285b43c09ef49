//! Supervisors' reports over real HTTP: coverage with overdue, aid totals, officer
//! activity, conditions per month and suspect locations, on a small known data set pushed
//! by two officers of two agencies; every grouping, the WIB month boundary, each role's
//! scope, CSV equal to JSON, and every refused input with its status and code.

use chrono::{Duration, Utc};
use kampung_sync::auth::Role;
use kampung_sync_tests::*;
use serde_json::{Value, json};
use sync_protocol::rows::utc_text;
use uuid::Uuid;

kampung_sync_tests::on_both_backends!(
    coverage_counts_active_households_visited_and_overdue_per_group,
    aid_totals_leave_voided_aid_out_and_split_months_in_wib,
    conditions_average_each_aspect_per_wib_month,
    locations_count_mock_and_implausible_visits,
    a_household_moved_to_another_desa_takes_its_visits_and_aid_along_in_the_reports,
    officers_show_activity_last_sync_backlog_and_clock_skew,
    agency_admins_see_only_their_agency,
    csv_answers_the_same_rows_as_json,
    bad_input_is_refused_with_a_clear_code,
);

const HOME: (f64, f64) = (-8.2, 114.3);
/// About 5 km south of [`HOME`].
const FAR: (f64, f64) = (-8.245, 114.3);
const PESANGGARAN: &str = "3510010";
const BANGOREJO: &str = "3510020";

/// `days` ago as a device in Banyuwangi (UTC+7) writes it.
fn days_ago_local(days: i64) -> String {
    let local = utc_text(Utc::now() - Duration::days(days) + Duration::hours(7));
    format!("{}+07:00", local.trim_end_matches('Z'))
}

fn op(seq: u64, collection: &str, id: Uuid, fields: Value) -> Value {
    json!({"seq": seq, "collection": collection, "kind": "put", "record_id": id,
           "hlc": {"wall_ms": now_ms(), "counter": 0}, "fields": fields})
}

/// A visit's fields: scores `[kesehatan, pangan]`, a GPS point and whether it is a mock.
fn visit(
    household: Uuid,
    at: &str,
    outcome: &str,
    scores: [Option<i64>; 2],
    gps: Option<((f64, f64), bool)>,
) -> Value {
    let mut v = json!({"household_id": household, "visited_at": at, "outcome": outcome});
    if let Some(k) = scores[0] {
        v["kesehatan_score"] = json!(k);
    }
    if let Some(p) = scores[1] {
        v["pangan_score"] = json!(p);
    }
    if let Some((p, mock)) = gps {
        v["gps_lat"] = json!(p.0);
        v["gps_lon"] = json!(p.1);
        v["gps_accuracy_m"] = json!(8.0);
        v["gps_mock"] = json!(mock);
    }
    v
}

#[allow(clippy::too_many_arguments)]
fn aid(
    household: Uuid,
    at: &str,
    kind: &str,
    qty: f64,
    unit: &str,
    value: i64,
    src: &str,
) -> Value {
    json!({"household_id": household, "given_at": at, "kind": kind, "quantity": qty,
           "unit": unit, "value_rupiah": value, "source": src})
}

/// The data set. Households: `h1` (Pesanggaran, Sarongan; home point; Dewi's), `h2`
/// (Bangorejo, Sukorejo; Dewi's), `h3` (Bangorejo, Ringintelu; Budi's), `h4` (graduated,
/// Budi's), `h5` (Bangorejo, Sukorejo; nobody's, never visited). Dewi is of the Dinas
/// Sosial ([`AGENCY`]), Budi of a school. Visits and aid of October and November 2025 (on
/// both sides of the WIB month boundary) and recent visits for coverage.
struct Data {
    s: TestServer,
    db: TestDb,
    admin: Device,
    dewi: Device,
    budi: Device,
    kepala_dinsos: Device,
    kepala_sekolah: Device,
    school: String,
}

fn data(b: Backend) -> Data {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut admin = Device::new(&s, "regency");
    let mut dewi = Device::officer(&s, "dewi");
    let kepala_dinsos = Device::with_role(&s, "kepala.dinsos", Role::AgencyAdmin);
    let (st, school) = s.post(
        "/v1/admin/agencies",
        Some(&admin.token),
        &json!({"name": "SMPN 2 Rogojampi", "kind": "school"}),
    );
    assert_eq!(st, 201, "{school}");
    let school = school["id"].as_str().unwrap().to_owned();
    for (user, role) in [("budi", "officer"), ("kepala.sekolah", "agency_admin")] {
        let (st, body) = s.post(
            "/v1/admin/users",
            Some(&admin.token),
            &json!({"username": user, "display_name": user, "role": role,
                    "agency_id": school, "password": PASSWORD}),
        );
        assert_eq!(st, 201, "{body}");
    }
    let mut budi = Device::with_role(&s, "budi", Role::Officer);
    let kepala_sekolah = Device::with_role(&s, "kepala.sekolah", Role::AgencyAdmin);

    let [h1, h2, h3, h4, h5] = [(); 5].map(|_| Uuid::now_v7());
    let households = [
        (h1, "3510010001", "active", Some(HOME)),
        (h2, "3510020001", "active", None),
        (h3, "3510020002", "active", None),
        (h4, "3510010001", "graduated", None),
        (h5, "3510020001", "active", None),
    ];
    let ops: Vec<Value> = households
        .iter()
        .map(|(id, desa, status, home)| {
            let mut f = json!({"head_name": "Siti", "desa_code": desa, "status": status});
            if let Some(h) = home {
                f["home_lat"] = json!(h.0);
                f["home_lon"] = json!(h.1);
            }
            op(admin.next_seq(), "households", *id, f)
        })
        .collect();
    admin.push_ok(&s, ops);
    for (h, officer) in [(h1, &dewi), (h2, &dewi), (h3, &budi), (h4, &budi)] {
        let (st, body) = s.post(
            "/v1/admin/assignments",
            Some(&admin.token),
            &json!({"household_id": h, "officer_id": officer.user_id, "reason": "pendampingan"}),
        );
        assert_eq!(st, 200, "{body}");
    }

    let near = (HOME.0 - 0.0009, HOME.1);
    let voided = Uuid::now_v7();
    let dewi_ops = vec![
        // 23:30 on 31 October in WIB: October, though 16:30 UTC.
        (
            "visits",
            Uuid::now_v7(),
            visit(
                h1,
                "2025-10-31T23:30:00+07:00",
                "completed",
                [Some(4), Some(2)],
                Some((near, false)),
            ),
        ),
        // 00:30 on 1 November in WIB: November, though 31 October 17:30 UTC.
        (
            "visits",
            Uuid::now_v7(),
            visit(
                h1,
                "2025-11-01T00:30:00+07:00",
                "completed",
                [Some(2), Some(4)],
                Some((FAR, false)),
            ),
        ),
        (
            "visits",
            Uuid::now_v7(),
            visit(
                h2,
                "2025-11-15T10:00:00+07:00",
                "completed",
                [Some(3), None],
                Some((HOME, true)),
            ),
        ),
        (
            "aid",
            Uuid::now_v7(),
            aid(
                h1,
                "2025-10-31T20:00:00+07:00",
                "beras",
                10.0,
                "kg",
                150_000,
                "Dinsos",
            ),
        ),
        (
            "aid",
            Uuid::now_v7(),
            aid(
                h1,
                "2025-11-01T06:00:00+07:00",
                "beras",
                5.0,
                "kg",
                75_000,
                "Dinsos",
            ),
        ),
        (
            "aid",
            Uuid::now_v7(),
            aid(
                h2,
                "2025-11-05T10:00:00+07:00",
                "tunai",
                300_000.0,
                "rupiah",
                300_000,
                "PKH",
            ),
        ),
        (
            "aid",
            voided,
            aid(
                h1,
                "2025-11-07T10:00:00+07:00",
                "sembako",
                1.0,
                "paket",
                100_000,
                "Dinsos",
            ),
        ),
        // For coverage: a completed visit 5 days ago (h1) and 40 days ago (h2).
        (
            "visits",
            Uuid::now_v7(),
            visit(h1, &days_ago_local(5), "completed", [None, None], None),
        ),
        (
            "visits",
            Uuid::now_v7(),
            visit(h2, &days_ago_local(40), "completed", [None, None], None),
        ),
    ];
    let ops: Vec<Value> = dewi_ops
        .into_iter()
        .map(|(c, id, f)| op(dewi.next_seq(), c, id, f))
        .collect();
    let resp = dewi.push_ok(&s, ops);
    assert_eq!(statuses(&resp), ["applied"; 9], "{resp}");
    let dot = resp["results"][6]["dot"].as_u64().unwrap();
    let void = json!({"seq": dewi.next_seq(), "collection": "aid", "kind": "delete",
                      "record_id": voided, "hlc": {"wall_ms": now_ms(), "counter": 0},
                      "ctx": {"epoch": resp["epoch"], "vv": {"server": dot}}});
    let resp = dewi.push_ok(&s, vec![void]);
    assert_eq!(statuses(&resp), ["applied"], "{resp}");

    let mut budi_ops = vec![
        op(
            budi.next_seq(),
            "visits",
            Uuid::now_v7(),
            visit(
                h3,
                "2025-11-20T10:00:00+07:00",
                "nobody_home",
                [Some(5), None],
                None,
            ),
        ),
        op(
            budi.next_seq(),
            "aid",
            Uuid::now_v7(),
            aid(
                h3,
                "2025-11-06T10:00:00+07:00",
                "beras",
                10.0,
                "kg",
                150_000,
                "Dinsos",
            ),
        ),
        // Recent: nobody home at h3 (no completed visit ever), a completed visit at the
        // graduated h4 (not an active household).
        op(
            budi.next_seq(),
            "visits",
            Uuid::now_v7(),
            visit(h3, &days_ago_local(2), "nobody_home", [None, None], None),
        ),
        op(
            budi.next_seq(),
            "visits",
            Uuid::now_v7(),
            visit(h4, &days_ago_local(1), "completed", [None, None], None),
        ),
        // Not his household: held for review, his device's backlog.
        op(
            budi.next_seq(),
            "visits",
            Uuid::now_v7(),
            visit(h1, &days_ago_local(1), "completed", [None, None], None),
        ),
    ];
    // A clock a day ahead: flagged clock_skew.
    budi_ops[3]["hlc"]["wall_ms"] = json!(now_ms() + 86_400_000);
    budi.push_ok(&s, budi_ops);
    Data {
        s,
        db,
        admin,
        dewi,
        budi,
        kepala_dinsos,
        kepala_sekolah,
        school,
    }
}

fn get(d: &Data, who: &Device, path: &str) -> Value {
    let (st, body) = d.s.get(path, Some(&who.token));
    assert_eq!(st, 200, "{path}: {body}");
    body
}

/// A report's rows by key (and a second column when given).
fn by_key<'a>(r: &'a Value, key: Option<&str>) -> &'a Value {
    r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["key"] == json!(key))
        .unwrap_or_else(|| panic!("no row {key:?} in {r}"))
}

fn counts(row: &Value, fields: &[&str]) -> Vec<i64> {
    fields
        .iter()
        .map(|f| row[*f].as_i64().unwrap_or_else(|| panic!("{f} in {row}")))
        .collect()
}

const COVERAGE: &[&str] = &["households", "visited", "overdue", "never_visited"];

fn coverage_counts_active_households_visited_and_overdue_per_group(b: Backend) {
    let d = data(b);
    let r = get(&d, &d.admin, "/v1/admin/reports/coverage");
    assert_eq!(r["rows"].as_array().unwrap().len(), 1, "{r}");
    // Active: h1 to h3 and h5. Covered in 30 days: h1. Overdue: h2 (40 days), h3 (never
    // completed), h5 (never visited).
    assert_eq!(counts(by_key(&r, None), COVERAGE), [4, 1, 3, 2], "{r}");
    assert_eq!(by_key(&r, None)["coverage"], json!(0.25), "{r}");
    assert_eq!((&r["days"], &r["overdue_days"]), (&json!(30), &json!(30)));

    let r = get(&d, &d.admin, "/v1/admin/reports/coverage?days=60");
    assert_eq!(counts(by_key(&r, None), COVERAGE), [4, 2, 3, 2], "{r}");

    let r = get(
        &d,
        &d.admin,
        "/v1/admin/reports/coverage?group_by=kecamatan",
    );
    assert_eq!(r["group_by"], "kecamatan");
    let p = by_key(&r, Some(PESANGGARAN));
    assert_eq!(
        (counts(p, COVERAGE), &p["name"]),
        (vec![1, 1, 0, 0], &json!("PESANGGARAN"))
    );
    assert_eq!(
        counts(by_key(&r, Some(BANGOREJO)), COVERAGE),
        [3, 0, 3, 2],
        "{r}"
    );
    assert_eq!(r["rows"].as_array().unwrap().len(), 2, "{r}");

    let r = get(&d, &d.admin, "/v1/admin/reports/coverage?group_by=desa");
    assert_eq!(
        counts(by_key(&r, Some("3510010001")), COVERAGE),
        [1, 1, 0, 0]
    );
    assert_eq!(
        counts(by_key(&r, Some("3510020001")), COVERAGE),
        [2, 0, 2, 1]
    );
    assert_eq!(
        counts(by_key(&r, Some("3510020002")), COVERAGE),
        [1, 0, 1, 1]
    );
    assert_eq!(by_key(&r, Some("3510020002"))["name"], "RINGINTELU");

    let r = get(&d, &d.admin, "/v1/admin/reports/coverage?group_by=agency");
    let dinsos = by_key(&r, Some(AGENCY));
    assert_eq!(
        (counts(dinsos, COVERAGE), &dinsos["name"]),
        (vec![2, 1, 1, 0], &json!("Dinas Sosial"))
    );
    assert_eq!(counts(by_key(&r, Some(&d.school)), COVERAGE), [1, 0, 1, 1]);
    assert_eq!(
        counts(by_key(&r, None), COVERAGE),
        [1, 0, 1, 1],
        "h5 is nobody's: its own group, key null"
    );
}

const AID: &[&str] = &["count", "value_rupiah"];

fn aid_row<'a>(r: &'a Value, key: Option<&str>, kind: &str) -> &'a Value {
    r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["key"] == json!(key) && row["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} row {key:?} in {r}"))
}

fn aid_totals_leave_voided_aid_out_and_split_months_in_wib(b: Backend) {
    let d = data(b);
    let period = "from=2025-10-01&to=2025-11-30";
    let r = get(&d, &d.admin, &format!("/v1/admin/reports/aid?{period}"));
    assert_eq!(
        (&r["from"], &r["to"]),
        (
            &json!("2025-09-30T17:00:00.000Z"),
            &json!("2025-11-30T17:00:00.000Z")
        ),
        "dates are WIB days, `to` included"
    );
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "the voided sembako is left out: {r}");
    let beras = aid_row(&r, None, "beras");
    assert_eq!(
        (
            counts(beras, AID),
            &beras["quantity"],
            &beras["unit"],
            &beras["source"]
        ),
        (
            vec![3, 375_000],
            &json!(25.0),
            &json!("kg"),
            &json!("Dinsos")
        )
    );
    assert_eq!(counts(aid_row(&r, None, "tunai"), AID), [1, 300_000]);

    let r = get(
        &d,
        &d.admin,
        &format!("/v1/admin/reports/aid?{period}&group_by=month"),
    );
    assert_eq!(
        counts(aid_row(&r, Some("2025-10"), "beras"), AID),
        [1, 150_000],
        "20:00 on 31 October WIB is October: {r}"
    );
    assert_eq!(
        counts(aid_row(&r, Some("2025-11"), "beras"), AID),
        [2, 225_000],
        "06:00 on 1 November WIB is November, though 31 October in UTC: {r}"
    );
    assert_eq!(
        counts(aid_row(&r, Some("2025-11"), "tunai"), AID),
        [1, 300_000]
    );

    let r = get(
        &d,
        &d.admin,
        &format!("/v1/admin/reports/aid?{period}&group_by=agency"),
    );
    assert_eq!(
        counts(aid_row(&r, Some(AGENCY), "beras"), AID),
        [2, 225_000]
    );
    assert_eq!(
        counts(aid_row(&r, Some(&d.school), "beras"), AID),
        [1, 150_000]
    );
    let r = get(
        &d,
        &d.admin,
        &format!("/v1/admin/reports/aid?{period}&group_by=kecamatan"),
    );
    assert_eq!(
        counts(aid_row(&r, Some(PESANGGARAN), "beras"), AID),
        [2, 225_000]
    );
    assert_eq!(
        counts(aid_row(&r, Some(BANGOREJO), "beras"), AID),
        [1, 150_000]
    );
    assert_eq!(
        counts(aid_row(&r, Some(BANGOREJO), "tunai"), AID),
        [1, 300_000]
    );
    let r = get(
        &d,
        &d.admin,
        &format!("/v1/admin/reports/aid?{period}&group_by=desa"),
    );
    assert_eq!(
        counts(aid_row(&r, Some("3510020002"), "beras"), AID),
        [1, 150_000]
    );

    let r = get(
        &d,
        &d.admin,
        &format!("/v1/admin/reports/aid?{period}&kind=tunai&source=PKH"),
    );
    assert_eq!(r["rows"].as_array().unwrap().len(), 1, "{r}");
    let r = get(
        &d,
        &d.admin,
        &format!("/v1/admin/reports/aid?{period}&kind=tunai&source=Dinsos"),
    );
    assert_eq!(r["rows"], json!([]), "{r}");
    let r = get(
        &d,
        &d.admin,
        "/v1/admin/reports/aid?from=2025-10-01&to=2025-10-31",
    );
    assert_eq!(
        counts(aid_row(&r, None, "beras"), AID),
        [1, 150_000],
        "to=2025-10-31 ends at midnight WIB: {r}"
    );
}

fn conditions_average_each_aspect_per_wib_month(b: Backend) {
    let d = data(b);
    let period = "from=2025-10-01&to=2025-11-30";
    let month = |r: &Value, key: Option<&str>, m: &str| -> Value {
        r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["key"] == json!(key) && row["month"] == m)
            .cloned()
            .unwrap_or_else(|| panic!("no {m} row {key:?} in {r}"))
    };
    for group in ["", "&group_by=month"] {
        let r = get(
            &d,
            &d.admin,
            &format!("/v1/admin/reports/conditions?{period}{group}"),
        );
        assert_eq!(r["rows"].as_array().unwrap().len(), 2, "{r}");
        let oct = month(&r, None, "2025-10");
        assert_eq!(
            (
                &oct["visits"],
                &oct["kesehatan_average"],
                &oct["kesehatan_count"]
            ),
            (&json!(1), &json!(4.0), &json!(1)),
            "23:30 on 31 October WIB is October: {r}"
        );
        assert_eq!(
            (&oct["pangan_average"], &oct["papan_average"]),
            (&json!(2.0), &Value::Null)
        );
        let nov = month(&r, None, "2025-11");
        assert_eq!(
            (
                &nov["visits"],
                &nov["kesehatan_count"],
                &nov["pangan_count"],
                &nov["papan_count"]
            ),
            (&json!(3), &json!(3), &json!(1), &json!(0)),
            "{r}"
        );
        let k = nov["kesehatan_average"].as_f64().unwrap();
        assert!((k - 10.0 / 3.0).abs() < 1e-9, "{r}");
        assert_eq!(nov["pangan_average"], json!(4.0));
    }
    let r = get(
        &d,
        &d.admin,
        &format!("/v1/admin/reports/conditions?{period}&group_by=kecamatan"),
    );
    assert_eq!(
        month(&r, Some(PESANGGARAN), "2025-10")["kesehatan_average"],
        json!(4.0)
    );
    assert_eq!(
        month(&r, Some(PESANGGARAN), "2025-11")["kesehatan_average"],
        json!(2.0)
    );
    let bangorejo = month(&r, Some(BANGOREJO), "2025-11");
    assert_eq!(
        (&bangorejo["visits"], &bangorejo["kesehatan_average"]),
        (&json!(2), &json!(4.0))
    );
    let r = get(
        &d,
        &d.admin,
        &format!("/v1/admin/reports/conditions?{period}&group_by=desa"),
    );
    assert_eq!(
        month(&r, Some("3510020002"), "2025-11")["kesehatan_average"],
        json!(5.0)
    );
    let r = get(
        &d,
        &d.admin,
        &format!("/v1/admin/reports/conditions?{period}&group_by=agency"),
    );
    assert_eq!(
        month(&r, Some(AGENCY), "2025-11")["kesehatan_average"],
        json!(2.5)
    );
    assert_eq!(
        month(&r, Some(&d.school), "2025-11")["kesehatan_average"],
        json!(5.0)
    );
}

const LOCATIONS: &[&str] = &["visits", "with_gps", "mock", "implausible", "suspect"];

fn locations_count_mock_and_implausible_visits(b: Backend) {
    let d = data(b);
    let period = "from=2025-10-01&to=2025-11-30";
    let r = get(
        &d,
        &d.admin,
        &format!("/v1/admin/reports/locations?{period}"),
    );
    // 100 m from home; 5 km from home; a mock; no GPS at all.
    assert_eq!(counts(by_key(&r, None), LOCATIONS), [4, 3, 1, 1, 2], "{r}");
    let r = get(
        &d,
        &d.admin,
        &format!("/v1/admin/reports/locations?{period}&group_by=month"),
    );
    assert_eq!(
        counts(by_key(&r, Some("2025-10")), LOCATIONS),
        [1, 1, 0, 0, 0],
        "{r}"
    );
    assert_eq!(
        counts(by_key(&r, Some("2025-11")), LOCATIONS),
        [3, 2, 1, 1, 2],
        "{r}"
    );
    let r = get(
        &d,
        &d.admin,
        &format!("/v1/admin/reports/locations?{period}&group_by=desa"),
    );
    assert_eq!(
        counts(by_key(&r, Some("3510010001")), LOCATIONS),
        [2, 2, 0, 1, 1]
    );
    assert_eq!(
        counts(by_key(&r, Some("3510020001")), LOCATIONS),
        [1, 1, 1, 0, 1]
    );
    assert_eq!(
        counts(by_key(&r, Some("3510020002")), LOCATIONS),
        [1, 0, 0, 0, 0]
    );
    let r = get(
        &d,
        &d.admin,
        &format!("/v1/admin/reports/locations?{period}&group_by=kecamatan"),
    );
    assert_eq!(
        counts(by_key(&r, Some(BANGOREJO)), LOCATIONS),
        [2, 1, 1, 0, 1]
    );
    let r = get(
        &d,
        &d.admin,
        &format!("/v1/admin/reports/locations?{period}&group_by=agency"),
    );
    assert_eq!(counts(by_key(&r, Some(AGENCY)), LOCATIONS), [3, 3, 1, 1, 2]);
    assert_eq!(
        counts(by_key(&r, Some(&d.school)), LOCATIONS),
        [1, 0, 0, 0, 0]
    );
}

/// Visits and aid are grouped by their household's area as it is now: their rows hold it
/// (`typed_tables`), and moving the household rewrites them.
fn a_household_moved_to_another_desa_takes_its_visits_and_aid_along_in_the_reports(b: Backend) {
    let mut d = data(b);
    let period = "from=2025-10-01&to=2025-11-30";
    let ringintelu = "3510020002";
    let sarongan = "3510010001";
    let listed = get(
        &d,
        &d.admin,
        &format!("/v1/admin/households?desa={ringintelu}"),
    );
    let h3: Uuid = listed["items"][0]["id"].as_str().unwrap().parse().unwrap();
    let (st, read) = d.s.get(
        &format!("/v1/admin/records/households/{h3}"),
        Some(&d.admin.token),
    );
    assert_eq!(st, 200, "{read}");
    let seen = read["ctx"]["vv"]["server"].as_u64().unwrap();
    let epoch = read["ctx"]["epoch"].as_str().unwrap().to_owned();
    let seq = d.admin.next_seq();
    let resp = d.admin.push_ok(
        &d.s,
        vec![patch_household(
            seq,
            h3,
            seen,
            Some(&epoch),
            json!({"desa_code": sarongan, "address": null, "dusun": null, "rt": null, "rw": null}),
        )],
    );
    assert_eq!(statuses(&resp), ["applied"], "{resp}");

    let r = get(
        &d,
        &d.admin,
        &format!("/v1/admin/reports/locations?{period}&group_by=desa"),
    );
    assert!(
        r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|row| row["key"] != ringintelu),
        "nothing is left in the desa it left: {r}"
    );
    assert_eq!(
        counts(by_key(&r, Some(sarongan)), LOCATIONS),
        [3, 2, 0, 1, 1],
        "h1's two visits and h3's: {r}"
    );
    let r = get(
        &d,
        &d.admin,
        &format!("/v1/admin/reports/locations?{period}&group_by=kecamatan"),
    );
    assert_eq!(
        counts(by_key(&r, Some(BANGOREJO)), LOCATIONS),
        [1, 1, 1, 0, 1],
        "{r}"
    );
    assert_eq!(
        counts(by_key(&r, Some(PESANGGARAN)), LOCATIONS),
        [3, 2, 0, 1, 1],
        "{r}"
    );
    let r = get(
        &d,
        &d.admin,
        &format!("/v1/admin/reports/aid?{period}&group_by=desa"),
    );
    assert_eq!(
        counts(aid_row(&r, Some(sarongan), "beras"), AID),
        [3, 375_000],
        "h1's two and h3's: {r}"
    );
    let r = get(
        &d,
        &d.admin,
        &format!("/v1/admin/reports/conditions?{period}&group_by=kecamatan"),
    );
    let pesanggaran_november = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["key"] == PESANGGARAN && row["month"] == "2025-11")
        .unwrap_or_else(|| panic!("no Pesanggaran November in {r}"));
    assert_eq!(pesanggaran_november["visits"], 2, "h1's and h3's: {r}");

    let mut conn = d.db.connect();
    assert_eq!(
        kampung_sync::db::typed_tables::verify(&mut conn).unwrap(),
        Vec::<String>::new()
    );
}

fn officer<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["username"] == name)
        .unwrap_or_else(|| panic!("no officer {name} in {r}"))
}

const ACTIVITY: &[&str] = &[
    "visits",
    "completed_visits",
    "aid",
    "aid_value_rupiah",
    "held_writes",
    "clock_skew_writes",
];

fn officers_show_activity_last_sync_backlog_and_clock_skew(b: Backend) {
    let d = data(b);
    let r = get(
        &d,
        &d.admin,
        "/v1/admin/reports/officers?from=2025-10-01&to=2025-11-30",
    );
    let names: Vec<&str> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["budi", "dewi"], "{r}");
    let dewi = officer(&r, "dewi");
    assert_eq!(counts(dewi, ACTIVITY), [3, 3, 3, 525_000, 0, 0], "{r}");
    assert_eq!(
        (&dewi["agency_id"], &dewi["user_id"]),
        (&json!(AGENCY), &json!(d.dewi.user_id))
    );
    let devices = dewi["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 1, "{r}");
    assert_eq!(devices[0]["id"], json!(d.dewi.id.to_string()));
    assert!(devices[0]["last_sync_at"].is_string(), "{r}");
    assert_eq!(dewi["last_sync_at"], devices[0]["last_sync_at"]);
    // The skewed and held operations were applied now, outside that period.
    assert_eq!(
        counts(officer(&r, "budi"), ACTIVITY),
        [1, 0, 1, 150_000, 1, 0],
        "{r}"
    );

    let since = utc_text(Utc::now() - Duration::days(60));
    let r = get(
        &d,
        &d.admin,
        &format!("/v1/admin/reports/officers?from={since}"),
    );
    assert_eq!(
        counts(officer(&r, "dewi"), ACTIVITY),
        [2, 2, 0, 0, 0, 0],
        "{r}"
    );
    let budi = officer(&r, "budi");
    assert_eq!(
        counts(budi, ACTIVITY),
        [2, 1, 0, 0, 1, 1],
        "the write to Dewi's household is held, not counted; one clock a day ahead: {r}"
    );
    let held = d.db.scalar(&format!(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM held_writes WHERE device_id = '{}'",
        d.budi.id
    ));
    assert_eq!(held, 1);
    assert_eq!(budi["devices"][0]["held_writes"], json!(1));
    assert_eq!(budi["devices"][0]["clock_skew_writes"], json!(1));

    let r = get(
        &d,
        &d.admin,
        &format!("/v1/admin/reports/officers?agency={}", d.school),
    );
    assert_eq!(r["rows"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(officer(&r, "budi")["agency_id"], json!(d.school));
}

fn agency_admins_see_only_their_agency(b: Backend) {
    let d = data(b);
    let period = "from=2025-10-01&to=2025-11-30";
    let r = get(
        &d,
        &d.kepala_dinsos,
        "/v1/admin/reports/coverage?group_by=kecamatan",
    );
    assert_eq!(
        counts(by_key(&r, Some(PESANGGARAN)), COVERAGE),
        [1, 1, 0, 0]
    );
    assert_eq!(
        counts(by_key(&r, Some(BANGOREJO)), COVERAGE),
        [1, 0, 1, 0],
        "h2 only: {r}"
    );
    let r = get(
        &d,
        &d.kepala_sekolah,
        "/v1/admin/reports/coverage?group_by=agency",
    );
    assert_eq!(r["rows"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(counts(by_key(&r, Some(&d.school)), COVERAGE), [1, 0, 1, 1]);

    let r = get(
        &d,
        &d.kepala_sekolah,
        &format!("/v1/admin/reports/aid?{period}"),
    );
    assert_eq!(
        r["rows"].as_array().unwrap().len(),
        1,
        "h3's rice only: {r}"
    );
    assert_eq!(counts(aid_row(&r, None, "beras"), AID), [1, 150_000]);
    let r = get(
        &d,
        &d.kepala_sekolah,
        &format!("/v1/admin/reports/conditions?{period}"),
    );
    assert_eq!(r["rows"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(r["rows"][0]["kesehatan_average"], json!(5.0));
    let r = get(
        &d,
        &d.kepala_dinsos,
        &format!("/v1/admin/reports/locations?{period}"),
    );
    assert_eq!(counts(by_key(&r, None), LOCATIONS), [3, 3, 1, 1, 2]);
    let r = get(
        &d,
        &d.kepala_dinsos,
        &format!("/v1/admin/reports/officers?{period}"),
    );
    let names: Vec<&Value> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| &o["username"])
        .collect();
    assert_eq!(names, [&json!("dewi")], "{r}");
    let r = get(
        &d,
        &d.kepala_dinsos,
        &format!("/v1/admin/reports/officers?agency={AGENCY}"),
    );
    assert_eq!(
        r["rows"].as_array().unwrap().len(),
        1,
        "their own agency named: {r}"
    );

    let code = |who: &Device, path: &str| {
        let (st, body) = d.s.get(path, Some(&who.token));
        (
            st,
            body["error"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    };
    assert_eq!(
        code(
            &d.kepala_dinsos,
            &format!("/v1/admin/reports/officers?agency={}", d.school)
        ),
        (403, "other_agency".into())
    );
    for path in [
        "/v1/admin/reports/coverage",
        "/v1/admin/reports/aid",
        "/v1/admin/reports/officers",
        "/v1/admin/reports/conditions",
        "/v1/admin/reports/locations",
    ] {
        assert_eq!(
            code(&d.dewi, path),
            (403, "forbidden_role".into()),
            "{path}"
        );
    }
}

/// A JSON value as the CSV writes it.
fn as_csv(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.len().to_string(),
        other => other.to_string(),
    }
}

fn same_field(csv: &str, json: &Value) -> bool {
    match (json.as_f64(), csv.parse::<f64>()) {
        (Some(j), Ok(c)) => (j - c).abs() < 1e-9,
        _ => as_csv(json) == csv,
    }
}

fn csv_answers_the_same_rows_as_json(b: Backend) {
    let d = data(b);
    let period = "from=2025-10-01&to=2025-11-30";
    for (who, path) in [
        (&d.admin, "coverage?group_by=desa".to_owned()),
        (&d.admin, "coverage?group_by=agency".to_owned()),
        (&d.kepala_dinsos, "coverage?group_by=kecamatan".to_owned()),
        (&d.admin, format!("aid?{period}&group_by=month")),
        (
            &d.kepala_sekolah,
            format!("aid?{period}&group_by=kecamatan"),
        ),
        (&d.admin, format!("conditions?{period}&group_by=agency")),
        (&d.admin, format!("locations?{period}&group_by=desa")),
        (&d.admin, format!("officers?{period}")),
        (&d.kepala_dinsos, format!("officers?{period}")),
    ] {
        let url = format!("/v1/admin/reports/{path}");
        let json_rows = get(&d, who, &url)["rows"].as_array().unwrap().clone();
        let reply = d.s.send(
            "GET",
            &format!("{url}&format=csv"),
            &[("Authorization".into(), format!("Bearer {}", who.token))],
            None,
        );
        assert_eq!(reply.status, 200, "{url}: {:?}", reply.body);
        assert_eq!(
            reply.content_type.as_deref(),
            Some("text/csv; charset=utf-8")
        );
        assert!(
            reply
                .header("content-disposition")
                .is_some_and(|h| h.contains(".csv")),
            "{url}"
        );
        let text = reply.body.as_str().unwrap().to_owned();
        let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
        assert_eq!(rows.len(), json_rows.len(), "{url}: {text}");
        for (csv, json) in rows.iter().zip(&json_rows) {
            assert_eq!(csv.len(), header.len(), "{url}: {text}");
            for (h, field) in header.iter().zip(csv) {
                assert!(
                    same_field(field, &json[*h]),
                    "{url}: column {h} is `{field}` in CSV, {} in JSON",
                    json[*h]
                );
            }
        }
    }
}

fn bad_input_is_refused_with_a_clear_code(b: Backend) {
    let d = data(b);
    let refused = |path: &str, status: u16, code: &str, names: &str| {
        let (st, body) =
            d.s.get(&format!("/v1/admin/reports/{path}"), Some(&d.admin.token));
        assert_eq!(
            (st, body["error"]["code"].as_str().unwrap_or_default()),
            (status, code),
            "{path}: {body}"
        );
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(names),
            "{path}: `{message}` should name {names}"
        );
    };
    refused(
        "coverage?kecamatan=3510010",
        400,
        "invalid_query",
        "kecamatan",
    );
    refused("aid?officer=x", 400, "invalid_query", "officer");
    refused(
        "coverage?group_by=village",
        400,
        "invalid_query",
        "group_by",
    );
    refused("coverage?group_by=month", 400, "invalid_query", "group_by");
    refused("officers?group_by=desa", 400, "invalid_query", "group_by");
    refused("coverage?days=0", 400, "invalid_query", "days");
    refused("coverage?days=many", 400, "invalid_query", "days");
    refused("coverage?format=xlsx", 400, "invalid_query", "format");
    refused("aid?from=2025-13-01", 400, "invalid_query", "from");
    refused("aid?to=yesterday", 400, "invalid_query", "to");
    refused(
        "conditions?from=2025-11-02&to=2025-11-01",
        400,
        "invalid_query",
        "from",
    );
    refused("locations?from=01-11-2025", 400, "invalid_query", "from");
    refused(
        "conditions?from=2000-01-01&to=2025-01-01",
        400,
        "invalid_query",
        "months",
    );
    refused("officers?agency=dinsos", 400, "invalid_query", "agency");
    refused(
        &format!("officers?agency={}", Uuid::now_v7()),
        400,
        "unknown_agency",
        "agency",
    );
    let (st, body) = d.s.get("/v1/admin/reports/coverage", None);
    assert_eq!(
        (st, &body["error"]["code"]),
        (401, &json!("missing_token")),
        "{body}"
    );
}
