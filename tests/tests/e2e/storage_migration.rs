//! The record-state migration on a database that the release before it wrote: one row per
//! register value becomes one state per record, nothing lost, no change re-stamped, and the
//! server serves the migrated records.

use std::collections::BTreeMap;

use diesel::connection::SimpleConnection;
use kampung_sync::db::{self, AnyConnection, Backend as DbBackend};
use kampung_sync_tests::{Backend, Device, TestDb, TestServer, on_both_backends, scalar};
use serde_json::{Value, json};
use sync_protocol::memory::MemoryServer;
use sync_protocol::wire::ReceivedOp;
use sync_protocol::{ApplyEnv, DeviceId, Epoch, Hlc, RecordId, RecordState};
use uuid::Uuid;

const RECORD_STATE: &str = "2026-12-01-000000";
const NOW: u64 = 1_795_000_000_000;

fn received(op: Value) -> ReceivedOp {
    ReceivedOp::parse(0, op).unwrap()
}

/// Record states with what the old storage had to keep: a conflict of two values, a delete
/// concurrent with an update (two existence values), a skewed clock, an append-only visit.
fn states_worth_migrating(epoch: Epoch) -> Vec<RecordState> {
    let mut server = MemoryServer::new(epoch);
    let env = ApplyEnv {
        epoch,
        now: Hlc::at(NOW),
        max_drift_ms: 5 * 60_000,
    };
    let (a, b) = (DeviceId(Uuid::now_v7()), DeviceId(Uuid::now_v7()));
    let (house, visit, other) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let put = |seq: u64, id: Uuid, name: &str| {
        json!({"seq": seq, "collection": "households", "record_id": id, "kind": "put",
               "hlc": {"wall_ms": NOW - 1000 + seq, "counter": 0},
               "fields": {"head_name": name, "desa_code": "3510010001", "status": "active"}})
    };
    server.push(
        a,
        &env,
        vec![
            received(put(1, house, "Siti")),
            received(put(2, other, "Budi")),
        ],
    );
    let seen = |v: u64| json!({"vv": {"server": v}, "epoch": epoch});
    server.push(
        a,
        &env,
        vec![received(
            json!({"seq": 3, "collection": "households", "record_id": house,
            "kind": "patch", "ctx": seen(1), "hlc": {"wall_ms": NOW - 500, "counter": 0},
            "fields": {"phone": "081234"}}),
        )],
    );
    server.push(
        b,
        &env,
        vec![
            received(
                json!({"seq": 1, "collection": "households", "record_id": house,
                "kind": "patch", "ctx": seen(1), "hlc": {"wall_ms": NOW + 3_600_000, "counter": 2},
                "fields": {"phone": "085555"}}),
            ),
            received(
                json!({"seq": 2, "collection": "households", "record_id": other,
                "kind": "delete", "ctx": seen(1), "hlc": {"wall_ms": NOW - 400, "counter": 0}}),
            ),
            received(
                json!({"seq": 3, "collection": "visits", "record_id": visit, "kind": "put",
                "hlc": {"wall_ms": NOW - 300, "counter": 0},
                "fields": {"household_id": house, "visited_at": "2026-11-20T09:30:00+07:00",
                           "outcome": "completed", "kesehatan_score": 3, "needs": ["beras"]}}),
            ),
        ],
    );
    server.push(
        a,
        &env,
        vec![received(
            json!({"seq": 4, "collection": "households", "record_id": other,
            "kind": "patch", "ctx": seen(1), "hlc": {"wall_ms": NOW - 200, "counter": 0},
            "fields": {"notes": "masih tinggal di sini"}}),
        )],
    );
    let states: Vec<RecordState> = [house, other, visit]
        .into_iter()
        .map(|id| server.record(RecordId(id)).unwrap().clone())
        .collect();
    assert!(
        states[0].conflicted()
            && states[0].registers["phone"]
                .siblings
                .iter()
                .any(|s| s.clock_skew)
    );
    assert_eq!(
        states[1].registers["_exists"].siblings.len(),
        2,
        "delete vs update"
    );
    states
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Writes `states` as the release before the migration stored them: a `records` row with
/// the winners' fields, and a `record_values` row per sibling of every register.
fn write_as_the_previous_release(conn: &mut AnyConnection, b: Backend, states: &[RecordState]) {
    let mut sql = String::new();
    for (i, s) in states.iter().enumerate() {
        let change_seq = if b == Backend::Sqlite {
            i as i64 + 1
        } else {
            0
        };
        sql.push_str(&format!(
            "INSERT INTO records (id, collection, scope_key, version, deleted, conflicted, fields, \
             change_seq, updated_at) VALUES ('{}', '{}', 'regency', {}, {}, {}, {}, {change_seq}, 0);\n",
            s.id,
            s.collection.name(),
            s.version,
            s.deleted(),
            s.conflicted(),
            quote(&Value::Object(s.fields()).to_string()),
        ));
        for (register, reg) in &s.registers {
            for sib in &reg.siblings {
                sql.push_str(&format!(
                    "INSERT INTO record_values VALUES ('{}', '{register}', {}, '{}', {}, {}, {}, {}, {}, {}, {});\n",
                    s.id,
                    sib.dot.server,
                    sib.dot.device,
                    sib.dot.seq,
                    sib.hlc.wall_ms,
                    sib.hlc.counter,
                    sib.order_hlc.wall_ms,
                    sib.order_hlc.counter,
                    sib.clock_skew,
                    quote(&sib.value.to_string()),
                ));
            }
        }
    }
    if b == Backend::Sqlite {
        sql.push_str(&format!(
            "UPDATE sync_meta SET change_seq = {};",
            states.len()
        ));
    }
    conn.batch_execute(&sql).unwrap();
}

fn change_stamps(db: &TestDb) -> BTreeMap<String, (i64, i64)> {
    let mut conn = db.connect();
    let ids: Vec<String> = {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::Text)]
            id: String,
        }
        diesel::sql_query("SELECT id FROM records ORDER BY id")
            .load::<Id>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect()
    };
    ids.into_iter()
        .map(|id| {
            let xid = scalar(
                &mut conn,
                &format!("SELECT change_xid AS n FROM records WHERE id = '{id}'"),
            );
            let seq = scalar(
                &mut conn,
                &format!("SELECT change_seq AS n FROM records WHERE id = '{id}'"),
            );
            (id, (xid, seq))
        })
        .collect()
}

fn record_states_survive_the_migration_from_one_row_per_value(b: Backend) {
    let db = TestDb::new(b);
    let mut conn = db.connect();
    db::migrate_until(&mut conn, RECORD_STATE).unwrap();
    // The previous release's schema: the per-value table is there.
    assert_eq!(
        scalar(
            &mut conn,
            "SELECT CAST(count(*) AS BIGINT) AS n FROM record_values"
        ),
        0
    );
    db::meta::ensure_epoch(&mut conn).unwrap();
    let epoch = db::meta::epoch(&mut conn).unwrap();
    let states = states_worth_migrating(epoch);
    write_as_the_previous_release(&mut conn, b, &states);
    let stamps_before = change_stamps(&db);
    drop(conn);

    let applied = db::migrate(&DbBackend::from_url(&db.url).unwrap()).unwrap();
    assert!(
        applied
            .iter()
            .any(|v| v.starts_with(&RECORD_STATE.replace('-', ""))),
        "the record-state migration ran: {applied:?}"
    );
    assert_eq!(
        change_stamps(&db),
        stamps_before,
        "no change was stamped anew"
    );
    let mut conn = db.connect();
    let ids: Vec<RecordId> = states.iter().map(|s| s.id).collect();
    let loaded = db::records::load_many(&mut conn, &ids).unwrap();
    for s in &states {
        assert_eq!(loaded.get(&s.id), Some(s), "record {} as it was", s.id);
    }

    // The server serves them: a new device pulls each record as the old state showed it.
    let server = TestServer::start(&db);
    let mut device = Device::new(&server, "officer-after-upgrade");
    let pulled = device.pull_all(&server);
    assert_eq!(pulled.len(), states.len());
    for s in &states {
        let view = serde_json::to_value(sync_protocol::wire::RecordView::from(s)).unwrap();
        assert!(pulled.contains(&view), "pulled {} as before", s.id);
    }
}

on_both_backends!(record_states_survive_the_migration_from_one_row_per_value);
