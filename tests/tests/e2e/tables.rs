//! The typed query tables follow every write, in the batch's transaction, and a rebuild
//! from the merge state gives the same rows.

use kampung_sync::db;
use kampung_sync_tests::*;
use serde_json::{Value, json};
use uuid::Uuid;

kampung_sync_tests::on_both_backends!(
    the_typed_tables_follow_every_write_and_a_rebuild_gives_the_same,
);

fn the_typed_tables_follow_every_write_and_a_rebuild_gives_the_same(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut dewi = Device::officer(&s, "dewi");
    let mut admin = Device::new(&s, "regency");
    let household = Uuid::now_v7();
    let (visit, amending, aid) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let t = |seq: u64, collection: &str, id: Uuid, fields: Value| {
        json!({"seq": seq, "collection": collection, "kind": "put", "record_id": id,
               "hlc": {"wall_ms": now_ms(), "counter": 0}, "fields": fields})
    };
    // The amending visit arrives before the one it amends (another device's order).
    let resp = dewi.push_ok(
        &s,
        vec![
            put_household(1, household, 0, None, "Siti"),
            t(
                2,
                "visits",
                amending,
                json!({"household_id": household, "visited_at": "2026-11-29T10:00:00+07:00",
                 "outcome": "completed", "amends": visit, "pangan_score": 3}),
            ),
            t(
                3,
                "visits",
                visit,
                json!({"household_id": household, "visited_at": "2026-11-28T09:05:00+07:00",
                 "outcome": "completed", "pangan_score": 2, "gps_lat": -8.2, "gps_lon": 114.3,
                 "gps_accuracy_m": 12.0, "gps_mock": false}),
            ),
            t(
                4,
                "aid",
                aid,
                json!({"household_id": household, "given_at": "2026-11-28T09:30:00+07:00",
                 "kind": "beras", "quantity": 10.0, "unit": "kg", "value_rupiah": 150000}),
            ),
        ],
    );
    assert_eq!(statuses(&resp), ["applied"; 4], "{resp}");
    dewi.seq = 4;
    let epoch = resp["epoch"].as_str().unwrap().to_owned();
    // A void, and two concurrent edits of the head's name (a conflict).
    let void = json!({"seq": 5, "collection": "aid", "kind": "delete", "record_id": aid,
                      "ctx": {"epoch": epoch, "vv": {"server": 1}}, "hlc": {"wall_ms": now_ms(), "counter": 0}});
    let rename = patch_household(
        6,
        household,
        1,
        Some(&epoch),
        json!({"head_name": "Siti Aminah"}),
    );
    dewi.push_ok(&s, vec![void, rename]);
    let seq = admin.next_seq();
    let other = patch_household(
        seq,
        household,
        1,
        Some(&epoch),
        json!({"head_name": "Sitti Aminah"}),
    );
    let resp = admin.push_ok(&s, vec![other]);
    assert_eq!(statuses(&resp), ["conflict"], "{resp}");

    let mut conn = db.connect();
    let one = |sql: &str| db.scalar(sql);
    assert_eq!(
        one(&format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM q_visits WHERE id = '{visit}' \
             AND pangan_score = 2 AND gps_mock = false AND outcome = 'completed' \
             AND user_id = '{}' AND agency_id = '{AGENCY}' AND device_id = '{}'",
            dewi.user_id, dewi.id
        )),
        1,
        "the visit's row names its officer, agency and device, from the token's device"
    );
    assert_eq!(
        one(&format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM q_visits WHERE id = '{amending}' AND amends = '{visit}'"
        )),
        1
    );
    assert_eq!(
        one(&format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM q_aid WHERE id = '{aid}' AND voided = true \
             AND value_rupiah = 150000 AND user_id = '{}'",
            dewi.user_id
        )),
        1,
        "a void stays, marked, with who gave the aid"
    );
    assert_eq!(
        one(&format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM q_households WHERE id = '{household}' \
             AND conflicted = true AND desa_code = '3510010001' AND kecamatan_code = '3510010'"
        )),
        1
    );
    assert_eq!(
        one(&format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM q_households WHERE id = '{household}' \
             AND visit_count = 2 AND aid_count = 0 AND aid_value_rupiah = 0 \
             AND last_completed_visit_at = '2026-11-29T03:00:00.000Z'"
        )),
        1,
        "totals leave the voided aid out; the latest completed visit is in UTC"
    );
    assert_eq!(
        one(&format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM q_visits WHERE id = '{visit}' \
             AND distance_m IS NULL"
        )),
        1,
        "a household without a home point gives its visits no distance"
    );
    assert_eq!(
        db::typed_tables::verify(&mut conn).unwrap(),
        Vec::<String>::new()
    );

    // A damaged row is found, and a rebuild puts it right.
    db.execute(&format!(
        "UPDATE q_visits SET outcome = 'refused' WHERE id = '{visit}'"
    ));
    db.execute(&format!("DELETE FROM q_aid WHERE id = '{aid}'"));
    // And derived columns: a distance, and a household's totals.
    db.execute(&format!(
        "UPDATE q_visits SET distance_m = 1.0 WHERE id = '{amending}'"
    ));
    db.execute(&format!(
        "UPDATE q_households SET visit_count = 7 WHERE id = '{household}'"
    ));
    let found = db::typed_tables::verify(&mut conn).unwrap();
    assert_eq!(found.len(), 4, "{found:#?}");
    assert!(
        found
            .iter()
            .any(|d| d.contains(&amending.to_string()) && d.contains("distance_m: Some(1.0)"))
    );
    assert!(
        found
            .iter()
            .any(|d| d.contains(&household.to_string()) && d.contains("visit_count: 7"))
    );
    assert!(found.iter().any(|d| d.contains(&visit.to_string())));
    assert!(
        found
            .iter()
            .any(|d| d.contains(&aid.to_string()) && d.contains("missing"))
    );
    let n = db::write_tx(&mut conn, db::typed_tables::rebuild).unwrap();
    assert_eq!(n, 4);
    assert_eq!(
        db::typed_tables::verify(&mut conn).unwrap(),
        Vec::<String>::new()
    );
}
