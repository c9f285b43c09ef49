//! What the simulator remembers of the run, for the checks at its end: every write made (by
//! a device or the administrator's console) with the registers it writes and the version it
//! had seen, the answers the devices heard, the assignments as they changed, and every push
//! body sent (for the replay of I6).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};
use sync_protocol::clock::Actor;
use sync_protocol::outcome::Status;
use sync_protocol::state::EXISTS;
use sync_protocol::wire::{OpKind, Operation};
use sync_protocol::{Collection, DeviceId, Epoch, RecordId};

/// One write, as its writer made it.
#[derive(Clone, Debug)]
pub struct Write {
    /// The record.
    pub record: RecordId,
    /// Put, patch or delete.
    pub kind: OpKind,
    /// Register name to the value the write puts there.
    pub registers: BTreeMap<String, Value>,
    /// The version of the record the writer had seen, and in which epoch.
    pub seen: u64,
    /// The epoch of `seen`; `None` when the writer had seen nothing.
    pub epoch: Option<Epoch>,
}

impl Write {
    /// The write an operation makes.
    pub fn of(op: &Operation) -> Option<Write> {
        let collection = Collection::from_name(&op.collection)?;
        Some(Write {
            record: op.record_id,
            kind: op.kind,
            registers: register_writes(collection, op.kind, op.fields.as_ref()),
            seen: op.ctx.vv.get(Actor::Server),
            epoch: op.ctx.epoch,
        })
    }
}

/// The registers a write touches and the value it leaves in each: a put writes every
/// register of the schema (absent fields as null), a patch the registers of its fields,
/// and every write sets existence.
pub fn register_writes(
    collection: Collection,
    kind: OpKind,
    fields: Option<&Map<String, Value>>,
) -> BTreeMap<String, Value> {
    let mut out: BTreeMap<String, Value> = BTreeMap::new();
    let given = |name: &str| fields.and_then(|f| f.get(name)).cloned();
    for d in collection.schema().fields {
        let value = match kind {
            OpKind::Put => Some(given(d.name).unwrap_or(Value::Null)),
            OpKind::Patch => given(d.name),
            OpKind::Delete => None,
        };
        if let Some(v) = value
            && let Value::Object(m) = out
                .entry(d.register().to_owned())
                .or_insert_with(|| Value::Object(Map::new()))
        {
            m.insert(d.name.to_owned(), v);
        }
    }
    out.insert(EXISTS.to_owned(), Value::Bool(kind != OpKind::Delete));
    out
}

/// What a device heard about one of its writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Heard {
    /// `applied` or `conflict` (a duplicate's original status).
    pub status: Status,
    /// Its dot.
    pub dot: Option<u64>,
}

/// The simulator's memory of the run.
#[derive(Default)]
pub struct Ledger {
    /// Every device write, by installation id and seq.
    pub writes: BTreeMap<(DeviceId, u64), Write>,
    /// The console's writes, by the seq the server gave them (the console device's id is
    /// read from the server at the end).
    pub console: BTreeMap<u64, Write>,
    /// Writes whose acceptance a device heard.
    pub acked: BTreeMap<(DeviceId, u64), Heard>,
    /// Visit and aid records whose creation was acknowledged, with their household.
    pub created: BTreeMap<RecordId, RecordId>,
    /// Current officer of each household (index), `None` while unassigned.
    pub owner: BTreeMap<RecordId, Option<usize>>,
    /// Households that were ever taken from an officer (reassigned or ended).
    pub taken: BTreeSet<RecordId>,
    /// Every push body sent, with the index of the device that sent it.
    pub pushes: Vec<(usize, String)>,
    /// Violations found during the run (scope leaks, a resend not answered as one).
    pub violations: Vec<String>,
}

impl Ledger {
    /// Remembers a device's queued operation.
    pub fn queued(&mut self, device: DeviceId, op: &Operation) {
        if let Some(w) = Write::of(op) {
            self.writes.insert((device, op.seq), w);
        }
    }
}
