//! Assignments in bulk: a CSV file of `household_id,officer[,reason]` is checked row by row
//! and applied whole, in one transaction, or not at all, with a report naming the line and
//! column of each refused row.

use kampung_sync::auth::Role;
use kampung_sync_tests::*;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::merge::{hold_record_lock, release};

kampung_sync_tests::on_both_backends!(
    a_file_assigns_every_household_and_the_officers_devices_then_pull_them,
    a_file_with_bad_rows_writes_nothing_and_reports_each_with_its_line_and_column,
    a_dry_run_writes_nothing_and_reports_the_counts_the_import_then_has,
    an_agency_admins_file_reaching_another_agency_is_refused_row_by_row,
    a_file_racing_the_old_officers_push_moves_every_edit_one_way,
);

/// `n` households of the regency, each with one visit, pushed by its administrator.
fn households(s: &TestServer, admin: &mut Device, n: usize) -> Vec<Uuid> {
    let ids: Vec<Uuid> = (0..n).map(|_| Uuid::now_v7()).collect();
    let mut ops = Vec::new();
    for h in &ids {
        let seq = admin.next_seq();
        ops.push(put_household(seq, *h, 0, None, "Siti"));
        let seq = admin.next_seq();
        ops.push(json!({
            "seq": seq, "collection": "visits", "kind": "put", "record_id": Uuid::now_v7(),
            "hlc": {"wall_ms": now_ms(), "counter": 0},
            "fields": {"household_id": h, "visited_at": "2026-11-28T09:05:00+07:00",
                       "outcome": "completed"}
        }));
    }
    let resp = admin.push_ok(s, ops);
    assert_eq!(statuses(&resp), vec!["applied"; 2 * n], "{resp}");
    ids
}

fn import(s: &TestServer, by: &Device, csv: &str, dry_run: bool) -> (u16, Value) {
    s.post_raw(
        &format!("/v1/admin/assignments/import?dry_run={dry_run}"),
        Some(&by.token),
        &[("Content-Type", "text/csv")],
        csv.as_bytes().to_vec(),
    )
}

fn assign(s: &TestServer, by: &Device, household: Uuid, officer: &str) {
    let (st, body) = s.post(
        "/v1/admin/assignments",
        Some(&by.token),
        &json!({"household_id": household, "officer_id": officer, "reason": "first visit due"}),
    );
    assert_eq!(st, 200, "{body}");
}

/// The household each active assignment names, with its officer and reason, sorted.
fn active(s: &TestServer, by: &Device) -> Vec<(String, String, String)> {
    let (st, list) = s.get("/v1/admin/assignments?active=true", Some(&by.token));
    assert_eq!(st, 200, "{list}");
    assert_eq!(list["next_cursor"], Value::Null, "one page: {list}");
    let mut out: Vec<(String, String, String)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["household_id"].as_str().unwrap().to_owned(),
                a["officer_id"].as_str().unwrap().to_owned(),
                a["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
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

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// `(line, column)` of each refused row.
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

fn a_file_assigns_every_household_and_the_officers_devices_then_pull_them(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut admin = Device::new(&s, "regency");
    let h = households(&s, &mut admin, 4);
    let mut dewi = Device::officer(&s, "dewi");
    let mut budi = Device::officer(&s, "budi");
    assign(&s, &admin, h[2], &budi.user_id);
    assign(&s, &admin, h[3], &dewi.user_id);
    assert_eq!(budi.pull_all(&s).len(), 2);
    assert_eq!(dewi.pull_all(&s).len(), 2);

    // By user name in any case or by user id; a reason quoted, empty, or left out.
    let csv = format!(
        "household_id,officer,reason\r\n{},dewi,\"first visit, due\"\r\n{},{},\r\n{},Dewi,officer moved\r\n{},dewi\r\n",
        h[0], h[1], budi.user_id, h[2], h[3]
    );
    let (st, report) = import(&s, &admin, &csv, false);
    assert_eq!(st, 200, "{report}");
    assert_eq!(
        report,
        json!({"rows": 4, "assigned": 3, "unchanged": 1, "refused": [], "dry_run": false})
    );
    let d = dewi.user_id.clone();
    let bu = budi.user_id.clone();
    let mut want = vec![
        (h[0].to_string(), d.clone(), "first visit, due".to_owned()),
        (h[1].to_string(), bu.clone(), "bulk assignment".to_owned()),
        (h[2].to_string(), d.clone(), "officer moved".to_owned()),
        (h[3].to_string(), d.clone(), "first visit due".to_owned()),
    ];
    want.sort();
    assert_eq!(active(&s, &admin), want);

    let pulled = dewi.pull_all(&s);
    assert_eq!(
        households_in(&pulled),
        sorted(vec![h[0].to_string(), h[2].to_string()]),
        "the households new to Dewi, each with its visit: {pulled:?}"
    );
    assert_eq!(pulled.len(), 4);
    let (st, page) = budi.pull_page(&s, None);
    assert_eq!(st, 200, "{page}");
    let changes = page["changes"].as_array().unwrap().clone();
    assert_eq!(households_in(&changes), [h[1].to_string()], "{page}");
    let removed: Vec<&str> = page["removals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["collection"] == "households")
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        removed,
        [h[2].to_string()],
        "the household moved away: {page}"
    );

    let (_, log) = s.get(
        "/v1/admin/audit?action=assignments_imported",
        Some(&admin.token),
    );
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 1, "one entry for the file: {log:?}");
    assert_eq!(
        log[0]["detail"],
        json!({"rows": 4, "assigned": 3, "unchanged": 1})
    );
    assert_eq!(log[0]["actor_user_id"], admin.user_id.as_str());
}

fn a_file_with_bad_rows_writes_nothing_and_reports_each_with_its_line_and_column(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut admin = Device::new(&s, "regency");
    let h = households(&s, &mut admin, 4);
    let mut dewi = Device::officer(&s, "dewi");
    Device::officer(&s, "budi");
    let csv = [
        "household_id,officer".to_owned(),
        format!("{},dewi", h[0]),
        format!("{},dewi", Uuid::now_v7()),
        format!("{},nobody", h[1]),
        format!("{},regency", h[2]),
        format!("{},budi", h[0]),
        h[3].to_string(),
        "rumah-12,dewi".to_owned(),
        format!("{},dewi,extra", Uuid::now_v7()),
    ]
    .join("\n");
    let (st, report) = import(&s, &admin, &csv, false);
    assert_eq!(st, 422, "{report}");
    assert_eq!(report["error"]["code"], "import_refused", "{report}");
    assert_eq!(
        (&report["rows"], &report["assigned"], &report["unchanged"]),
        (&json!(8), &json!(0), &json!(0)),
        "{report}"
    );
    let col = |c: &str| Some(c.to_owned());
    assert_eq!(
        refused_at(&report),
        [
            (3, col("household_id")),
            (4, col("officer")),
            (5, col("officer")),
            (6, col("household_id")),
            (7, col("officer")),
            (8, col("household_id")),
            (9, None),
        ],
        "{report}"
    );
    let reason = |i: usize| report["refused"][i]["reason"].as_str().unwrap().to_owned();
    assert!(reason(0).contains("no household"), "{report}");
    assert!(reason(1).contains("no user nobody"), "{report}");
    assert!(reason(2).contains("not an officer"), "{report}");
    assert!(
        reason(3).contains("line 2"),
        "the first line is named: {report}"
    );
    assert!(reason(4).contains("missing"), "{report}");

    assert!(active(&s, &admin).is_empty(), "nothing was written");
    assert_eq!(
        db.scalar("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM assignments"),
        0
    );
    assert!(
        dewi.pull_all(&s).is_empty(),
        "not even the good row's household"
    );
    let (_, log) = s.get(
        "/v1/admin/audit?action=assignments_imported",
        Some(&admin.token),
    );
    assert!(log.as_array().unwrap().is_empty(), "{log}");

    // The header decides the columns.
    let (st, report) = import(
        &s,
        &admin,
        &format!("household_id,reason\n{},x", h[0]),
        false,
    );
    assert_eq!(st, 422, "{report}");
    assert_eq!(refused_at(&report), [(1, col("officer"))], "{report}");
    let (st, report) = import(&s, &admin, "", false);
    assert_eq!(
        (st, refused_at(&report)),
        (422, vec![(1, None)]),
        "{report}"
    );

    // Only CSV, and only from administrators.
    let (st, body) = s.post_raw(
        "/v1/admin/assignments/import",
        Some(&admin.token),
        &[("Content-Type", "application/json")],
        json!({"household_id": h[0]}).to_string().into_bytes(),
    );
    assert_eq!(
        (st, body["error"]["code"].as_str()),
        (415, Some("unsupported_media_type"))
    );
    let (st, body) = s.post_raw(
        "/v1/admin/assignments/import?dry_run=yes",
        Some(&admin.token),
        &[("Content-Type", "text/csv; charset=utf-8")],
        format!("household_id,officer\n{},dewi", h[0]).into_bytes(),
    );
    assert_eq!(
        (st, body["error"]["code"].as_str()),
        (400, Some("invalid_query"))
    );
    let (st, body) = import(
        &s,
        &dewi,
        &format!("household_id,officer\n{},dewi", h[0]),
        false,
    );
    assert_eq!(
        (st, body["error"]["code"].as_str()),
        (403, Some("forbidden_role"))
    );
    assert!(active(&s, &admin).is_empty());
}

fn a_dry_run_writes_nothing_and_reports_the_counts_the_import_then_has(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut admin = Device::new(&s, "regency");
    let h = households(&s, &mut admin, 3);
    let mut dewi = Device::officer(&s, "dewi");
    assign(&s, &admin, h[2], &dewi.user_id);
    dewi.pull_all(&s);
    let csv = format!(
        "officer,household_id\ndewi,{}\ndewi,{}\ndewi,{}\n",
        h[0], h[1], h[2]
    );
    let before = active(&s, &admin);
    let (st, dry) = import(&s, &admin, &csv, true);
    assert_eq!(st, 200, "{dry}");
    assert_eq!(
        dry,
        json!({"rows": 3, "assigned": 2, "unchanged": 1, "refused": [], "dry_run": true})
    );
    assert_eq!(active(&s, &admin), before, "a dry run writes nothing");
    assert!(dewi.pull_all(&s).is_empty());
    let (_, log) = s.get(
        "/v1/admin/audit?action=assignments_imported",
        Some(&admin.token),
    );
    assert!(log.as_array().unwrap().is_empty(), "{log}");

    let bad = format!("{csv}nobody,{}\n", Uuid::now_v7());
    let (st, refused) = import(&s, &admin, &bad, true);
    assert_eq!(st, 422, "{refused}");
    assert_eq!(refused["dry_run"], true);
    assert_eq!(refused_at(&refused), [(5, Some("household_id".to_owned()))]);

    let (st, done) = import(&s, &admin, &csv, false);
    assert_eq!(st, 200, "{done}");
    assert_eq!(
        done,
        json!({"rows": 3, "assigned": 2, "unchanged": 1, "refused": [], "dry_run": false})
    );
    assert_eq!(active(&s, &admin).len(), 3);
    assert_eq!(dewi.pull_all(&s).len(), 4);
}

fn an_agency_admins_file_reaching_another_agency_is_refused_row_by_row(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut admin = Device::new(&s, "regency");
    let h = households(&s, &mut admin, 4);
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
    let rina = rina["id"].as_str().unwrap().to_owned();
    let dewi = Device::officer(&s, "dewi");
    let kepala = Device::with_role(&s, "kepala", Role::AgencyAdmin);
    assign(&s, &admin, h[2], &rina);

    let csv = format!(
        "household_id,officer\n{},dewi\n{},rina\n{},{}\n{},dewi\n",
        h[0], h[1], h[3], rina, h[2]
    );
    let (st, report) = import(&s, &kepala, &csv, false);
    assert_eq!(st, 422, "{report}");
    assert_eq!(
        refused_at(&report),
        [
            (3, Some("officer".to_owned())),
            (4, Some("officer".to_owned())),
            (5, Some("household_id".to_owned())),
        ],
        "another agency's officer, by name and by id, and another agency's household: {report}"
    );
    assert!(
        report["refused"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("another agency")
    );
    assert!(
        report["refused"][2]["reason"]
            .as_str()
            .unwrap()
            .contains("another agency")
    );
    assert_eq!(active(&s, &admin).len(), 1, "only the one made before");

    let (st, report) = import(
        &s,
        &kepala,
        &format!("household_id,officer\n{},{}\n", h[0], dewi.user_id),
        false,
    );
    assert_eq!(st, 200, "{report}");
    assert_eq!(report["assigned"], 1);
    let (_, mine) = s.get(
        &format!("/v1/admin/assignments?household_id={}", h[0]),
        Some(&kepala.token),
    );
    assert_eq!(
        mine["items"][0]["assigned_by"],
        kepala.user_id.as_str(),
        "{mine}"
    );
}

fn a_file_racing_the_old_officers_push_moves_every_edit_one_way(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut admin = Device::new(&s, "regency");
    let h = households(&s, &mut admin, 20);
    let epoch = admin.push_ok(&s, vec![])["epoch"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut dewi = Device::officer(&s, "dewi");
    let mut budi = Device::officer(&s, "budi");
    let mut csv = String::from("household_id,officer\n");
    for x in &h {
        assign(&s, &admin, *x, &dewi.user_id);
        csv.push_str(&format!("{x},budi\n"));
    }
    assert_eq!(dewi.pull_all(&s).len(), 40);
    // Dewi's offline edits of all twenty, pushed as the file that moves them to Budi is
    // imported: both are one transaction each, so every edit goes the same way.
    let edits: Vec<Value> = h
        .iter()
        .enumerate()
        .map(|(i, x)| {
            patch_household(
                i as u64 + 1,
                *x,
                1,
                Some(&epoch),
                json!({"notes": "atap bocor"}),
            )
        })
        .collect();

    let mut lock = db.connect();
    hold_record_lock(&mut lock, b, h[0]);
    let (push, moved) = std::thread::scope(|sc| {
        let push = sc.spawn(|| dewi.push(&s, edits));
        match b {
            Backend::Postgres => wait_until("the push waits for the household's row", || {
                pg_lock_waiters(&mut db.connect()) >= 1
            }),
            Backend::Sqlite => wait_until("the push waits for the write lock", || {
                s.write_lock_waiters() >= 1
            }),
        }
        let moved = sc.spawn(|| import(&s, &admin, &csv, false));
        match b {
            Backend::Postgres => wait_until("the import waits for the push", || {
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
    assert_eq!(moved.1["assigned"], 20, "{}", moved.1);
    let outcomes: Vec<String> = push.1["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["error"]["code"]
                .as_str()
                .unwrap_or(r["status"].as_str().unwrap())
                .to_owned()
        })
        .collect();
    let first = outcomes[0].clone();
    assert!(
        outcomes.iter().all(|o| *o == first),
        "one batch against one file: every edit the same way, {outcomes:?}"
    );
    let held = db.scalar("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM held_writes");
    let taken = budi.pull_all(&s);
    assert_eq!(households_in(&taken).len(), 20);
    let notes: Vec<&Value> = taken
        .iter()
        .filter(|r| r["collection"] == "households")
        .map(|r| &r["fields"]["notes"])
        .collect();
    match first.as_str() {
        "applied" => {
            assert!(
                notes.iter().all(|n| **n == json!("atap bocor")),
                "{notes:?}"
            );
            assert_eq!(held, 0);
        }
        "out_of_scope" => {
            assert!(notes.iter().all(|n| n.is_null()), "{notes:?}");
            assert_eq!(held, 20, "each edit kept for review, none applied");
        }
        other => panic!("unexpected outcome {other}: {}", push.1),
    }
    let gone: Vec<Value> = {
        let mut out = Vec::new();
        loop {
            let (st, page) = dewi.pull_page(&s, None);
            assert_eq!(st, 200, "{page}");
            out.extend(page["removals"].as_array().unwrap().iter().cloned());
            dewi.cursor = page["cursor"].as_str().map(str::to_owned);
            if page["has_more"] != json!(true) {
                break out;
            }
        }
    };
    assert_eq!(
        gone.len(),
        40,
        "every household and visit leaves Dewi's device"
    );
}
