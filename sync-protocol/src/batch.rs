//! Exactly-once processing of a push batch, over any storage that implements
//! [`BatchStore`]. The server runs this inside one database transaction with the device row
//! locked; [`crate::memory::MemoryServer`] runs it over plain maps.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::apply::{Applied, ApplyEnv, apply};
use crate::desa;
use crate::ids::{DeviceId, RecordId};
use crate::outcome::{Outcome, RejectCode, Rejection, Status};
use crate::state::RecordState;
use crate::wire::{OpResult, Operation, PushResponse, ReceivedOp, RecordView, WireError};

/// What the server keeps of a processed operation, to answer its retries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredResult {
    /// The sequence number.
    pub seq: u64,
    /// Fingerprint of the operation as first received.
    pub fingerprint: String,
    /// The record it named, when it could be parsed.
    pub record_id: Option<RecordId>,
    /// Applied, conflict or rejected.
    pub status: Status,
    /// The dot issued.
    pub dot: Option<u64>,
    /// Conflicted registers.
    #[serde(default)]
    pub conflicts: Vec<String>,
    /// Stale context flag.
    #[serde(default)]
    pub stale_context: bool,
    /// Clock skew flag.
    #[serde(default)]
    pub clock_skew: bool,
    /// Why it was rejected.
    #[serde(default)]
    pub error: Option<WireError>,
}

/// How a received sequence number relates to what the server has processed.
#[derive(Clone, Debug, PartialEq)]
pub enum Admission {
    /// The next number: process it.
    Next,
    /// Processed before with the same content: answer with the original result.
    Duplicate(Box<StoredResult>),
    /// Processed before with other content: a reinstalled or cloned device.
    Reuse,
    /// Numbers are missing before it.
    Gap {
        /// The first missing number.
        resend_from: u64,
    },
}

/// Classifies `seq` given the device's last processed number and, when `seq` is not new,
/// what was stored for it. A reused number is never taken for a duplicate: that would drop
/// the new content silently ("history repeating").
pub fn admit(
    last_seq: u64,
    seq: u64,
    stored: Option<StoredResult>,
    fingerprint: &str,
) -> Admission {
    if seq == last_seq + 1 {
        Admission::Next
    } else if seq > last_seq {
        Admission::Gap {
            resend_from: last_seq + 1,
        }
    } else {
        match stored {
            Some(s) if s.fingerprint == fingerprint => Admission::Duplicate(Box::new(s)),
            // Results pruned: the watermark alone proves the number was used, but not by
            // what, so the safe answer is the one that loses nothing.
            _ => Admission::Reuse,
        }
    }
}

/// Storage for one device's batch. Every method runs inside the batch's transaction. The
/// store is opened with the device serialised against its other batches (the server opens
/// it with the device's row locked), so nothing read here moves under the batch.
pub trait BatchStore {
    /// Storage error.
    type Error;
    /// The device's last processed sequence number, as the store was opened with it.
    fn last_seq(&mut self) -> Result<u64, Self::Error>;
    /// The stored results of already processed operations, by sequence number; numbers
    /// with no stored result are left out.
    fn stored_results(&mut self, seqs: &[u64]) -> Result<HashMap<u64, StoredResult>, Self::Error>;
    /// Locks the records the batch may write, given in ascending id order so that batches
    /// from different devices always take locks in the same order, and reads their states.
    fn lock_records(&mut self, ids: &[RecordId]) -> Result<(), Self::Error>;
    /// The current state of a record, `None` if the server has none: as read under
    /// [`BatchStore::lock_records`], or as an earlier operation of this batch left it.
    fn load(&mut self, id: RecordId) -> Result<Option<RecordState>, Self::Error>;
    /// Takes one processed operation: the operation as parsed (`None` when it could not be),
    /// its result and, when it wrote, the record's state before (`old`, `None` for a create)
    /// and after (`new`). Later [`BatchStore::load`]s
    /// of the record see `new`. A store may write at once or keep it for
    /// [`BatchStore::finish`]; either way the effect and the result commit together or not
    /// at all, with the batch's transaction.
    fn commit_op(
        &mut self,
        op: Option<&Operation>,
        result: StoredResult,
        old: Option<&RecordState>,
        new: Option<RecordState>,
    ) -> Result<(), Self::Error>;
    /// Ends the batch, before its transaction commits: writes what `commit_op` kept, stores
    /// the device's last processed sequence number when it moved, and settles whatever else
    /// the store must.
    fn finish(&mut self, last_seq: u64) -> Result<(), Self::Error>;
    /// A reused sequence number was seen: raise the alarm for this device.
    fn seq_reuse_detected(&mut self, seq: u64) -> Result<(), Self::Error>;
    /// Of `codes` (sorted, without repeats), those naming a desa or kelurahan the server
    /// knows. Asked once per batch, for every code its new household writes name.
    fn known_desa(&mut self, codes: &[&str]) -> Result<HashSet<String>, Self::Error>;
    /// Whether the device may make this write: `op` would turn `old` into `new`. A
    /// rejection refuses the operation (it is stored as its result and nothing is written);
    /// the store may keep the operation aside. Every write is allowed by default.
    fn admit_write(
        &mut self,
        op: &Operation,
        old: Option<&RecordState>,
        new: &RecordState,
    ) -> Result<Option<Rejection>, Self::Error> {
        let _ = (op, old, new);
        Ok(None)
    }
    /// Whether the pushing device may be shown `state` in a result: a refused write, or a
    /// duplicate of one made before the record left the device's scope, must not carry the
    /// record's current values to a device that no longer holds it. Every record by default.
    fn may_see(&self, state: &RecordState) -> bool {
        let _ = state;
        true
    }
}

/// Processes one push batch exactly once: retries are answered as duplicates with their
/// original result, a gap stops the batch and asks for a resend, a reused number is refused,
/// and a bad operation is rejected without blocking those after it.
pub fn process_batch<S: BatchStore>(
    store: &mut S,
    device: DeviceId,
    env: &ApplyEnv,
    mut ops: Vec<ReceivedOp>,
) -> Result<PushResponse, S::Error> {
    ops.sort_by_key(|o| o.seq);
    let mut last = store.last_seq()?;
    let mut ids: Vec<RecordId> = ops
        .iter()
        .filter(|o| o.seq > last)
        .filter_map(|o| o.op.as_ref().ok().map(|op| op.record_id))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    store.lock_records(&ids)?;
    let known_desa = {
        let mut codes: Vec<&str> = ops
            .iter()
            .filter(|o| o.seq > last)
            .filter_map(|o| o.op.as_ref().ok().and_then(desa::named))
            .collect();
        codes.sort_unstable();
        codes.dedup();
        if codes.is_empty() {
            HashSet::new()
        } else {
            store.known_desa(&codes)?
        }
    };
    let seen: Vec<u64> = ops.iter().map(|o| o.seq).filter(|s| *s <= last).collect();
    let mut stored_results = if seen.is_empty() {
        HashMap::new()
    } else {
        store.stored_results(&seen)?
    };

    let mut results = Vec::with_capacity(ops.len());
    let mut resend_from = None;
    let mut reuse_reported = false;
    for received in ops {
        let record_id = received.op.as_ref().ok().map(|op| op.record_id);
        if let Some(from) = resend_from {
            results.push(gap_result(received.seq, from));
            continue;
        }
        let stored = if received.seq <= last {
            stored_results.remove(&received.seq)
        } else {
            None
        };
        match admit(last, received.seq, stored, &received.fingerprint) {
            Admission::Gap { resend_from: from } => {
                resend_from = Some(from);
                results.push(gap_result(received.seq, from));
            }
            Admission::Reuse => {
                if !reuse_reported {
                    store.seq_reuse_detected(received.seq)?;
                    reuse_reported = true;
                }
                results.push(OpResult {
                    error: Some(WireError {
                        code: Status::SeqReuse.as_str().into(),
                        message: format!(
                            "sequence number {} was already used for a different operation; \
                             this installation must register a new device id",
                            received.seq
                        ),
                    }),
                    ..bare(received.seq, Status::SeqReuse)
                });
            }
            Admission::Duplicate(original) => {
                let record = match original.record_id {
                    Some(id) => store
                        .load(id)?
                        .filter(|s| store.may_see(s))
                        .map(|s| RecordView::from(&s)),
                    None => None,
                };
                results.push(OpResult {
                    original_status: Some(original.status),
                    dot: original.dot,
                    conflicts: original.conflicts.clone(),
                    stale_context: original.stale_context,
                    clock_skew: original.clock_skew,
                    error: original.error.clone(),
                    record,
                    ..bare(received.seq, Status::Duplicate)
                });
            }
            Admission::Next => {
                let (stored, state, current) =
                    process_one(store, device, env, &known_desa, &received, record_id)?;
                let view = state
                    .as_ref()
                    .or(current.as_ref())
                    .filter(|s| store.may_see(s))
                    .map(RecordView::from);
                results.push(OpResult {
                    original_status: None,
                    dot: stored.dot,
                    conflicts: stored.conflicts.clone(),
                    stale_context: stored.stale_context,
                    clock_skew: stored.clock_skew,
                    error: stored.error.clone(),
                    record: view,
                    ..bare(received.seq, stored.status)
                });
                store.commit_op(received.op.as_ref().ok(), stored, current.as_ref(), state)?;
                last = received.seq;
            }
        }
    }
    store.finish(last)?;
    Ok(PushResponse {
        epoch: env.epoch,
        acked_seq: last,
        resend_from,
        results,
    })
}

type Processed = (StoredResult, Option<RecordState>, Option<RecordState>);

fn process_one<S: BatchStore>(
    store: &mut S,
    device: DeviceId,
    env: &ApplyEnv,
    known_desa: &HashSet<String>,
    received: &ReceivedOp,
    record_id: Option<RecordId>,
) -> Result<Processed, S::Error> {
    let mut stored = StoredResult {
        seq: received.seq,
        fingerprint: received.fingerprint.clone(),
        record_id,
        status: Status::Rejected,
        dot: None,
        conflicts: Vec::new(),
        stale_context: false,
        clock_skew: false,
        error: None,
    };
    let op = match &received.op {
        Ok(op) => op,
        Err(why) => {
            stored.error = Some(WireError {
                code: RejectCode::MalformedOperation.as_str().into(),
                message: why.clone(),
            });
            return Ok((stored, None, None));
        }
    };
    let current = store.load(op.record_id)?;
    let mut applied = apply(current.clone(), device, op, env);
    if applied.state.is_some()
        && let Err(r) = desa::check(op, known_desa)
    {
        applied = Applied::rejected(r);
    }
    if let Some(new) = &applied.state
        && let Some(refused) = store.admit_write(op, current.as_ref(), new)?
    {
        stored.error = Some(WireError::from(&refused));
        return Ok((stored, None, current));
    }
    stored.dot = applied.dot;
    stored.stale_context = applied.stale_context;
    stored.clock_skew = applied.clock_skew;
    match applied.outcome {
        Outcome::Applied => stored.status = Status::Applied,
        Outcome::Conflict { fields } => {
            stored.status = Status::Conflict;
            stored.conflicts = fields;
        }
        Outcome::Rejected(r) => stored.error = Some(WireError::from(&r)),
    }
    Ok((stored, applied.state, current))
}

fn bare(seq: u64, status: Status) -> OpResult {
    OpResult {
        seq,
        status,
        original_status: None,
        dot: None,
        conflicts: Vec::new(),
        stale_context: false,
        clock_skew: false,
        error: None,
        record: None,
    }
}

fn gap_result(seq: u64, resend_from: u64) -> OpResult {
    OpResult {
        error: Some(WireError {
            code: Status::Gap.as_str().into(),
            message: format!(
                "operation {resend_from} is missing; nothing from it on was applied: resend from {resend_from}"
            ),
        }),
        ..bare(seq, Status::Gap)
    }
}
