//! `simulate`: virtual officers with devices against a server, a network that breaks, and
//! the checks that nothing was lost (docs/client.md, "The simulator").
//!
//! ```text
//! simulate --spawn sqlite --officers 8 --days 10 --seed 42 --faults 0.2 --kill-restart
//! KAMPUNG_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   simulate --spawn postgres --instances 2 --seed 42 --faults 0.2
//! simulate --server http://127.0.0.1:8080 --admin-user admin --admin-password ... --seed 7
//! ```
//!
//! Exits 0 when every check passed, 1 on a violation (printing the seed and the command
//! that replays the run), 2 when the run could not be carried out.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use kampung_sync_tests::sim::servers::{SERVE_ARG, ServerBin, SpawnBackend, serve_in_process};
use kampung_sync_tests::sim::{Config, Target, run};

#[derive(Parser, Debug)]
#[command(about = "Simulate officers' devices on a bad network and check that nothing was lost")]
struct Args {
    /// A running server to simulate against (otherwise --spawn).
    #[arg(long, conflicts_with = "spawn")]
    server: Option<String>,
    /// Start servers on a fresh database of this backend (PostgreSQL on KAMPUNG_TEST_PG_URL).
    #[arg(long, value_enum)]
    spawn: Option<SpawnBackend>,
    /// Server instances on the one database (more than one on PostgreSQL only).
    #[arg(long, default_value_t = 1)]
    instances: usize,
    /// The `kampung-sync` binary to start; by default the server linked into this program,
    /// started the way `kampung-sync serve` starts it, in processes of its own.
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// With --server: a regency administrator.
    #[arg(long, default_value = "admin")]
    admin_user: String,
    /// With --server: its password.
    #[arg(long, env = "SIMULATE_ADMIN_PASSWORD", hide_env_values = true)]
    admin_password: Option<String>,
    /// With --server: the server's database, for the checks that read it (I1-I6).
    #[arg(long)]
    database_url: Option<String>,
    /// Virtual officers.
    #[arg(long, default_value_t = 6)]
    officers: usize,
    /// Virtual days.
    #[arg(long, default_value_t = 8)]
    days: u32,
    /// The seed; a random one when not given (printed, so the run can be replayed).
    #[arg(long)]
    seed: Option<u64>,
    /// The chance that a request meets a fault (0 to 1).
    #[arg(long, default_value_t = 0.2)]
    faults: f64,
    /// Kill the server (an instance) twice mid-run and start it again on the same database.
    #[arg(long)]
    kill_restart: bool,
    /// Print the run's event log.
    #[arg(long)]
    log: bool,
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some(SERVE_ARG) {
        return match serve_in_process(argv[2..].to_vec()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let args = Args::parse();
    let seed = args.seed.unwrap_or_else(|| fastrand::u64(..));
    let target = match (&args.server, args.spawn) {
        (Some(url), _) => {
            let Some(password) = args.admin_password.clone() else {
                eprintln!("simulate: --server needs --admin-password (or SIMULATE_ADMIN_PASSWORD)");
                return ExitCode::from(2);
            };
            Target::Server {
                url: url.clone(),
                admin_user: args.admin_user.clone(),
                admin_password: password,
                database_url: args.database_url.clone(),
            }
        }
        (None, Some(backend)) => Target::Spawn {
            backend,
            instances: args.instances,
            bin: match (&args.server_bin, std::env::current_exe()) {
                (Some(p), _) => ServerBin::Path(p.clone()),
                (None, Ok(me)) => ServerBin::Simulator(me),
                (None, Err(e)) => {
                    eprintln!("simulate: cannot find its own executable: {e}");
                    return ExitCode::from(2);
                }
            },
            pg_admin: std::env::var("KAMPUNG_TEST_PG_URL")
                .ok()
                .filter(|v| !v.is_empty()),
        },
        (None, None) => {
            eprintln!("simulate: give --server URL or --spawn sqlite|postgres");
            return ExitCode::from(2);
        }
    };
    let cfg = Config {
        target,
        officers: args.officers,
        days: args.days,
        seed,
        faults: args.faults.clamp(0.0, 1.0),
        kill_restart: args.kill_restart,
    };
    let outcome = match run(&cfg) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("simulate: the run could not be carried out (seed {seed}): {e:#}");
            return ExitCode::from(2);
        }
    };
    if args.log {
        for line in &outcome.log {
            println!("{line}");
        }
    }
    print!("{}", outcome.summary);
    if outcome.summary.violations.is_empty() {
        return ExitCode::SUCCESS;
    }
    let mut replay = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--seed" {
            args.next();
        } else if !a.starts_with("--seed=") {
            replay.push(a);
        }
    }
    println!(
        "FAILED with seed {seed}; replay: simulate {} --seed {seed}",
        replay.join(" ")
    );
    ExitCode::FAILURE
}
