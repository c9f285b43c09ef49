//! What a run did and found, printed at its end.

use std::fmt;
use std::time::Duration;

use sync_protocol::client::Event;
use sync_protocol::outcome::Status;
use sync_protocol::wire::WireError;

use super::faults::{Fault, Faults};

/// Counts kept during the run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Visits recorded on devices.
    pub visits: u64,
    /// Aid deliveries recorded on devices.
    pub aid: u64,
    /// Household edits on devices.
    pub household_edits: u64,
    /// Household edits by the administrator's console.
    pub console_edits: u64,
    /// Reassignments by the administrator.
    pub reassignments: u64,
    /// Assignments ended.
    pub unassigned: u64,
    /// Push results by status as first processed: applied, conflict, rejected.
    pub applied: u64,
    /// See `applied`.
    pub conflicts: u64,
    /// See `applied`.
    pub rejected: u64,
    /// Of the rejected: `out_of_scope` (held for review).
    pub held: u64,
    /// Results answered `duplicate`.
    pub duplicates: u64,
    /// Results answered `gap`.
    pub gaps: u64,
    /// Records received by pulls.
    pub pulled: u64,
    /// Removals received by pulls.
    pub removals: u64,
    /// Refused requests (401, 5xx, ...).
    pub refused: u64,
    /// Late copies delivered.
    pub late_delivered: u64,
    /// Days a device spent offline.
    pub offline_days: u64,
    /// App crashes (state reloaded from the store).
    pub crashes: u64,
    /// Server kills and restarts.
    pub kills: u64,
    /// Syncs started, and syncs given up after too many lost answers.
    pub syncs: u64,
    /// See `syncs`.
    pub gave_up: u64,
    /// Conflict events shown to officers.
    pub conflict_events: u64,
}

impl Counters {
    /// Counts one push result; `effective` is a duplicate's original status.
    pub fn count_result(&mut self, status: Status, effective: Status, error: Option<&WireError>) {
        match status {
            Status::Duplicate => self.duplicates += 1,
            Status::Gap => self.gaps += 1,
            _ => match effective {
                Status::Applied => self.applied += 1,
                Status::Conflict => self.conflicts += 1,
                Status::Rejected => {
                    self.rejected += 1;
                    if error.is_some_and(|e| e.code == "out_of_scope") {
                        self.held += 1;
                    }
                }
                _ => {}
            },
        }
    }

    /// Counts what the client told the officer.
    pub fn count_event(&mut self, e: &Event) {
        if matches!(e, Event::Conflict { .. }) {
            self.conflict_events += 1;
        }
    }
}

/// The end of a run.
pub struct Summary {
    /// The seed.
    pub seed: u64,
    /// What was counted.
    pub counters: Counters,
    /// Faults injected by kind.
    pub faults: Faults,
    /// Devices simulated.
    pub devices: usize,
    /// Records on the server at the end.
    pub records: usize,
    /// How long it took.
    pub elapsed: Duration,
    /// Checks that ran, and those skipped with why.
    pub checks: Vec<String>,
    /// Every violation found; empty when the run passed.
    pub violations: Vec<String>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.counters;
        writeln!(f, "simulation, seed {}", self.seed)?;
        writeln!(
            f,
            "  devices {}, records on the server {}, time {:.1} s",
            self.devices,
            self.records,
            self.elapsed.as_secs_f64()
        )?;
        writeln!(
            f,
            "  operations: {} visits, {} aid, {} household edits on devices, {} console edits",
            c.visits, c.aid, c.household_edits, c.console_edits
        )?;
        writeln!(
            f,
            "  results: {} applied, {} conflict, {} rejected ({} held out_of_scope), {} duplicate, {} gap",
            c.applied, c.conflicts, c.rejected, c.held, c.duplicates, c.gaps
        )?;
        writeln!(
            f,
            "  assignments: {} reassigned, {} ended; {} removals pulled, {} records pulled",
            c.reassignments, c.unassigned, c.removals, c.pulled
        )?;
        writeln!(
            f,
            "  conflicts shown to officers: {}; syncs {} ({} given up); offline days {}; app crashes {}; server kills {}",
            c.conflict_events, c.syncs, c.gave_up, c.offline_days, c.crashes, c.kills
        )?;
        let faults: Vec<String> = Fault::ALL
            .iter()
            .map(|k| format!("{} {}", self.faults.count(*k), k.name()))
            .collect();
        writeln!(
            f,
            "  faults (rate {}): {}; {} refused requests; {} late copies delivered",
            self.faults.rate,
            faults.join(", "),
            c.refused,
            c.late_delivered
        )?;
        for check in &self.checks {
            writeln!(f, "  check: {check}")?;
        }
        if self.violations.is_empty() {
            writeln!(f, "  no violations")?;
        } else {
            writeln!(f, "  {} VIOLATIONS:", self.violations.len())?;
            for v in self.violations.iter().take(50) {
                writeln!(f, "    {v}")?;
            }
        }
        Ok(())
    }
}
