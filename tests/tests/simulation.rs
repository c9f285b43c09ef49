//! The simulator in CI (docs/client.md, "The simulator"): short runs with faults on SQLite,
//! on PostgreSQL with two instances, with the server killed and restarted, and the same
//! seed giving the same run. Servers are the `simulate` binary's own (`__serve`), started as
//! processes so that they can be killed.
#![allow(clippy::unwrap_used)]

use kampung_sync_tests::pg_admin_url;
use kampung_sync_tests::sim::servers::{ServerBin, SpawnBackend};
use kampung_sync_tests::sim::{Config, Outcome, Target, run};

fn simulate(backend: SpawnBackend, instances: usize, seed: u64, kill_restart: bool) -> Outcome {
    let pg_admin = match backend {
        SpawnBackend::Sqlite => None,
        SpawnBackend::Postgres => Some(pg_admin_url().unwrap()),
    };
    let cfg = Config {
        target: Target::Spawn {
            backend,
            instances,
            bin: ServerBin::Simulator(env!("CARGO_BIN_EXE_simulate").into()),
            pg_admin,
        },
        officers: 5,
        days: 6,
        seed,
        faults: 0.3,
        kill_restart,
    };
    let outcome = run(&cfg).unwrap_or_else(|e| panic!("seed {seed}: the run failed: {e:#}"));
    eprintln!("{}", outcome.summary);
    assert!(
        outcome.summary.violations.is_empty(),
        "violations (replay: simulate --spawn {backend:?} --instances {instances} --officers 5 \
         --days 6 --faults 0.3 --seed {seed}{}):\n{}",
        if kill_restart { " --kill-restart" } else { "" },
        outcome.summary
    );
    outcome
}

/// Faults of every kind were injected and the paths they lead to were taken: a run that
/// passes without them proves nothing.
fn assert_eventful(o: &Outcome) {
    let s = &o.summary;
    for kind in kampung_sync_tests::sim::faults::Fault::ALL {
        assert!(
            s.faults.count(kind) > 0,
            "no {} injected:\n{s}",
            kind.name()
        );
    }
    let c = &s.counters;
    assert!(c.duplicates > 0, "no duplicate answered:\n{s}");
    assert!(c.held > 0, "no write refused out_of_scope:\n{s}");
    assert!(c.removals > 0, "no removal pulled:\n{s}");
    assert!(c.conflicts > 0, "no conflict:\n{s}");
}

#[test]
fn a_simulation_with_faults_on_sqlite_loses_nothing() {
    let o = simulate(SpawnBackend::Sqlite, 1, 11, false);
    assert_eventful(&o);
}

#[test]
fn a_simulation_with_faults_on_two_postgresql_instances_loses_nothing() {
    if pg_admin_url().is_none() {
        return;
    }
    let o = simulate(SpawnBackend::Postgres, 2, 12, false);
    assert_eventful(&o);
}

#[test]
fn a_server_killed_and_restarted_mid_run_loses_nothing() {
    let o = simulate(SpawnBackend::Sqlite, 1, 13, true);
    assert_eq!(o.summary.counters.kills, 2, "{}", o.summary);
    assert!(
        o.log.iter().any(|l| l.ends_with("server killed")),
        "the kill came right after a push reached the server"
    );
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let a = simulate(SpawnBackend::Sqlite, 1, 14, false);
    let b = simulate(SpawnBackend::Sqlite, 1, 14, false);
    assert_eq!(a.log, b.log, "the event logs differ");
    assert_eq!(a.summary.counters, b.summary.counters);
    assert_eq!(a.summary.faults.injected, b.summary.faults.injected);
    let c = simulate(SpawnBackend::Sqlite, 1, 15, false);
    assert_ne!(a.log, c.log, "another seed, another run");
}
