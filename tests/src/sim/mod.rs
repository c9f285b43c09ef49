//! The simulator (`simulate`, docs/client.md "The simulator"): many virtual officers with
//! devices against a running server, a network that loses, duplicates and delays requests,
//! reassignments while devices are offline, optionally a server killed and restarted and two
//! instances on one PostgreSQL; then checks that nothing was lost. Every decision comes from
//! one seeded generator, and the run is sequential, so a seed replays the same run.

pub mod checks;
pub mod faults;
pub mod http;
pub mod ledger;
pub mod officer;
pub mod servers;
pub mod summary;
pub mod world;

use std::time::Instant;

use anyhow::ensure;

use servers::{Db, Instance, ServerBin, SpawnBackend};
use summary::Summary;
use world::{Servers, World};

/// Where the servers come from.
#[derive(Clone, Debug)]
pub enum Target {
    /// A server already running at this address, administered as this user.
    Server {
        /// `http://host:port`.
        url: String,
        /// A regency administrator's sign-in name.
        admin_user: String,
        /// Its password.
        admin_password: String,
        /// The server's database, for the checks that read it.
        database_url: Option<String>,
    },
    /// Servers the simulator starts on a fresh database.
    Spawn {
        /// SQLite or PostgreSQL.
        backend: SpawnBackend,
        /// How many instances (two only on PostgreSQL).
        instances: usize,
        /// How to start one.
        bin: ServerBin,
        /// Where to create a PostgreSQL database.
        pg_admin: Option<String>,
    },
}

/// A run.
#[derive(Clone, Debug)]
pub struct Config {
    /// The servers.
    pub target: Target,
    /// Officers (every third has a second device); a supervisor's device is added.
    pub officers: usize,
    /// Virtual days.
    pub days: u32,
    /// The seed of every decision.
    pub seed: u64,
    /// The chance that a request meets a fault.
    pub faults: f64,
    /// Kill a server instance after a push reaches it, twice in the run, and start it
    /// again on the same database.
    pub kill_restart: bool,
}

/// What a run gives: the summary (violations inside) and the run's log, which the same
/// seed gives again.
pub struct Outcome {
    /// The summary.
    pub summary: Summary,
    /// One line per event.
    pub log: Vec<String>,
}

/// Runs a simulation. An error is a run that could not be carried out (a server that does
/// not start, an admin call refused); a violation is in the summary.
pub fn run(cfg: &Config) -> anyhow::Result<Outcome> {
    ensure!(cfg.officers >= 1, "at least one officer");
    let started = Instant::now();
    let (servers, bases, admin_user, admin_password) = match &cfg.target {
        Target::Server {
            url,
            admin_user,
            admin_password,
            database_url,
        } => (
            Servers {
                db: None,
                bin: None,
                instances: Vec::new(),
                db_url: database_url.clone(),
            },
            vec![url.trim_end_matches('/').to_owned()],
            admin_user.clone(),
            admin_password.clone(),
        ),
        Target::Spawn {
            backend,
            instances,
            bin,
            pg_admin,
        } => {
            ensure!(
                *instances == 1 || *backend == SpawnBackend::Postgres,
                "two instances share a PostgreSQL database only"
            );
            ensure!((1..=4).contains(instances), "1 to 4 instances");
            let db = Db::fresh(*backend, pg_admin.as_deref())?;
            let mut running = Vec::new();
            let first = Instance::start(bin, &db)?;
            let password =
                servers::first_admin(&http::Http::default(), &first.base, &db.dir.join("data"))?;
            running.push(Some(first));
            for _ in 1..*instances {
                running.push(Some(Instance::start(bin, &db)?));
            }
            let bases = running.iter().flatten().map(|i| i.base.clone()).collect();
            let url = db.url.clone();
            (
                Servers {
                    db: Some(db),
                    bin: Some(bin.clone()),
                    instances: running,
                    db_url: Some(url),
                },
                bases,
                "admin".to_owned(),
                password,
            )
        }
    };
    ensure!(
        !cfg.kill_restart || servers.bin.is_some(),
        "--kill-restart needs servers the simulator starts (--spawn)"
    );
    let mut world = World::set_up(
        cfg.seed,
        cfg.officers,
        cfg.days,
        cfg.faults,
        servers,
        bases,
        (&admin_user, &admin_password),
    )?;
    world.run_days(cfg.days, cfg.kill_restart)?;
    world.settle()?;
    let found = checks::run(&mut world)?;
    let mut violations = std::mem::take(&mut world.net.ledger.violations);
    violations.extend(found.violations);
    let summary = Summary {
        seed: cfg.seed,
        counters: world.net.counters.clone(),
        faults: world.net.faults.clone(),
        devices: world.devices.len() - 1,
        records: found.records,
        elapsed: started.elapsed(),
        checks: found.checks,
        violations,
    };
    Ok(Outcome {
        summary,
        log: std::mem::take(&mut world.net.log),
    })
}
