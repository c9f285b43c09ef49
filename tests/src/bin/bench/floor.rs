//! The storage floor: the same visit documents written straight into a benchmark database
//! from Rust, no HTTP and no merge, then read back. What the server's push and pull cost is
//! measured against it.
//!
//! - push floor: `bench_floor(id TEXT PRIMARY KEY, doc TEXT NOT NULL)`, one multi-row INSERT
//!   per batch in one write transaction (`BEGIN IMMEDIATE` on SQLite, as the server), D
//!   writers on D connections at once (on SQLite they serialise on the write lock);
//! - pull floor: every row back in pages of `page` ordered by id (keyset: `id > last`);
//! - one-visit sync floor: one writer alone inserts one row and reads the rows after the last
//!   id it had seen, over and over: one commit and one read, the bare cost of a sync.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use kampung_sync::db::{self, AnyConnection};
use uuid::Uuid;

use crate::stats::{Progress, Spread};
use crate::workload::Visit;

diesel::table! {
    bench_floor (id) {
        id -> Text,
        doc -> Text,
    }
}

/// Runs `$body` with `$c` bound to the concrete connection of either backend.
macro_rules! on_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            AnyConnection::Postgresql($c) => $body,
            AnyConnection::Sqlite($c) => $body,
        }
    };
}

/// The floor's figures.
#[derive(Clone, Debug, Default)]
pub struct Floor {
    /// Rows written.
    pub records: usize,
    /// Writers at once.
    pub writers: usize,
    /// Rows per transaction.
    pub batch: usize,
    /// Rows written per second.
    pub push_rate: f64,
    /// Seconds the writes took.
    pub push_secs: f64,
    /// Per-transaction latency, ms.
    pub batch_ms: Spread,
    /// Rows read per second.
    pub pull_rate: f64,
    /// Seconds the read took.
    pub pull_secs: f64,
    /// Pages read.
    pub pages: usize,
    /// Mean document size, bytes.
    pub doc_bytes: f64,
    /// One-row commit plus read-back, ms.
    pub sync_ms: Spread,
    /// The database's own version string.
    pub engine: String,
}

const SYNC_FLOOR_ROUNDS: usize = 300;

#[derive(QueryableByName)]
struct Version {
    #[diesel(sql_type = diesel::sql_types::Text)]
    v: String,
}

fn engine_version(conn: &mut AnyConnection) -> String {
    let q = match conn {
        AnyConnection::Sqlite(_) => "SELECT 'SQLite ' || sqlite_version() AS v",
        AnyConnection::Postgresql(_) => "SELECT version() AS v",
    };
    on_backend!(conn, c => diesel::sql_query(q).get_result::<Version>(c))
        .map(|r| r.v)
        .unwrap_or_default()
}

fn insert(conn: &mut AnyConnection, rows: &[&Visit]) -> anyhow::Result<()> {
    let values: Vec<_> = rows
        .iter()
        .map(|v| {
            (
                bench_floor::id.eq(v.id.to_string()),
                bench_floor::doc.eq(v.doc.as_str()),
            )
        })
        .collect();
    db::write_tx(conn, |conn| -> anyhow::Result<()> {
        let n = on_backend!(conn, c => diesel::insert_into(bench_floor::table)
            .values(&values)
            .execute(c))?;
        anyhow::ensure!(n == rows.len(), "inserted {n} of {} rows", rows.len());
        Ok(())
    })
}

fn page_after(
    conn: &mut AnyConnection,
    after: &str,
    limit: usize,
) -> anyhow::Result<Vec<(String, String)>> {
    let q = bench_floor::table
        .select((bench_floor::id, bench_floor::doc))
        .filter(bench_floor::id.gt(after))
        .order(bench_floor::id)
        .limit(i64::try_from(limit)?);
    Ok(on_backend!(conn, c => q.load::<(String, String)>(c))?)
}

/// Writes `visits` into `url`'s database with `writers` connections in transactions of
/// `batch`, reads them back in pages of `page`, then measures the one-visit sync floor.
pub fn run(
    url: &str,
    visits: &[Visit],
    batch: usize,
    writers: usize,
    page: usize,
) -> anyhow::Result<Floor> {
    let mut conn = db::connect(url)?;
    let engine = engine_version(&mut conn);
    conn.batch_execute("CREATE TABLE bench_floor (id TEXT PRIMARY KEY, doc TEXT NOT NULL)")?;

    // Push floor: each writer takes a contiguous share, as a device its own outbox.
    let share = visits.len().div_ceil(writers.max(1)).max(1);
    let progress = Progress::start(
        format!("floor push, {writers} writers"),
        Some(visits.len() as u64),
        "records",
    );
    let started = Instant::now();
    let latencies: anyhow::Result<Vec<f64>> = std::thread::scope(|sc| {
        let handles: Vec<_> = visits
            .chunks(share)
            .map(|mine| {
                let progress = &progress;
                sc.spawn(move || -> anyhow::Result<Vec<f64>> {
                    let mut c = db::connect(url)?;
                    let mut lat = Vec::new();
                    for chunk in mine.chunks(batch) {
                        let rows: Vec<&Visit> = chunk.iter().collect();
                        let t = Instant::now();
                        insert(&mut c, &rows)?;
                        lat.push(t.elapsed().as_secs_f64() * 1000.0);
                        progress.add(rows.len() as u64);
                    }
                    Ok(lat)
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            all.extend(h.join().unwrap()?);
        }
        Ok(all)
    });
    let push_secs = started.elapsed().as_secs_f64();
    drop(progress);
    let batch_ms = Spread::of(latencies?);

    // Pull floor: everything back, page after page.
    let progress = Progress::start("floor pull".into(), Some(visits.len() as u64), "records");
    let started = Instant::now();
    let (mut read, mut pages, mut last) = (0usize, 0usize, String::new());
    loop {
        let rows = page_after(&mut conn, &last, page)?;
        pages += 1;
        read += rows.len();
        progress.add(rows.len() as u64);
        if let Some((id, _)) = rows.last() {
            last.clone_from(id);
        }
        if rows.len() < page {
            break;
        }
    }
    let pull_secs = started.elapsed().as_secs_f64();
    drop(progress);
    anyhow::ensure!(
        read == visits.len(),
        "read back {read} of {} rows",
        visits.len()
    );

    // One-visit sync floor: one commit of one row, then the read of what is new.
    let mut sync = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let sample = &visits[0];
    for _ in 0..SYNC_FLOOR_ROUNDS {
        if Instant::now() > deadline {
            break;
        }
        let v = Visit {
            id: Uuid::now_v7(),
            fields: serde_json::Value::Null,
            doc: sample.doc.clone(),
            hlc_ms: 0,
        };
        let t = Instant::now();
        insert(&mut conn, &[&v])?;
        let rows = page_after(&mut conn, &last, page)?;
        sync.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(rows.len() == 1, "the sync floor read {} rows", rows.len());
        last = v.id.to_string();
    }

    let doc_bytes =
        visits.iter().map(|v| v.doc.len()).sum::<usize>() as f64 / visits.len().max(1) as f64;
    Ok(Floor {
        records: visits.len(),
        writers,
        batch,
        push_rate: visits.len() as f64 / push_secs,
        push_secs,
        batch_ms,
        pull_rate: read as f64 / pull_secs,
        pull_secs,
        pages,
        doc_bytes,
        sync_ms: Spread::of(sync),
        engine,
    })
}
