//! Where a push's time goes, stage by stage, for one device's batches of visit reports:
//! the same code the server runs, timed in one process without HTTP, on a real SQLite file
//! (or PostgreSQL with `--backend postgres` and KAMPUNG_TEST_PG_URL set). Beside it, the
//! storage floor of the same run: the same documents inserted as plain rows, one
//! transaction per batch, and read back in pages; every figure is also a ratio to it.
//!
//! ```sh
//! cargo build --release -p kampung-sync-tests
//! target/release/push_stages --ops 20000 --batch 500
//! ```
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use clap::Parser;
use kampung_sync::db::batch_store::DbBatchStore;
use kampung_sync::db::{self, Backend, provision};
use serde_json::{Value, json};
use sync_protocol::batch::process_batch;
use sync_protocol::memory::MemoryServer;
use sync_protocol::wire::{PushRequest, ReceivedOp};
use sync_protocol::{ApplyEnv, DeviceId, Epoch, Hlc};
use uuid::Uuid;

#[derive(Debug, Parser)]
struct Args {
    /// Visit reports in all.
    #[arg(long, default_value_t = 20_000)]
    ops: usize,
    /// Operations per push.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// `sqlite` or `postgres`.
    #[arg(long, default_value = "sqlite")]
    backend: String,
}

fn visit(seq: u64, household: Uuid) -> Value {
    json!({"seq": seq, "collection": "visits", "record_id": Uuid::now_v7(), "kind": "put",
        "hlc": {"wall_ms": 1_764_300_000_000u64 + seq},
        "fields": {"household_id": household, "visited_at": "2026-11-20T09:30:00+07:00",
            "outcome": "completed", "kesehatan_score": 3, "kesehatan_note": "batuk sejak minggu lalu",
            "pendidikan_score": 4, "pendidikan_note": "anak sekolah rutin",
            "pangan_score": 2, "pangan_note": "beras tinggal sedikit",
            "papan_score": 3, "papan_note": "atap dapur bocor",
            "ekonomi_score": 2, "ekonomi_note": "buruh tani musiman",
            "needs": ["beras", "obat batuk"], "gps_lat": -8.2192, "gps_lon": 114.3691,
            "gps_accuracy_m": 12.5, "gps_mock": false, "notes": "kunjungan rutin",
            "next_visit_due": "2026-12-20"}})
}

#[derive(Default)]
struct Stages {
    parse_body: Duration,
    parse_ops: Duration,
    merge: Duration,
    answer: Duration,
    store: Duration,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = std::env::temp_dir().join(format!("kampung-stages-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let (url, pg) = if args.backend == "postgres" {
        let admin = std::env::var("KAMPUNG_TEST_PG_URL")?;
        let name = format!("kampung_stages_{}", Uuid::new_v4().simple());
        (
            provision::create_database(&admin, &name)?,
            Some((admin, name)),
        )
    } else {
        (
            format!("sqlite://{}", dir.join("stages.db").display()),
            None,
        )
    };
    db::migrate(&Backend::from_url(&url)?)?;
    let mut conn = db::connect(&url)?;
    let user = kampung_sync::ids::UserId::generate();
    kampung_sync::db::users::insert(
        &mut conn,
        &kampung_sync::db::users::NewUser {
            id: user,
            username: "stages",
            display_name: "stages",
            password_hash: "x",
            role: "officer",
            agency_id: None,
            must_change_password: false,
        },
    )?;
    let device = DeviceId(Uuid::now_v7());
    db::devices::register(&mut conn, device, user)?;
    let epoch = db::meta::epoch(&mut conn)?;
    let household = Uuid::now_v7();
    let mut memory = MemoryServer::new(Epoch(Uuid::nil()));

    let mut t = Stages::default();
    let mut seq = 0u64;
    let mut response_bytes = 0usize;
    let started = Instant::now();
    while (seq as usize) < args.ops {
        let n = args.batch.min(args.ops - seq as usize);
        let ops: Vec<Value> = (0..n)
            .map(|_| {
                seq += 1;
                visit(seq, household)
            })
            .collect();
        let body = serde_json::to_vec(&json!({"device_id": device, "ops": ops}))?;
        let env = ApplyEnv {
            epoch,
            now: Hlc::at(u64::try_from(db::now_ms())?),
            max_drift_ms: 300_000,
        };

        let s = Instant::now();
        let req: PushRequest = serde_json::from_slice(&body)?;
        t.parse_body += s.elapsed();

        let s = Instant::now();
        let received: Vec<ReceivedOp> = req
            .ops
            .into_iter()
            .enumerate()
            .map(|(i, raw)| ReceivedOp::parse(i, raw).unwrap())
            .collect();
        t.parse_ops += s.elapsed();

        // The pure part alone, over plain maps: decide, merge, build every answer.
        let s = Instant::now();
        let answer = memory.push(device, &env, received.clone());
        t.merge += s.elapsed();

        let s = Instant::now();
        response_bytes += serde_json::to_vec(&answer)?.len();
        t.answer += s.elapsed();

        // The real store: the same decisions plus locking, loading and writing, committed.
        let s = Instant::now();
        db::write_tx(&mut conn, |c| {
            let mut store =
                DbBatchStore::open(c, device, kampung_sync::db::scope::Scope::All)?.unwrap();
            process_batch(&mut store, device, &env, received)
        })?;
        t.store += s.elapsed();
    }
    let total = started.elapsed();
    let per_op = |d: Duration| d.as_secs_f64() * 1e6 / args.ops as f64;

    // The in-process pull: pages of 500 read (the stored views) and serialised.
    let s = Instant::now();
    let mut pulled = 0usize;
    let mut at = kampung_sync::db::changes::Position::default();
    let mut read = Duration::ZERO;
    loop {
        let r = Instant::now();
        let page = db::read_tx(&mut conn, |c| {
            kampung_sync::db::changes::changed_since(
                c,
                &kampung_sync::db::scope::Scope::All,
                at,
                500,
            )
        })?;
        read += r.elapsed();
        let views: Vec<_> = page.records.into_iter().map(|(v, _)| v).collect();
        pulled += views.len();
        std::hint::black_box(serde_json::to_vec(&views)?);
        at = page.next;
        if !page.has_more {
            break;
        }
    }
    let pull = s.elapsed();
    println!();
    println!("| pull stage (per record) | µs |");
    println!("| --- | --- |");
    println!("| read the page's stored views | {:.1} |", per_op(read));
    println!("| serialise | {:.1} |", per_op(pull.saturating_sub(read)));
    assert_eq!(pulled, args.ops, "the pull brings every visit once");

    let (floor_push, floor_pull) = floor(&mut conn, &args, household)?;
    let store_only = t.store.saturating_sub(t.merge);
    println!("| stage (per operation, {} backend) | µs |", args.backend);
    println!("| --- | --- |");
    println!(
        "| parse the push body (JSON) | {:.1} |",
        per_op(t.parse_body)
    );
    println!(
        "| read each operation, fingerprint it | {:.1} |",
        per_op(t.parse_ops)
    );
    println!(
        "| decide and merge, build each result (pure) | {:.1} |",
        per_op(t.merge)
    );
    println!(
        "| serialise the full answer ({} bytes per operation) | {:.1} |",
        response_bytes / args.ops,
        per_op(t.answer)
    );
    println!(
        "| storage: lock, load, encode and write, commit (store run minus the pure part) | {:.1} |",
        per_op(store_only)
    );
    println!(
        "| all stages ({:.0} operations/s in one thread) | {:.1} |",
        args.ops as f64 / (t.parse_body + t.parse_ops + t.answer + t.store).as_secs_f64(),
        per_op(t.parse_body + t.parse_ops + t.answer + t.store)
    );
    let push_rate =
        args.ops as f64 / (t.parse_body + t.parse_ops + t.answer + t.store).as_secs_f64();
    let floor_push_rate = args.ops as f64 / floor_push.as_secs_f64();
    let pull_rate = args.ops as f64 / pull.as_secs_f64();
    let floor_pull_rate = args.ops as f64 / floor_pull.as_secs_f64();
    println!();
    println!("| in one thread, no HTTP | records/s | ratio to the floor |");
    println!("| --- | --- | --- |");
    println!(
        "| floor: insert the documents, one transaction per batch | {floor_push_rate:.0} | 1 |"
    );
    println!(
        "| push: all stages above | {push_rate:.0} | {:.2} |",
        push_rate / floor_push_rate
    );
    println!("| floor: read the documents back in pages of 500 | {floor_pull_rate:.0} | 1 |");
    println!(
        "| pull: pages of 500, views, serialised | {pull_rate:.0} | {:.2} |",
        pull_rate / floor_pull_rate
    );
    eprintln!("wall {:.1} s", total.as_secs_f64());
    drop(conn);
    if let Some((admin, name)) = pg {
        provision::drop_database(&admin, &name)?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The storage floor: the same visit documents as plain `(id, doc)` rows, inserted in
/// multi-row statements, one transaction per batch, then read back in pages by id.
fn floor(
    conn: &mut db::AnyConnection,
    args: &Args,
    household: Uuid,
) -> anyhow::Result<(Duration, Duration)> {
    use diesel::connection::SimpleConnection;
    conn.batch_execute("CREATE TABLE bench_floor (id TEXT PRIMARY KEY, doc TEXT NOT NULL)")?;
    let mut inserted = Duration::ZERO;
    let mut seq = 0u64;
    while (seq as usize) < args.ops {
        let n = args.batch.min(args.ops - seq as usize);
        let rows: Vec<String> = (0..n)
            .map(|_| {
                seq += 1;
                let doc = visit(seq, household);
                format!(
                    "('{}', '{}')",
                    doc["record_id"].as_str().unwrap_or_default(),
                    doc["fields"].to_string().replace('\'', "''")
                )
            })
            .collect();
        let sql = format!(
            "BEGIN; INSERT INTO bench_floor (id, doc) VALUES {}; COMMIT;",
            rows.join(",")
        );
        let s = Instant::now();
        conn.batch_execute(&sql)?;
        inserted += s.elapsed();
    }
    #[derive(diesel::QueryableByName)]
    struct Doc {
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        doc: String,
    }
    let s = Instant::now();
    let mut last = String::new();
    let mut read = 0usize;
    loop {
        use diesel::RunQueryDsl;
        let page: Vec<Doc> = diesel::sql_query(format!(
            "SELECT id, doc FROM bench_floor WHERE id > '{last}' ORDER BY id LIMIT 500"
        ))
        .load(conn)?;
        let Some(end) = page.last() else { break };
        last = end.id.clone();
        read += page.len();
        std::hint::black_box(page.iter().map(|d| d.doc.len()).sum::<usize>());
    }
    assert_eq!(read, args.ops);
    Ok((inserted, s.elapsed()))
}
