//! Households in bulk from a registry's CSV file: checked row by row with the households
//! schema, written whole through the administrator's console device or not at all, with
//! rows already registered (or repeated) skipped so a file can be run again.

use kampung_sync::auth::Role;
use kampung_sync::config::PiiArgs;
use kampung_sync::service::{admin, identity};
use kampung_sync_tests::*;
use serde_json::{Value, json};

kampung_sync_tests::on_both_backends!(
    a_file_registers_and_assigns_households_and_running_it_again_changes_nothing,
    a_file_with_bad_rows_writes_nothing_and_a_dry_run_writes_nothing_either,
    an_agency_admin_imports_for_their_own_officers_only,
    the_command_line_import_acts_as_an_administrator_and_reports_progress,
    a_family_is_registered_once_by_its_kk_and_its_numbers_are_sealed_not_synced,
);

const HEADER: &str = "registry_id,registry_source,head_name,desa_code,dusun,rt,rw,address,\
                      welfare_decile,home_lat,home_lon,status,phone,officer,kk,nik";

fn import(s: &TestServer, by: &Device, csv: &str, dry_run: bool) -> (u16, Value) {
    s.post_raw(
        &format!("/v1/admin/households/import?dry_run={dry_run}"),
        Some(&by.token),
        &[("Content-Type", "text/csv")],
        csv.as_bytes().to_vec(),
    )
}

fn count(db: &TestDb, table: &str) -> i64 {
    db.scalar(&format!(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM {table}"
    ))
}

fn refused_at(report: &Value) -> Vec<(u64, Option<String>)> {
    report["refused"]
        .as_array()
        .unwrap_or_else(|| panic!("no refused rows: {report}"))
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["column"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn a_file_registers_and_assigns_households_and_running_it_again_changes_nothing(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let admin = Device::new(&s, "regency");
    let mut dewi = Device::officer(&s, "dewi");
    let csv = format!(
        "{HEADER}\n\
         DT-1,DTKS,Siti Aminah,3510010001,Krajan,1,002,\"Jl. Mawar 1, Krajan\",2,-8.5,114.2,,0812,dewi,3510010101010001,\n\
         DT-2,dtks,Budi,3510010001,,,,,,,,,,,,\n\
         DT-1,dtks,Siti again,3510010001,,,,,,,,,,dewi,,\n"
    );
    let (st, report) = import(&s, &admin, &csv, false);
    assert_eq!(st, 200, "{report}");
    assert_eq!(
        (&report["rows"], &report["created"], &report["assigned"]),
        (&json!(3), &json!(2), &json!(1)),
        "{report}"
    );
    assert_eq!(report["duplicates"][0]["line"], 4, "{report}");
    assert_eq!(report["duplicates"][0]["of"], "repeated", "{report}");
    assert_eq!(count(&db, "q_households"), 2);
    assert_eq!(count(&db, "assignments"), 1);

    let pulled = dewi.pull_all(&s);
    assert_eq!(pulled.len(), 1, "Dewi's household only: {pulled:?}");
    let h = &pulled[0];
    assert_eq!(h["fields"]["head_name"], "Siti Aminah");
    assert_eq!(h["fields"]["registry_source"], "dtks");
    assert_eq!(h["fields"]["rt"], "001", "leading zeros restored");
    assert_eq!(h["fields"]["status"], "active", "the default status");
    assert_eq!(h["fields"]["welfare_decile"], 2);
    assert!(
        h["fields"].get("kk").is_none(),
        "KK numbers never reach a device: {h}"
    );
    let id = h["id"].as_str().unwrap().to_owned();
    assert_eq!(report["duplicates"][0]["household_id"], id.as_str());

    // Written by the admin's console device, as any device write.
    let (_, read) = s.get(
        &format!("/v1/admin/records/households/{id}"),
        Some(&admin.token),
    );
    assert_eq!(read["record"]["version"], 1, "{read}");

    // Again: every row is a duplicate of what is registered; nothing changes.
    let (st, again) = import(&s, &admin, &csv, false);
    assert_eq!(st, 200, "{again}");
    assert_eq!(
        (&again["created"], &again["assigned"]),
        (&json!(0), &json!(0))
    );
    let of: Vec<&str> = again["duplicates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["of"].as_str().unwrap())
        .collect();
    assert_eq!(of, ["registered", "registered", "registered"], "{again}");
    assert_eq!(count(&db, "q_households"), 2);
    assert!(dewi.pull_all(&s).is_empty());

    let (_, log) = s.get(
        "/v1/admin/audit?action=households_imported",
        Some(&admin.token),
    );
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(
        log[0]["detail"],
        json!({"rows": 3, "created": 2, "assigned": 1, "duplicates": 1})
    );
}

fn a_file_with_bad_rows_writes_nothing_and_a_dry_run_writes_nothing_either(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let admin = Device::new(&s, "regency");
    Device::officer(&s, "dewi");
    let good = "DT-1,dtks,Siti,3510010001";
    let csv = [
        "registry_id,registry_source,head_name,desa_code,welfare_decile,home_lat,officer",
        good,
        "DT-2,dtks,,3510010001",
        "DT-3,bpjs,Ani,3510010001",
        "DT-4,dtks,Ani,9999999999",
        "DT-5,dtks,Ani,3510010001,eleven",
        "DT-6,dtks,Ani,3510010001,11",
        "DT-7,dtks,Ani,3510010001,,north",
        "DT-8,dtks,Ani,3510010001,,,nobody",
        "DT-9,dtks,Ani,3510010001,,,,extra",
    ]
    .join("\n");
    let (st, report) = import(&s, &admin, &csv, false);
    assert_eq!(st, 422, "{report}");
    assert_eq!(report["error"]["code"], "import_refused");
    assert_eq!(report["created"], 0);
    let col = |c: &str| Some(c.to_owned());
    assert_eq!(
        refused_at(&report),
        [
            (3, col("head_name")),
            (4, col("registry_source")),
            (5, col("desa_code")),
            (6, col("welfare_decile")),
            (7, col("welfare_decile")),
            (8, col("home_lat")),
            (9, col("officer")),
            (10, None),
        ],
        "{report}"
    );
    assert_eq!(count(&db, "records"), 0, "not even the good row");

    let (st, report) = import(&s, &admin, "registry_id,head_name\nDT-1,Siti\n", false);
    assert_eq!(
        (st, refused_at(&report)),
        (422, vec![(1, col("registry_source"))])
    );

    let csv = format!("registry_id,registry_source,head_name,desa_code,officer\n{good},dewi\n");
    let (st, dry) = import(&s, &admin, &csv, true);
    assert_eq!(st, 200, "{dry}");
    assert_eq!(
        (&dry["created"], &dry["assigned"], &dry["dry_run"]),
        (&json!(1), &json!(1), &json!(true))
    );
    assert_eq!(count(&db, "records"), 0);
    assert_eq!(count(&db, "assignments"), 0);
    let (st, done) = import(&s, &admin, &csv, false);
    assert_eq!((st, &done["created"]), (200, &json!(1)), "{done}");
}

fn an_agency_admin_imports_for_their_own_officers_only(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let admin = Device::new(&s, "regency");
    let mut dewi = Device::officer(&s, "dewi");
    let (_, agency) = s.post(
        "/v1/admin/agencies",
        Some(&admin.token),
        &json!({"name": "SMPN 2 Rogojampi", "kind": "school"}),
    );
    let (st, rina) = s.post(
        "/v1/admin/users",
        Some(&admin.token),
        &json!({"username": "rina", "display_name": "Rina", "role": "officer",
                "agency_id": agency["id"], "password": PASSWORD}),
    );
    assert_eq!(st, 201, "{rina}");
    let kepala = Device::with_role(&s, "kepala", Role::AgencyAdmin);

    let (st, report) = import(
        &s,
        &kepala,
        "registry_id,registry_source,head_name,desa_code\nDT-1,dtks,Siti,3510010001\n",
        false,
    );
    assert_eq!(
        (st, refused_at(&report)),
        (422, vec![(1, Some("officer".to_owned()))]),
        "{report}"
    );
    let csv = "registry_id,registry_source,head_name,desa_code,officer\n\
               DT-1,dtks,Siti,3510010001,dewi\nDT-2,dtks,Budi,3510010001,rina\nDT-3,dtks,Ani,3510010001,\n";
    let (st, report) = import(&s, &kepala, csv, false);
    assert_eq!(st, 422, "{report}");
    assert_eq!(
        refused_at(&report),
        [
            (3, Some("officer".to_owned())),
            (4, Some("officer".to_owned()))
        ],
        "{report}"
    );
    assert!(
        report["refused"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("another agency")
    );

    let (st, report) = import(
        &s,
        &kepala,
        "registry_id,registry_source,head_name,desa_code,officer\nDT-1,dtks,Siti,3510010001,dewi\n",
        false,
    );
    assert_eq!((st, &report["created"]), (200, &json!(1)), "{report}");
    let pulled = dewi.pull_all(&s);
    assert_eq!(pulled.len(), 1, "{pulled:?}");
    let (st, read) = s.get(
        &format!(
            "/v1/admin/records/households/{}",
            pulled[0]["id"].as_str().unwrap()
        ),
        Some(&kepala.token),
    );
    assert_eq!(st, 200, "the agency admin sees what they imported: {read}");
}

fn the_command_line_import_acts_as_an_administrator_and_reports_progress(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let admin = Device::new(&s, "regency");
    let mut conn = db.connect();
    let mut csv = String::from("registry_id,registry_source,head_name,desa_code\n");
    for i in 0..2500 {
        csv.push_str(&format!("P-{i},p3ke,Kepala {i},3510010001\n"));
    }
    let keys = identity::open_keys(&mut conn, &PiiArgs::default(), &db.data_dir(), false).unwrap();
    let mut seen = Vec::new();
    let report = admin::import_households_as(
        &mut conn,
        &keys,
        "Regency",
        csv.as_bytes(),
        false,
        &mut |p| seen.push(p),
    )
    .unwrap();
    assert_eq!((report.created, report.refused.len()), (2500, 0));
    let last = seen.last().unwrap();
    assert_eq!(
        (last.rows, last.validated, last.written),
        (2500, 2500, 2500)
    );
    assert!(
        seen.iter().any(|p| p.written == 1000),
        "a line per batch: {seen:?}"
    );
    assert_eq!(count(&db, "q_households"), 2500);
    let (_, devices) = s.get("/v1/admin/devices", Some(&admin.token));
    let console = devices["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "console")
        .unwrap_or_else(|| panic!("{devices}"))
        .clone();
    assert_eq!(console["last_seq"], 2500, "one operation per household");

    let officer = s.ensure_user("dewi", Role::Officer);
    let _ = officer;
    let e =
        admin::import_households_as(&mut conn, &keys, "dewi", csv.as_bytes(), true, &mut |_| {})
            .unwrap_err();
    assert_eq!(e.code().as_str(), "forbidden_role");
}

fn a_family_is_registered_once_by_its_kk_and_its_numbers_are_sealed_not_synced(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let admin = Device::new(&s, "regency");
    let mut dewi = Device::officer(&s, "dewi");
    let (kk, nik) = ("3510010101010001", "3510014107800002");
    // The same family under two registries: registered once, by its KK.
    let csv = format!(
        "{HEADER}\n\
         DT-1,dtks,Siti Aminah,3510010001,,,,,,,,,,dewi,{kk},{nik}\n\
         P3-9,p3ke,Siti A.,3510010001,,,,,,,,,,dewi,3510-0101-0101-0001,\n"
    );
    let (st, report) = import(&s, &admin, &csv, false);
    assert_eq!(st, 200, "{report}");
    assert_eq!(report["created"], 1, "{report}");
    assert_eq!(report["duplicates"][0]["line"], 3, "{report}");
    assert_eq!(report["duplicates"][0]["of"], "repeated_kk", "{report}");
    let first = report["duplicates"][0]["household_id"].clone();
    let (st, found) = s.post(
        "/v1/admin/households/lookup",
        Some(&admin.token),
        &json!({"kk": kk}),
    );
    assert_eq!(st, 200, "{found}");
    assert!(
        found.to_string().contains(first.as_str().unwrap()),
        "{found}"
    );

    // A later file: the family again under a third registry is skipped; a new family whose
    // head has the first family's NIK refuses the file, naming no number.
    let csv = format!(
        "{HEADER}\n\
         LC-1,local,Siti,3510010001,,,,,,,,,,dewi,{kk},\n\
         LC-2,local,Rina,3510010001,,,,,,,,,,dewi,3510010101019999,{nik}\n\
         LC-3,local,Ana,3510010001,,,,,,,,,,dewi,12345,\n"
    );
    let (st, report) = import(&s, &admin, &csv, false);
    assert_eq!(st, 422, "{report}");
    assert_eq!(
        refused_at(&report),
        [(3, Some("nik".to_owned())), (4, Some("kk".to_owned()))],
        "{report}"
    );
    assert_eq!(report["duplicates"][0]["of"], "registered_kk", "{report}");
    assert_eq!(report["duplicates"][0]["household_id"], first, "{report}");
    let text = report.to_string();
    assert!(!text.contains(nik) && !text.contains("3510010101019999") && !text.contains(kk));
    assert_eq!(
        count(&db, "q_households"),
        1,
        "nothing of the refused file written"
    );
    assert_eq!(count(&db, "household_identity"), 1);

    let pulled = dewi.pull_all(&s);
    assert_eq!(pulled.len(), 1);
    let synced = serde_json::to_string(&pulled).unwrap();
    assert!(
        !synced.contains(kk) && !synced.contains(nik),
        "the numbers never go to a device: {synced}"
    );
    let stored = db.scalar(&format!(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM household_identity \
         WHERE kk_cipher LIKE '%{kk}%' OR nik_cipher LIKE '%{nik}%' OR kk_index = '{kk}'"
    ));
    assert_eq!(stored, 0, "sealed, not stored as they are");
}
