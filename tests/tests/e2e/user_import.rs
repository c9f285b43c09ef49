//! Officers in bulk from a CSV file: all rows or none, a one-time password per new user
//! shown once, existing user names skipped.

use kampung_sync::auth::Role;
use kampung_sync::ids::DeviceId;
use kampung_sync_tests::*;
use serde_json::{Value, json};
use uuid::Uuid;

kampung_sync_tests::on_both_backends!(
    a_file_creates_officers_with_one_time_passwords_and_skips_existing_names,
    an_agency_admin_imports_officers_of_their_own_agency_only,
);

fn import(s: &TestServer, by: &Device, csv: &str, dry_run: bool) -> (u16, Value) {
    s.post_raw(
        &format!("/v1/admin/users/import?dry_run={dry_run}"),
        Some(&by.token),
        &[("Content-Type", "text/csv")],
        csv.as_bytes().to_vec(),
    )
}

fn a_file_creates_officers_with_one_time_passwords_and_skips_existing_names(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let admin = Device::new(&s, "regency");
    Device::officer(&s, "dewi");
    let (_, agency) = s.post(
        "/v1/admin/agencies",
        Some(&admin.token),
        &json!({"name": "SMPN 2 Rogojampi", "kind": "school"}),
    );
    let csv = format!(
        "username,display_name,agency,role\n\
         Rina,Rina Wati,smpn 2 rogojampi,\n\
         dewi,Dewi,smpn 2 rogojampi,officer\n\
         kepala2,Kepala Sekolah,{},agency_admin\n\
         rina,Rina again,SMPN 2 Rogojampi,\n",
        agency["id"].as_str().unwrap()
    );
    let users = |s: &TestServer| {
        s.get("/v1/admin/users", Some(&admin.token))
            .1
            .as_array()
            .unwrap()
            .len()
    };
    let before = users(&s);
    let (st, dry) = import(&s, &admin, &csv, true);
    assert_eq!(st, 200, "{dry}");
    assert_eq!(
        (&dry["creatable"], &dry["created"]),
        (&json!(2), &json!([])),
        "{dry}"
    );
    assert_eq!(users(&s), before, "a dry run creates nobody");

    let (st, report) = import(&s, &admin, &csv, false);
    assert_eq!(st, 200, "{report}");
    let created = report["created"].as_array().unwrap();
    let names: Vec<&str> = created
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["rina", "kepala2"], "{report}");
    let dups: Vec<(u64, &str)> = report["duplicates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["line"].as_u64().unwrap(), d["of"].as_str().unwrap()))
        .collect();
    assert_eq!(dups, [(3, "registered"), (5, "repeated")], "{report}");

    // The one-time password signs in, and must be changed first.
    let password = created[0]["password"].as_str().unwrap();
    let (st, login) = s.login("rina", password, DeviceId(Uuid::now_v7()));
    assert_eq!(st, 200, "{login}");
    assert_eq!(login["must_change_password"], true, "{login}");

    let (_, log) = s.get("/v1/admin/audit?action=users_imported", Some(&admin.token));
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 1);
    assert!(
        !log[0]["detail"].to_string().contains(password),
        "no password in the log"
    );

    let (st, again) = import(&s, &admin, &csv, false);
    assert_eq!((st, &again["created"]), (200, &json!([])), "{again}");

    let bad = "username,display_name,agency,role\nok.name,Ok,SMPN 2 Rogojampi,\nX!,Bad,,\nnoagency,No Agency,,\nboss,Boss,SMPN 2 Rogojampi,regency_admin\nwho,Who,Nowhere,\nr,R,SMPN 2 Rogojampi,chief\n";
    let (st, refused) = import(&s, &admin, bad, false);
    assert_eq!(st, 422, "{refused}");
    let at: Vec<(u64, &str)> = refused["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["column"].as_str().unwrap()))
        .collect();
    assert_eq!(
        at,
        [
            (3, "username"),
            (4, "agency"),
            (5, "agency"),
            (6, "agency"),
            (7, "username")
        ],
        "{refused}"
    );
    let (_, users) = s.get("/v1/admin/users", Some(&admin.token));
    assert!(
        !users
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["username"] == "ok.name"),
        "nothing written"
    );
}

fn an_agency_admin_imports_officers_of_their_own_agency_only(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let admin = Device::new(&s, "regency");
    let (_, agency) = s.post(
        "/v1/admin/agencies",
        Some(&admin.token),
        &json!({"name": "SMPN 2 Rogojampi", "kind": "school"}),
    );
    let _ = agency;
    let kepala = Device::with_role(&s, "kepala", Role::AgencyAdmin);
    let csv = "username,display_name,agency,role\nsari,Sari,,\nboss,Boss,,agency_admin\nother,Other,SMPN 2 Rogojampi,\n";
    let (st, report) = import(&s, &kepala, csv, false);
    assert_eq!(st, 422, "{report}");
    let at: Vec<(u64, &str)> = report["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["column"].as_str().unwrap()))
        .collect();
    assert_eq!(at, [(3, "role"), (4, "agency")], "{report}");
    let (st, report) = import(&s, &kepala, "username,display_name\nsari,Sari\n", false);
    assert_eq!(st, 200, "{report}");
    let (_, users) = s.get("/v1/admin/users", Some(&kepala.token));
    let sari = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "sari")
        .unwrap_or_else(|| panic!("{users}"))
        .clone();
    let (_, me) = s.get("/v1/admin/users", Some(&admin.token));
    let kepala_row = me
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "kepala")
        .unwrap()
        .clone();
    assert_eq!(
        sari["agency_id"], kepala_row["agency_id"],
        "their own agency"
    );
    assert_eq!(sari["role"], "officer");
}
