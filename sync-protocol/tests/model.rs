//! The model of `model/engine.rs` (causal-history oracle, invariants I1-I7) against
//! [`MemoryServer`], the reference server, and against deliberately broken servers to show
//! that the oracle does fail. `kampung-sync-tests`' `model_store.rs` runs the same model
//! against the real database store.

mod common;
#[path = "model/engine.rs"]
mod engine;

use common::epoch;
use engine::{Server, Stats, check_live, concurrent_phone_edits, config, run, scenario_strategy};
use proptest::prelude::*;
use sync_protocol::memory::MemoryServer;
use sync_protocol::wire::{PushResponse, ReceivedOp, RecordView};
use sync_protocol::{ApplyEnv, Context, DeviceId, Operation, RecordId, RecordState};

const REGRESSIONS: &str = "proptest-regressions/model.txt";

/// Actions per scenario: in memory a case costs little, so scenarios can be long.
const ACTIONS: std::ops::RangeInclusive<usize> = 20..=60;

/// A broken server: it replaces every operation's context before the real merge sees it.
/// The fingerprint is kept, so retries are still recognised as retries and only the merge
/// is wrong.
struct ContextRewriter {
    inner: MemoryServer,
    seen: fn(&MemoryServer, &Operation) -> u64,
}

impl Server for ContextRewriter {
    fn push(&mut self, device: DeviceId, env: &ApplyEnv, ops: Vec<ReceivedOp>) -> PushResponse {
        let ops = ops
            .into_iter()
            .map(|mut received| {
                if let Ok(op) = &mut received.op {
                    op.ctx = Context::seen(env.epoch, (self.seen)(&self.inner, op));
                }
                received
            })
            .collect();
        self.inner.push(device, env, ops)
    }
    fn pull(&self, cursor: u64) -> (Vec<RecordView>, u64) {
        self.inner.pull(cursor)
    }
    fn record(&self, id: RecordId) -> Option<&RecordState> {
        self.inner.record(id)
    }
    fn last_seq(&self, device: DeviceId) -> u64 {
        self.inner.last_seq(device)
    }
}

proptest! {
    #![proptest_config(config(1000, REGRESSIONS))]

    #[test]
    fn i1_to_i7_hold_under_random_interleavings(scenario in scenario_strategy(ACTIONS)) {
        run(MemoryServer::new(epoch(1)), &scenario).map_err(TestCaseError::fail)?;
    }
}

proptest! {
    #![proptest_config(config(200, REGRESSIONS))]

    /// The live-set comparison is only worth something if it can fail: hiding any live
    /// write must be reported as a lost update, and showing any dominated one as a precision
    /// failure.
    #[test]
    fn oracle_flags_every_dropped_or_resurrected_sibling(scenario in scenario_strategy(ACTIONS)) {
        let world = run(MemoryServer::new(epoch(1)), &scenario).map_err(TestCaseError::fail)?;
        let oracle = &world.oracle;
        for r in 0..scenario.records {
            let live = oracle.live_ids(r);
            prop_assert!(check_live(r, &live, &live).is_ok());
            for (reg, ws) in &live {
                for w in ws {
                    let mut fake = live.clone();
                    fake.entry(reg.clone()).or_default().remove(w);
                    let verdict = check_live(r, &live, &fake);
                    prop_assert!(
                        verdict.as_ref().is_err_and(|e| e.starts_with("I1")),
                        "dropping {:?} from `{}` gave {:?}", w, reg, verdict
                    );
                }
            }
            for &w in &oracle.applied[r] {
                for reg in oracle.writes[w].registers.keys() {
                    let id = oracle.writes[w].id;
                    if live.get(*reg).is_some_and(|ws| ws.contains(&id)) {
                        continue;
                    }
                    let mut fake = live.clone();
                    fake.entry((*reg).to_owned()).or_default().insert(id);
                    let verdict = check_live(r, &live, &fake);
                    prop_assert!(
                        verdict.as_ref().is_err_and(|e| e.starts_with("I3")),
                        "resurrecting {:?} in `{}` gave {:?}", id, reg, verdict
                    );
                }
            }
        }
    }
}

/// A property test that never reaches a path proves nothing about it: this runs the
/// generator's own scenarios and requires every interesting path to have been taken.
#[test]
fn random_scenarios_reach_every_path() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let mut total = Stats::default();
    for _ in 0..200 {
        let scenario = scenario_strategy(ACTIONS)
            .new_tree(&mut runner)
            .expect("the strategy has no filters")
            .current();
        let world = run(MemoryServer::new(epoch(1)), &scenario).unwrap_or_else(|e| panic!("{e}"));
        total.add(&world.stats);
    }
    eprintln!("{total:#?}");
    total.assert_every_path_taken();
}

#[test]
fn the_targeted_scenario_passes_on_the_reference_server() {
    let world = run(MemoryServer::new(epoch(1)), &concurrent_phone_edits())
        .unwrap_or_else(|e| panic!("{e}"));
    let phone = &world.oracle.live_ids(0)["phone"];
    assert_eq!(
        phone.len(),
        1,
        "the resolution covers both concurrent edits"
    );
}

#[test]
fn oracle_catches_a_server_that_lets_every_write_overwrite() {
    // Every write claims to have seen the record's current version: last writer wins.
    let server = ContextRewriter {
        inner: MemoryServer::new(epoch(1)),
        seen: |s, op| s.record(op.record_id).map_or(0, |r| r.version),
    };
    let Err(e) = run(server, &concurrent_phone_edits()) else {
        panic!("a last-writer-wins server passed the model");
    };
    assert!(e.contains("I1 lost update"), "{e}");
}

#[test]
fn oracle_catches_a_server_that_ignores_contexts() {
    // Every write claims to have seen nothing: false conflicts.
    let server = ContextRewriter {
        inner: MemoryServer::new(epoch(1)),
        seen: |_, _| 0,
    };
    let Err(e) = run(server, &concurrent_phone_edits()) else {
        panic!("a server ignoring contexts passed the model");
    };
    assert!(e.contains("I3 precision"), "{e}");
}
