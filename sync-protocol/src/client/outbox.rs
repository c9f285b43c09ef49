//! The outbox: the device's operations not yet finished by the server (docs/sync-protocol.md,
//! sections 1, 5.3 and 5.5).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::clock::Actor;
use crate::ids::{DeviceId, RecordId};
use crate::outcome::Status;
use crate::wire::{OpKind, OpResult, Operation, PushResponse};

/// One queued operation. Its JSON is fixed when it is queued: a retry must carry the same
/// content, or the server answers `seq_reuse` (section 5.5).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingOp {
    /// Its sequence number under the outbox's installation id.
    pub seq: u64,
    /// The record it writes.
    pub record_id: RecordId,
    /// The record's collection.
    pub collection: String,
    /// Put, patch or delete.
    pub kind: OpKind,
    /// The operation exactly as every push sends it.
    pub json: String,
    /// Answered `seq_reuse`: not written, and only a new installation id may send it again.
    #[serde(default)]
    pub reused: bool,
}

impl PendingOp {
    /// The operation the stored JSON holds.
    pub fn operation(&self) -> Operation {
        serde_json::from_str(&self.json).expect("the outbox stores only serialised operations")
    }
}

/// An operation the server has finished with, and the answer that finished it.
#[derive(Clone, Debug, PartialEq)]
pub struct Finished {
    /// The operation, as it was sent.
    pub op: PendingOp,
    /// Its result; `None` when an `acked_seq` covered it without a result in this answer
    /// (an earlier push whose answer was lost).
    pub result: Option<OpResult>,
}

impl Finished {
    /// The status that decides what the client does: a duplicate counts as its first
    /// processing's status.
    pub fn effective_status(&self) -> Option<Status> {
        self.result.as_ref().map(|r| match r.status {
            Status::Duplicate => r.original_status.unwrap_or(Status::Duplicate),
            s => s,
        })
    }
}

/// What one push answer did to the outbox.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Acknowledged {
    /// Operations dropped from the outbox, oldest first.
    pub finished: Vec<Finished>,
    /// Numbers answered `seq_reuse`: kept, but this installation id must not send again.
    pub reused: Vec<u64>,
    /// The server asked to resend from a number the outbox no longer holds (it forgot
    /// processed numbers, as after a restore): only a new installation id can go on.
    pub unresendable_gap: Option<u64>,
}

/// The device's operations in sequence order, with the numbering of one installation id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outbox {
    device: DeviceId,
    next_seq: u64,
    ops: BTreeMap<u64, PendingOp>,
}

impl Outbox {
    /// An empty outbox of a new installation id: the first operation gets seq 1.
    pub fn new(device: DeviceId) -> Self {
        Outbox {
            device,
            next_seq: 1,
            ops: BTreeMap::new(),
        }
    }

    /// The installation id the numbers belong to.
    pub fn device(&self) -> DeviceId {
        self.device
    }

    /// The number the next queued operation gets. Numbers are never given twice, so this
    /// only grows, whatever happens to the operations.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Numbers `op` with the next seq, serialises it once, and keeps it. Returns its seq.
    pub fn enqueue(&mut self, mut op: Operation) -> u64 {
        let seq = self.next_seq;
        op.seq = seq;
        let json = serde_json::to_string(&op).expect("an operation always serialises");
        self.ops.insert(
            seq,
            PendingOp {
                seq,
                record_id: op.record_id,
                collection: op.collection,
                kind: op.kind,
                json,
                reused: false,
            },
        );
        self.next_seq += 1;
        seq
    }

    /// Every pending operation, oldest first.
    pub fn pending(&self) -> impl Iterator<Item = &PendingOp> {
        self.ops.values()
    }

    /// The pending operations on one record, oldest first.
    pub fn pending_for(&self, id: RecordId) -> impl Iterator<Item = &PendingOp> {
        self.ops.values().filter(move |p| p.record_id == id)
    }

    /// Whether any operation on `id` is pending.
    pub fn has_pending(&self, id: RecordId) -> bool {
        self.pending_for(id).next().is_some()
    }

    /// How many operations are pending.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The next batch: at most `max` operations from the oldest on. The server needs the
    /// numbers contiguous, so the batch ends before an operation this id may not send.
    pub fn next_batch(&self, max: usize) -> Vec<&PendingOp> {
        self.ops
            .values()
            .take_while(|p| !p.reused)
            .take(max.max(1))
            .collect()
    }

    /// [`Outbox::next_batch`], cut further so that its push body stays within `max_bytes`;
    /// always at least one operation, so an oversized one is sent (and answered) alone.
    pub fn next_batch_within(&self, max: usize, max_bytes: usize) -> Vec<&PendingOp> {
        let mut size = self.push_body(&[]).len();
        let mut batch = Vec::new();
        for op in self.next_batch(max) {
            // One comma between operations.
            let grown = size + op.json.len() + usize::from(!batch.is_empty());
            if grown > max_bytes && !batch.is_empty() {
                break;
            }
            size = grown;
            batch.push(op);
        }
        batch
    }

    /// The body of a push of `batch`, built from the stored JSON of each operation so that
    /// a resend carries the same bytes.
    pub fn push_body(&self, batch: &[&PendingOp]) -> String {
        let ops: Vec<&str> = batch.iter().map(|p| p.json.as_str()).collect();
        format!(
            "{{\"device_id\":\"{}\",\"ops\":[{}]}}",
            self.device,
            ops.join(",")
        )
    }

    /// Applies the rules of section 5.3 to one push answer: drops every operation with
    /// `seq <= acked_seq` except those answered `seq_reuse`, and keeps the rest.
    pub fn acknowledge(&mut self, resp: &PushResponse) -> Acknowledged {
        let mut out = Acknowledged::default();
        let mut results: BTreeMap<u64, &OpResult> =
            resp.results.iter().map(|r| (r.seq, r)).collect();
        for r in resp.results.iter().filter(|r| r.status == Status::SeqReuse) {
            if let Some(p) = self.ops.get_mut(&r.seq) {
                p.reused = true;
                out.reused.push(r.seq);
            }
            results.remove(&r.seq);
        }
        let done: Vec<u64> = self
            .ops
            .range(..=resp.acked_seq)
            .filter(|(_, p)| !p.reused)
            .map(|(s, _)| *s)
            .collect();
        for seq in done {
            if let Some(op) = self.ops.remove(&seq) {
                out.finished.push(Finished {
                    op,
                    result: results.get(&seq).map(|r| (*r).clone()),
                });
            }
        }
        if let Some(from) = resp.resend_from {
            let held = self.ops.contains_key(&from);
            if !held && from < self.next_seq {
                out.unresendable_gap = Some(from);
            }
        }
        out
    }

    /// Moves every pending operation to a new installation id: numbers from 1 in the same
    /// order, the old id's entry taken out of each context, serialised anew. Only a new id
    /// may do this: under the old one a changed operation is a `seq_reuse`.
    pub fn move_to(&mut self, device: DeviceId) {
        for mut op in self.restart(device) {
            op.ctx.vv.0.retain(|actor, _| *actor == Actor::Server);
            self.enqueue(op);
        }
    }

    /// Empties the outbox for a new installation id, whose first operation gets seq 1, and
    /// returns the operations it held, oldest first, for the caller to queue again.
    pub fn restart(&mut self, device: DeviceId) -> Vec<Operation> {
        let old = std::mem::take(&mut self.ops);
        self.device = device;
        self.next_seq = 1;
        old.into_values().map(|p| p.operation()).collect()
    }
}
