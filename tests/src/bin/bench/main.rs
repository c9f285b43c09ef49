//! The benchmark suite: the real release server binary over real HTTP on loopback, on a
//! fresh database per scenario, measured against the storage floor of the same run.
//!
//! ```sh
//! cargo build --release -p kampung-sync -p kampung-sync-tests
//! flock /tmp/cargo.lock target/release/bench --backend sqlite
//! KAMPUNG_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   flock /tmp/cargo.lock target/release/bench --backend postgres
//! ```
//!
//! Scenarios (`--scenario`, default `all`): `floor` (always run: every ratio needs it),
//! `push`, `pull`, `latency`, `memory`, `signin-flood`, `import` (the command-line household
//! import of `--import-rows` households), `mixed` (the run of the older sections), `admin`
//! (the supervisors' reports on a seeded programme, `--admin-db` or seeded here; only when
//! asked for). Progress goes
//! to stderr; the results go to stdout as Markdown, for `docs/benchmarks.md`. See that file
//! for what each scenario does.
#![allow(clippy::unwrap_used)]

mod admin;
mod client;
mod floor;
mod import;
mod latency;
mod machine;
mod memory;
mod mixed;
mod pull;
mod push;
mod report;
mod server;
mod signin_flood;
mod stats;
mod workload;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

use crate::report::{Basis, Figure, Report, ms, num};
use crate::server::{Db, Server};

/// Storage backend of the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// A temporary SQLite file per scenario.
    Sqlite,
    /// A new PostgreSQL database per scenario (from KAMPUNG_TEST_PG_URL), dropped after.
    Postgres,
}

/// Which scenarios to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScenarioArg {
    /// Visit reports with every field, the device series, full and needed results.
    Push,
    /// A new device's first sync, plain and gzip.
    Pull,
    /// Many devices each syncing one visit in a loop.
    Latency,
    /// The server's peak memory with many devices syncing at once.
    Memory,
    /// Only the storage floor.
    Floor,
    /// The older runs' mixed households-and-visits benchmark.
    Mixed,
    /// Devices syncing alone, then during a flood of sign-ins.
    SigninFlood,
    /// `kampung-sync household import` of a generated registry file.
    Import,
    /// The supervisors' reports and given list URLs on a seeded programme (not in `all`:
    /// it seeds, or needs `--admin-db`).
    Admin,
    /// Everything.
    All,
}

/// Benchmark suite against the real `kampung-sync` binary.
#[derive(Debug, Parser)]
pub struct Args {
    /// Storage backend. PostgreSQL needs KAMPUNG_TEST_PG_URL (a database to create the
    /// benchmark databases from).
    #[arg(long, value_enum, default_value_t = BackendArg::Sqlite)]
    pub backend: BackendArg,
    /// Scenario to run (the floor always runs too).
    #[arg(long, value_enum, default_value_t = ScenarioArg::All)]
    pub scenario: ScenarioArg,
    /// Visit reports pushed (push, pull, floor): N.
    #[arg(long, default_value_t = 20_000)]
    pub records: usize,
    /// Operations per push, rows per floor transaction: B.
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
    /// Devices pushing at once (and floor writers): D.
    #[arg(long, default_value_t = 4)]
    pub devices: usize,
    /// Device counts of the push series (D is added if missing).
    #[arg(long, value_delimiter = ',', default_value = "1,4,16")]
    pub series: Vec<usize>,
    /// Pull page size: the server's `--pull-page-size` and the floor's page.
    #[arg(long, default_value_t = 500)]
    pub pull_page: usize,
    /// Devices syncing at once in the latency scenario.
    #[arg(long, default_value_t = 200)]
    pub latency_devices: usize,
    /// Seconds the latency scenario runs.
    #[arg(long, default_value_t = 30)]
    pub latency_secs: u64,
    /// Devices syncing at once in the memory scenario.
    #[arg(long, default_value_t = 1000)]
    pub memory_devices: usize,
    /// Visits each device pushes in the memory scenario.
    #[arg(long, default_value_t = 3)]
    pub memory_visits: usize,
    /// Devices of the mixed scenario.
    #[arg(long, default_value_t = 50)]
    pub mixed_devices: usize,
    /// Operations per device in the mixed scenario.
    #[arg(long, default_value_t = 400)]
    pub mixed_ops_per_device: usize,
    /// Operations per push in the mixed scenario.
    #[arg(long, default_value_t = 100)]
    pub mixed_batch: usize,
    /// Devices syncing in the sign-in flood scenario.
    #[arg(long, default_value_t = 20)]
    pub flood_devices: usize,
    /// Clients signing in without pause in the sign-in flood scenario.
    #[arg(long, default_value_t = 100)]
    pub flood_clients: usize,
    /// Seconds of each phase of the sign-in flood scenario.
    #[arg(long, default_value_t = 20)]
    pub flood_secs: u64,
    /// Households in the import scenario's generated registry file.
    #[arg(long, default_value_t = 100_000)]
    pub import_rows: usize,
    /// Admin scenario: an already seeded database (`kampung-sync seed`) to measure; without
    /// it a fresh one is seeded at the `--admin-*` sizes. It is never changed or dropped.
    #[arg(long)]
    pub admin_db: Option<String>,
    /// Admin scenario: timed requests per URL.
    #[arg(long, default_value_t = 20)]
    pub admin_runs: usize,
    /// Admin scenario: list URLs measured too (comma-separated paths with their query,
    /// e.g. `/v1/admin/households?limit=50`), held to 50 ms.
    #[arg(long, value_delimiter = ',')]
    pub admin_urls: Vec<String>,
    /// Admin scenario: query plans printed, of the slowest reports.
    #[arg(long, default_value_t = 4)]
    pub admin_plans: usize,
    /// Admin scenario, seeding: households.
    #[arg(long, default_value_t = 2_000)]
    pub admin_households: u32,
    /// Admin scenario, seeding: visits over two years.
    #[arg(long, default_value_t = 20_000)]
    pub admin_visits: u32,
    /// Admin scenario, seeding: aid records.
    #[arg(long, default_value_t = 6_000)]
    pub admin_aid: u32,
    /// Admin scenario, seeding: officers.
    #[arg(long, default_value_t = 40)]
    pub admin_officers: u32,
    /// Admin scenario, seeding: agencies.
    #[arg(long, default_value_t = 4)]
    pub admin_agencies: u32,
    /// Officers created and signed in at a time during setup.
    #[arg(long, default_value_t = 4)]
    pub setup_threads: usize,
    /// The commit measured (default: `git rev-parse --short HEAD` here).
    #[arg(long)]
    pub commit: Option<String>,
    /// Stop the whole run (kill its servers, drop its databases) after this many minutes.
    #[arg(long, default_value_t = 45)]
    pub time_limit_mins: u64,
    /// Path of the server binary (default: next to this one).
    #[arg(long)]
    pub server_bin: Option<PathBuf>,
}

/// What every scenario needs.
pub struct Ctx {
    /// The flags.
    pub args: Args,
    /// The server binary.
    pub bin: PathBuf,
}

impl Ctx {
    /// Server flags every scenario uses: tokens that outlive the longest setup.
    pub fn base_flags(&self) -> Vec<String> {
        vec!["--access-ttl-secs".into(), "7200".into()]
    }

    /// Server flags of the suite's scenarios: the page size, and pushes of B accepted.
    pub fn server_flags(&self) -> Vec<String> {
        let mut f = self.base_flags();
        f.extend([
            "--pull-page-size".into(),
            self.args.pull_page.to_string(),
            "--max-batch-ops".into(),
            self.args.batch.max(500).to_string(),
        ]);
        f
    }
}

/// A scenario's fresh database with a server on it. The server stops before the database
/// is removed (fields drop in order).
pub struct Stage {
    /// The server.
    pub server: Server,
    /// Its database.
    pub db: Db,
}

impl Stage {
    /// A new database and a server started on it with `flags`.
    pub fn new(ctx: &Ctx, flags: &[String]) -> anyhow::Result<Stage> {
        let db = Db::fresh(ctx.args.backend)?;
        let server = Server::start(&ctx.bin, &db, flags)?;
        Ok(Stage { server, db })
    }
}

fn floor_figures(report: &mut Report, f: &floor::Floor) {
    let what = format!(
        "{} rows, {} writers, {} per transaction",
        num(f.records as f64),
        f.writers,
        f.batch
    );
    report.add(
        Figure::new(
            "floor",
            format!("{what}: write throughput"),
            format!("{} records/s ({:.2} s)", num(f.push_rate), f.push_secs),
        )
        .vs(f.push_rate, Basis::PushRate),
    );
    report.add(
        Figure::new(
            "floor",
            format!("{what}: latency per transaction p50 / p95 / p99"),
            format!(
                "{} / {} / {} ms",
                ms(f.batch_ms.p50),
                ms(f.batch_ms.p95),
                ms(f.batch_ms.p99)
            ),
        )
        .vs(f.batch_ms.p50, Basis::BatchMs(0))
        .vs(f.batch_ms.p95, Basis::BatchMs(1))
        .vs(f.batch_ms.p99, Basis::BatchMs(2)),
    );
    report.add(
        Figure::new(
            "floor",
            format!("read back in {} pages by id", f.pages),
            format!("{} records/s ({:.2} s)", num(f.pull_rate), f.pull_secs),
        )
        .vs(f.pull_rate, Basis::PullRate),
    );
    report.add(
        Figure::new(
            "floor",
            "visit document (the push's `fields` as JSON text)",
            format!("{} B", num(f.doc_bytes)),
        )
        .vs(f.doc_bytes, Basis::DocBytes),
    );
    report.add(
        Figure::new(
            "floor",
            format!(
                "one-visit sync: commit one row, read what is new; one writer alone, p50 / p95 / p99 of {}",
                f.sync_ms.count
            ),
            format!(
                "{} / {} / {} ms",
                ms(f.sync_ms.p50),
                ms(f.sync_ms.p95),
                ms(f.sync_ms.p99)
            ),
        )
        .vs(f.sync_ms.p50, Basis::SyncMs(0))
        .vs(f.sync_ms.p95, Basis::SyncMs(1))
        .vs(f.sync_ms.p99, Basis::SyncMs(2)),
    );
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    server::arm_watchdog(Duration::from_secs(args.time_limit_mins.max(1) * 60));
    let bin = args.server_bin.clone().unwrap_or_else(|| {
        std::env::current_exe()
            .unwrap()
            .parent()
            .unwrap()
            .join("kampung-sync")
    });
    if args.backend == BackendArg::Postgres {
        server::pg_admin_url()?;
    }
    let ctx = Ctx { args, bin };
    let args = &ctx.args;
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
    let command = machine::command_line();
    let wants = |s: ScenarioArg| args.scenario == s || args.scenario == ScenarioArg::All;

    eprintln!("bench: making {} visit reports", num(args.records as f64));
    let visits = workload::visits(args.records);
    let mut report = Report::default();

    // The floor first: in its own fresh database, migrated like the server's.
    let floor = {
        let db = Db::fresh(args.backend)?;
        kampung_sync::db::migrate(&kampung_sync::db::Backend::from_url(&db.url)?)?;
        floor::run(&db.url, &visits, args.batch, args.devices, args.pull_page)?
    };
    floor_figures(&mut report, &floor);
    if wants(ScenarioArg::Push) {
        push::scenario(&ctx, &visits, &mut report)?;
    }
    if wants(ScenarioArg::Pull) {
        pull::scenario(&ctx, &visits, &mut report)?;
    }
    if wants(ScenarioArg::Latency) {
        latency::scenario(&ctx, &mut report)?;
    }
    if wants(ScenarioArg::Memory) {
        memory::scenario(&ctx, &mut report)?;
    }
    if wants(ScenarioArg::Mixed) {
        mixed::scenario(&ctx, &mut report)?;
    }
    if wants(ScenarioArg::SigninFlood) {
        signin_flood::scenario(&ctx, &mut report)?;
    }
    if wants(ScenarioArg::Import) {
        import::scenario(&ctx, &mut report)?;
    }
    if args.scenario == ScenarioArg::Admin {
        admin::scenario(&ctx, &mut report)?;
    }

    let backend = match args.backend {
        BackendArg::Sqlite => "SQLite",
        BackendArg::Postgres => "PostgreSQL",
    };
    let commit = args
        .commit
        .clone()
        .or_else(machine::commit)
        .unwrap_or_else(|| "unknown (pass --commit)".into());
    let pg_env = if args.backend == BackendArg::Postgres {
        format!(
            "KAMPUNG_TEST_PG_URL={} ",
            std::env::var("KAMPUNG_TEST_PG_URL").unwrap_or_default()
        )
    } else {
        String::new()
    };
    let header = vec![
        format!("### {backend}"),
        String::new(),
        format!("- commit `{commit}`, {date}"),
        format!(
            "- machine: {} cores (`nproc`), {}, {}",
            machine::cores(),
            machine::cpu_model(),
            machine::system()
        ),
        format!("- database: {}", floor.engine),
        format!("- command: `{pg_env}{command}`"),
        "- ratio to floor: the figure divided by the floor's figure of the same kind in this run \
         (records/s by records/s, latency by latency, bytes by the document's bytes)"
            .to_owned(),
    ];
    report.print(&header, &floor);
    Ok(())
}
