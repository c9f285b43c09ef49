//! The benchmark: the real server binary over real HTTP, many devices at once.
//!
//! ```sh
//! cargo build --release -p kampung-sync -p kampung-sync-tests
//! target/release/bench --backend sqlite
//! KAMPUNG_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/postgres target/release/bench --backend postgres
//! ```
//!
//! It measures push throughput and latency with concurrent devices, pull throughput for a
//! device syncing everything from scratch, and the server's peak memory. Results go to
//! standard output as Markdown, for `docs/benchmarks.md`.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use kampung_sync::db::provision;
use serde_json::{Value, json};
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum BackendArg {
    Sqlite,
    Postgres,
}

/// Push and pull benchmark against the real `kampung-sync` binary.
#[derive(Debug, Parser)]
struct Args {
    /// Storage backend. PostgreSQL needs KAMPUNG_TEST_PG_URL (a database to create the
    /// benchmark database from).
    #[arg(long, value_enum, default_value_t = BackendArg::Sqlite)]
    backend: BackendArg,
    /// Devices pushing at the same time.
    #[arg(long, default_value_t = 50)]
    devices: usize,
    /// Operations per device.
    #[arg(long, default_value_t = 400)]
    ops_per_device: usize,
    /// Operations per push.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Path of the server binary (default: next to this one).
    #[arg(long)]
    server_bin: Option<std::path::PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let bin = args.server_bin.clone().unwrap_or_else(|| {
        std::env::current_exe()
            .unwrap()
            .parent()
            .unwrap()
            .join("kampung-sync")
    });
    let dir = std::env::temp_dir().join(format!("kampung-bench-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let (url, pg) = match args.backend {
        BackendArg::Sqlite => (format!("sqlite://{}", dir.join("bench.db").display()), None),
        BackendArg::Postgres => {
            let admin = std::env::var("KAMPUNG_TEST_PG_URL").map_err(|_| {
                anyhow::anyhow!("set KAMPUNG_TEST_PG_URL for the PostgreSQL benchmark")
            })?;
            let name = format!("kampung_bench_{}", Uuid::new_v4().simple());
            (
                provision::create_database(&admin, &name)?,
                Some((admin, name)),
            )
        }
    };
    let result = run(&args, &bin, &url, &dir);
    if let Some((admin, name)) = pg {
        provision::drop_database(&admin, &name)?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    result
}

struct Server {
    child: Child,
    base: String,
    admin_password: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(bin: &std::path::Path, url: &str, dir: &std::path::Path) -> anyhow::Result<Server> {
    let mut child = Command::new(bin)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("DATABASE_URL", url)
        .env("KAMPUNG_DATA_DIR", dir.join("data"))
        .env("KAMPUNG_LOG_FORMAT", "json")
        .env("RUST_LOG", "warn,kampung_sync::startup=info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot start {}: {e} (build it with cargo build --release -p kampung-sync)",
                bin.display()
            )
        })?;
    let (tx, rx) = mpsc::channel();
    let err = child.stderr.take().unwrap();
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line)
                && let Some(a) = v["fields"]["address"].as_str()
            {
                let _ = tx2.send(format!("addr {a}"));
            }
        }
    });
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Some(p) = line.trim().strip_prefix("password:") {
                let _ = tx.send(format!("pw {}", p.trim()));
            }
        }
    });
    let (mut base, mut admin_password) = (None, None);
    while base.is_none() || admin_password.is_none() {
        let msg = rx.recv_timeout(Duration::from_secs(60))?;
        if let Some(a) = msg.strip_prefix("addr ") {
            base = Some(format!("http://{a}"));
        } else if let Some(p) = msg.strip_prefix("pw ") {
            admin_password = Some(p.to_owned());
        }
    }
    Ok(Server {
        child,
        base: base.unwrap_or_default(),
        admin_password: admin_password.unwrap_or_default(),
    })
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

fn call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let resp = match (method, body) {
        ("GET", _) => {
            let mut r = agent.get(url);
            if let Some(t) = token {
                r = r.header("Authorization", format!("Bearer {t}"));
            }
            r.call()
        }
        (_, b) => {
            let mut r = agent.post(url);
            if let Some(t) = token {
                r = r.header("Authorization", format!("Bearer {t}"));
            }
            r.send_json(b.cloned().unwrap_or(Value::Null))
        }
    };
    let mut resp = resp.unwrap();
    let status = resp.status().as_u16();
    (
        status,
        resp.body_mut()
            .with_config()
            .limit(1 << 30)
            .read_json()
            .unwrap_or(Value::Null),
    )
}

fn login(agent: &ureq::Agent, base: &str, user: &str, password: &str) -> (String, Uuid) {
    let device = Uuid::now_v7();
    let (st, body) = call(
        agent,
        "POST",
        &format!("{base}/v1/auth/login"),
        None,
        Some(&json!({"username": user, "password": password, "device_id": device})),
    );
    assert_eq!(st, 200, "{body}");
    (body["access_token"].as_str().unwrap().to_owned(), device)
}

/// Two in three operations are visit reports, one in three a household edit.
fn op(seq: u64, household: Uuid, version: u64) -> Value {
    if seq % 3 == 1 {
        json!({"seq": seq, "collection": "households", "record_id": household, "kind": "put",
               "ctx": {"vv": {"server": version}}, "hlc": {"wall_ms": 1_764_300_000_000u64 + seq},
               "fields": {"head_name": "Siti Aminah", "desa_code": "3510010001", "dusun": "Krajan",
                          "rt": "003", "rw": "001", "address": "Jl. Mawar 12", "status": "active", "welfare_decile": 2}})
    } else {
        json!({"seq": seq, "collection": "visits", "record_id": Uuid::now_v7(), "kind": "put",
               "hlc": {"wall_ms": 1_764_300_000_000u64 + seq},
               "fields": {"household_id": household, "visited_at": "2026-11-20T09:30:00+07:00", "outcome": "completed",
                          "kesehatan_score": 3, "pangan_score": 2, "pangan_note": "beras tinggal sedikit",
                          "needs": ["beras", "obat"], "gps_lat": -8.2192, "gps_lon": 114.3691,
                          "gps_accuracy_m": 12.5, "gps_mock": false}})
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn peak_rss_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn run(args: &Args, bin: &std::path::Path, url: &str, dir: &std::path::Path) -> anyhow::Result<()> {
    let server = start(bin, url, dir)?;
    let base = server.base.clone();
    let a = agent();
    let (admin_token, _) = login(&a, &base, "admin", &server.admin_password);
    let (_, agency) = call(
        &a,
        "POST",
        &format!("{base}/v1/admin/agencies"),
        Some(&admin_token),
        Some(&json!({"name": "Dinas Sosial", "kind": "opd"})),
    );
    let agency = agency["id"].as_str().unwrap().to_owned();
    let mut officers = Vec::new();
    for i in 0..args.devices {
        let user = format!("officer-{i:04}");
        let (st, body) = call(
            &a,
            "POST",
            &format!("{base}/v1/admin/users"),
            Some(&admin_token),
            Some(
                &json!({"username": user, "display_name": user, "role": "officer", "agency_id": agency, "password": "bench-password-1"}),
            ),
        );
        assert_eq!(st, 201, "{body}");
        officers.push(login(&a, &base, &user, "bench-password-1"));
    }
    let (_, idle_rss) = peak_rss_mib(server.child.id());

    // Push: every device sends its outbox in batches, all devices at once.
    let started = Instant::now();
    let latencies: Vec<f64> = std::thread::scope(|sc| {
        let handles: Vec<_> = officers
            .iter()
            .map(|(token, device)| {
                let base = base.clone();
                sc.spawn(move || {
                    let a = agent();
                    let households: Vec<Uuid> = (0..10).map(|_| Uuid::now_v7()).collect();
                    let mut versions = [0u64; 10];
                    let mut lat = Vec::new();
                    let mut seq = 0u64;
                    while (seq as usize) < args.ops_per_device {
                        let n = args.batch.min(args.ops_per_device - seq as usize);
                        let ops: Vec<Value> = (0..n)
                            .map(|_| {
                                seq += 1;
                                let h = (seq as usize / 3) % 10;
                                op(seq, households[h], versions[h])
                            })
                            .collect();
                        let t = Instant::now();
                        let (st, body) = call(
                            &a,
                            "POST",
                            &format!("{base}/v1/sync/push"),
                            Some(token),
                            Some(&json!({"device_id": device, "ops": ops})),
                        );
                        lat.push(t.elapsed().as_secs_f64() * 1000.0);
                        assert_eq!(st, 200, "{body}");
                        for r in body["results"].as_array().unwrap() {
                            assert!(r["status"] == "applied" || r["status"] == "conflict", "{r}");
                            if r["record"]["collection"] == "households" {
                                let id: Uuid = r["record"]["id"].as_str().unwrap().parse().unwrap();
                                if let Some(i) = households.iter().position(|x| *x == id) {
                                    versions[i] = r["record"]["version"].as_u64().unwrap();
                                }
                            }
                        }
                    }
                    lat
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let push_secs = started.elapsed().as_secs_f64();
    let total_ops = args.devices * args.ops_per_device;
    let mut lat = latencies;
    lat.sort_by(f64::total_cmp);

    // Pull: a new device syncs everything from scratch.
    let (token, _) = login(&a, &base, "officer-0000", "bench-password-1");
    let started = Instant::now();
    let (mut records, mut pages, mut cursor) = (0usize, 0usize, None::<String>);
    loop {
        let q = cursor
            .as_ref()
            .map(|c| format!("?cursor={c}"))
            .unwrap_or_default();
        let (st, page) = call(
            &a,
            "GET",
            &format!("{base}/v1/sync/pull{q}"),
            Some(&token),
            None,
        );
        assert_eq!(st, 200, "{page}");
        records += page["changes"].as_array().unwrap().len();
        pages += 1;
        cursor = page["cursor"].as_str().map(str::to_owned);
        if page["has_more"] != json!(true) {
            break;
        }
    }
    let pull_secs = started.elapsed().as_secs_f64();
    let (rss, peak) = peak_rss_mib(server.child.id());

    println!("| measure | value |");
    println!("| --- | --- |");
    println!("| devices pushing at once | {} |", args.devices);
    println!(
        "| operations ({} per device, {} per push) | {total_ops} |",
        args.ops_per_device, args.batch
    );
    println!(
        "| push throughput | {:.0} ops/s ({push_secs:.1} s) |",
        total_ops as f64 / push_secs
    );
    println!(
        "| push latency per batch p50 / p95 / p99 / max | {:.0} / {:.0} / {:.0} / {:.0} ms |",
        percentile(&lat, 0.5),
        percentile(&lat, 0.95),
        percentile(&lat, 0.99),
        lat.last().copied().unwrap_or(0.0)
    );
    println!(
        "| full pull of {records} records ({pages} pages) | {:.0} records/s ({pull_secs:.1} s) |",
        records as f64 / pull_secs
    );
    println!(
        "| server memory: idle after setup / now / peak | {idle_rss:.0} / {rss:.0} / {peak:.0} MiB |"
    );
    Ok(())
}
