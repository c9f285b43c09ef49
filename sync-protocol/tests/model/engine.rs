//! The model of the batch driver and the merge (`research/clocks.md` section 8, invariants
//! I1-I7 of section 7), behind a [`Server`] trait: `tests/model.rs` runs it against
//! [`MemoryServer`], the tests crate's `model_store.rs` against the real database store.
//! Both include this file by path, so there is one model, not two copies drifting apart.
//!
//! Random interleavings of edits, windowed pushes (gaps, duplicates, reordering), lost
//! responses, pulls, resends and device crashes run against the server.
//!
//! The oracle never looks at dots. It keeps each write's explicit causal history: every
//! write applied before the record version its device had seen, plus the device's own earlier
//! writes to the record and, transitively, what those had seen. A write is live in a register
//! when no other applied write touching that register has it in its history. The server's
//! live sets must equal these after every action; push answers, dots, versions, retries and
//! pulls are predicted and checked too.
//!
//! The devices follow the client rules of section 2.7, plus one the model found necessary:
//! a device stores an edit together with the record version it was based on, so its context
//! for a record never goes backwards. Without that (a crash forgetting an answer the device
//! had already edited on top of), a later edit carries an older context; supersession is per
//! register, so the device's own earlier write does not carry what it had seen into the other
//! registers, and the server keeps false siblings (I3; never a lost update).

// Each includer uses a different part (the broken servers and the oracle's self-test only
// run in the protocol crate).
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use super::common::{DAY_MS, T0, dev, env};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{Map, Value, json};
use sync_protocol::memory::MemoryServer;
use sync_protocol::outcome::Status;
use sync_protocol::state::EXISTS;
use sync_protocol::wire::{OpResult, PushResponse, ReceivedOp, RecordView};
use sync_protocol::{
    ApplyEnv, Collection, Context, DeviceId, Hlc, OpKind, Operation, RecordId, RecordState,
};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// The system under test, behind a trait so that deliberately broken servers can be run
// through the same model to show that the oracle does fail.

pub trait Server {
    fn push(&mut self, device: DeviceId, env: &ApplyEnv, ops: Vec<ReceivedOp>) -> PushResponse;
    fn pull(&self, cursor: u64) -> (Vec<RecordView>, u64);
    fn record(&self, id: RecordId) -> Option<&RecordState>;
    fn last_seq(&self, device: DeviceId) -> u64;
}

impl Server for MemoryServer {
    fn push(&mut self, device: DeviceId, env: &ApplyEnv, ops: Vec<ReceivedOp>) -> PushResponse {
        MemoryServer::push(self, device, env, ops)
    }
    fn pull(&self, cursor: u64) -> (Vec<RecordView>, u64) {
        MemoryServer::pull(self, cursor)
    }
    fn record(&self, id: RecordId) -> Option<&RecordState> {
        MemoryServer::record(self, id)
    }
    fn last_seq(&self, device: DeviceId) -> u64 {
        MemoryServer::last_seq(self, device)
    }
}

// ---------------------------------------------------------------------------------------------
// Actions.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Phone,
    Notes,
    WelfareDecile,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::Phone => "phone",
            Field::Notes => "notes",
            Field::WelfareDecile => "welfare_decile",
        }
    }

    // Small domains with a null, so concurrent writes sometimes agree (siblings that are no
    // conflict) and sometimes clear the field.
    fn value(self, v: u8) -> Value {
        let i = usize::from(v % 4);
        match self {
            Field::Phone => [json!("0811"), json!("0812"), json!("0813"), Value::Null][i].clone(),
            Field::Notes => [json!("sakit"), json!("pindah"), Value::Null, json!("ok")][i].clone(),
            Field::WelfareDecile => [json!(1), json!(2), json!(3), Value::Null][i].clone(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edit {
    Put,
    Patch(Field),
    Delete,
}

#[derive(Clone, Debug)]
pub enum Action {
    /// Nothing happens (the checks still run). First, so that shrinking turns every action
    /// a failure does not need into this one.
    Idle,
    /// The device edits a record on top of what it last saw of it.
    Edit {
        device: usize,
        record: usize,
        edit: Edit,
        value: u8,
        /// 0..=8 are ordinary clock readings; 9 is a clock a day fast.
        tick: u8,
    },
    /// Sends `outbox[skip..skip + len]` (`skip > 0` makes a gap; the outbox may hold ops the
    /// server already applied but whose answer was lost, which makes duplicates).
    Push {
        device: usize,
        skip: usize,
        len: Option<usize>,
        lose_response: bool,
        /// Whether the device persisted what it learnt before the next crash.
        persist: bool,
        reverse: bool,
    },
    Pull {
        device: usize,
    },
    /// Sends an earlier batch again, as a retrying network layer would.
    Resend {
        device: usize,
        batch: usize,
        lose_response: bool,
    },
    /// The device restarts: the outbox and every edit are persisted, unpersisted acks and
    /// responses are forgotten.
    Crash {
        device: usize,
    },
}

#[derive(Clone)]
pub struct Scenario {
    pub devices: usize,
    pub records: usize,
    pub actions: Vec<Action>,
}

// Shrunk failures are padded with `Idle` up to the minimum length; leaving them out keeps
// the minimal failing input readable. Indices are kept so they match the error message.
impl std::fmt::Debug for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let actions: Vec<(usize, &Action)> = self
            .actions
            .iter()
            .enumerate()
            .filter(|(_, a)| !matches!(a, Action::Idle))
            .collect();
        f.debug_struct("Scenario")
            .field("devices", &self.devices)
            .field("records", &self.records)
            .field("actions", &actions)
            .finish()
    }
}

fn edit_strategy() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => Just(Edit::Put),
        3 => Just(Edit::Patch(Field::Phone)),
        1 => Just(Edit::Patch(Field::Notes)),
        1 => Just(Edit::Patch(Field::WelfareDecile)),
        1 => Just(Edit::Delete),
    ]
}

fn action_strategy() -> impl Strategy<Value = Action> {
    prop_oneof![
        1 => Just(Action::Idle),
        5 => (0..4usize, 0..3usize, edit_strategy(), 0..6u8, 0..10u8).prop_map(
            |(device, record, edit, value, tick)| Action::Edit { device, record, edit, value, tick }
        ),
        3 => (
            0..4usize,
            prop_oneof![4 => Just(0usize), 1 => 1..3usize],
            prop_oneof![2 => Just(None), 1 => (1..4usize).prop_map(Some)],
            prop::bool::weighted(0.25),
            prop::bool::weighted(0.5),
            prop::bool::weighted(0.2),
        )
            .prop_map(|(device, skip, len, lose_response, persist, reverse)| Action::Push {
                device,
                skip,
                len,
                lose_response,
                persist,
                reverse,
            }),
        2 => (0..4usize).prop_map(|device| Action::Pull { device }),
        1 => (0..4usize, 0..8usize, prop::bool::weighted(0.3)).prop_map(
            |(device, batch, lose_response)| Action::Resend { device, batch, lose_response }
        ),
        2 => (0..4usize).prop_map(|device| Action::Crash { device }),
    ]
}

/// Scenarios of `actions` actions (after which every device pushes and pulls everything).
pub fn scenario_strategy(
    actions: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = Scenario> {
    (
        3..=4usize,
        2..=3usize,
        prop::collection::vec(action_strategy(), actions),
    )
        .prop_map(|(devices, records, actions)| Scenario {
            devices,
            records,
            actions,
        })
}

// ---------------------------------------------------------------------------------------------
// The oracle.

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct WriteId {
    pub device: usize,
    pub seq: u64,
}

/// Live writes per register name.
pub type LiveSets = BTreeMap<String, BTreeSet<WriteId>>;

/// What a push result must say, predicted by the oracle (or read back from the server).
#[derive(Clone, Debug, PartialEq)]
struct Expected {
    seq: u64,
    status: Status,
    original_status: Option<Status>,
    dot: Option<u64>,
    conflicts: Vec<String>,
    stale_context: bool,
    clock_skew: bool,
    error: Option<String>,
    record_version: Option<u64>,
}

impl Expected {
    fn observed(r: &OpResult) -> Self {
        Expected {
            seq: r.seq,
            status: r.status,
            original_status: r.original_status,
            dot: r.dot,
            conflicts: r.conflicts.clone(),
            stale_context: r.stale_context,
            clock_skew: r.clock_skew,
            error: r.error.as_ref().map(|e| e.code.clone()),
            record_version: r.record.as_ref().map(|v| v.version),
        }
    }
}

pub struct Write {
    pub id: WriteId,
    pub record: usize,
    pub kind: OpKind,
    /// Register name to the value the write puts there.
    pub registers: BTreeMap<&'static str, Value>,
    /// Bit i set: write i happened before this one.
    history: u128,
    skewed: bool,
    /// The server-issued dot, once applied: used only to check I5, never to decide liveness.
    dot: Option<u64>,
    /// The result of its first processing, which every retry must repeat.
    first: Option<Expected>,
}

/// Histories are bitsets over write indices; a scenario of at most 60 actions stays well
/// inside 128 writes.
const MAX_WRITES: usize = 128;

fn bit(w: usize) -> u128 {
    1u128 << w
}

pub struct Oracle {
    pub writes: Vec<Write>,
    /// Per device, its writes in seq order (index seq - 1).
    by_device: Vec<Vec<usize>>,
    /// The last seq the server has processed, per device.
    server_last: Vec<u64>,
    /// Per record, the applied writes in the order they were applied.
    pub applied: Vec<Vec<usize>>,
}

impl Oracle {
    fn new(devices: usize, records: usize) -> Self {
        Oracle {
            writes: Vec::new(),
            by_device: vec![Vec::new(); devices],
            server_last: vec![0; devices],
            applied: vec![Vec::new(); records],
        }
    }

    fn index(&self, id: WriteId) -> Option<usize> {
        let seq = usize::try_from(id.seq).ok()?.checked_sub(1)?;
        self.by_device.get(id.device)?.get(seq).copied()
    }

    /// The writes a device knows of after seeing `version` of `record`: a version is a
    /// state, and a state reflects every write applied before it.
    fn seen(&self, record: usize, version: u64) -> Result<u128, String> {
        let n = usize::try_from(version).map_err(|e| e.to_string())?;
        let prefix = self.applied[record].get(..n).ok_or_else(|| {
            format!(
                "a device saw version {version} of record {record}, but only {} writes were applied",
                self.applied[record].len()
            )
        })?;
        Ok(prefix.iter().fold(0, |acc, &w| acc | bit(w)))
    }

    /// Per register, the applied writes touching it that are in no other such write's
    /// history.
    fn live(&self, record: usize) -> BTreeMap<&'static str, Vec<usize>> {
        let mut touching: BTreeMap<&'static str, (Vec<usize>, u128)> = BTreeMap::new();
        for &w in &self.applied[record] {
            for reg in self.writes[w].registers.keys() {
                let entry = touching.entry(reg).or_default();
                entry.0.push(w);
                entry.1 |= self.writes[w].history;
            }
        }
        touching
            .into_iter()
            .map(|(reg, (ws, covered))| {
                let live = ws.into_iter().filter(|&w| covered & bit(w) == 0).collect();
                (reg, live)
            })
            .collect()
    }

    pub fn live_ids(&self, record: usize) -> LiveSets {
        self.live(record)
            .into_iter()
            .map(|(reg, ws)| {
                let ids = ws.into_iter().map(|w| self.writes[w].id).collect();
                (reg.to_owned(), ids)
            })
            .collect()
    }

    fn register_conflicted(&self, live: &[usize], reg: &str) -> bool {
        let mut values = live.iter().map(|&w| &self.writes[w].registers[reg]);
        values
            .next()
            .is_some_and(|first| values.any(|v| v != first))
    }

    fn version(&self, record: usize) -> u64 {
        self.applied[record].len() as u64
    }

    /// Predicts the server's answer to a batch and records what it applies.
    fn process(&mut self, device: usize, batch: &[Operation]) -> (Vec<Expected>, u64, Option<u64>) {
        let mut seqs: Vec<(u64, usize)> = batch
            .iter()
            .map(|op| (op.seq, record_index(op.record_id)))
            .collect();
        seqs.sort_by_key(|&(seq, _)| seq);
        let mut last = self.server_last[device];
        let mut resend_from = None;
        let mut out = Vec::new();
        for (seq, record) in seqs {
            let existing = |o: &Oracle| (o.version(record) > 0).then(|| o.version(record));
            if resend_from.is_some() {
                out.push(gap(seq));
            } else if seq <= last {
                let w = self
                    .index(WriteId { device, seq })
                    .expect("processed writes exist");
                let first = self.writes[w]
                    .first
                    .clone()
                    .expect("processed writes have a result");
                out.push(Expected {
                    status: Status::Duplicate,
                    original_status: Some(first.status),
                    record_version: existing(self),
                    ..first
                });
            } else if seq == last + 1 {
                let w = self
                    .index(WriteId { device, seq })
                    .expect("sent writes exist");
                let result = self.apply(w, seq, record);
                self.writes[w].first = Some(result.clone());
                out.push(result);
                last = seq;
            } else {
                resend_from = Some(last + 1);
                out.push(gap(seq));
            }
        }
        self.server_last[device] = last;
        (out, last, resend_from)
    }

    fn apply(&mut self, w: usize, seq: u64, record: usize) -> Expected {
        let skewed = self.writes[w].skewed;
        if self.writes[w].kind != OpKind::Put && self.applied[record].is_empty() {
            return Expected {
                seq,
                status: Status::Rejected,
                original_status: None,
                dot: None,
                conflicts: Vec::new(),
                stale_context: false,
                clock_skew: false,
                error: Some("record_not_found".into()),
                record_version: None,
            };
        }
        self.applied[record].push(w);
        let dot = self.version(record);
        self.writes[w].dot = Some(dot);
        let live = self.live(record);
        let conflicts: Vec<String> = self.writes[w]
            .registers
            .keys()
            .filter(|reg| self.register_conflicted(&live[*reg], reg))
            .map(|reg| (*reg).to_owned())
            .collect();
        Expected {
            seq,
            status: if conflicts.is_empty() {
                Status::Applied
            } else {
                Status::Conflict
            },
            original_status: None,
            dot: Some(dot),
            conflicts,
            stale_context: false,
            clock_skew: skewed,
            error: None,
            record_version: Some(dot),
        }
    }
}

fn gap(seq: u64) -> Expected {
    Expected {
        seq,
        status: Status::Gap,
        original_status: None,
        dot: None,
        conflicts: Vec::new(),
        stale_context: false,
        clock_skew: false,
        error: Some("gap".into()),
        record_version: None,
    }
}

/// Compares the server's live sets with the oracle's and names the invariant broken.
pub fn check_live(record: usize, oracle: &LiveSets, server: &LiveSets) -> Result<(), String> {
    let empty = BTreeSet::new();
    let registers: BTreeSet<&String> = oracle.keys().chain(server.keys()).collect();
    for reg in registers {
        let o = oracle.get(reg).unwrap_or(&empty);
        let s = server.get(reg).unwrap_or(&empty);
        if let Some(w) = o.difference(s).next() {
            return Err(format!(
                "I1 lost update / I2 false dominance: record {record} register `{reg}`: {w:?} is \
                 in no other applied write's causal history, but the server dropped it \
                 (oracle {o:?}, server {s:?})"
            ));
        }
        if let Some(w) = s.difference(o).next() {
            return Err(format!(
                "I3 precision: record {record} register `{reg}`: the server keeps {w:?}, which \
                 is in the causal history of another live write or was never applied there \
                 (oracle {o:?}, server {s:?})"
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Devices.

/// What a device knows; `durable` is the copy that survives a crash.
#[derive(Clone, Debug, PartialEq)]
struct Memory {
    acked: u64,
    views: Vec<Option<RecordView>>,
    cursor: u64,
}

impl Memory {
    fn version(&self, record: usize) -> u64 {
        self.views[record].as_ref().map_or(0, |v| v.version)
    }
}

struct Device {
    /// Every op ever made, index seq - 1. The outbox is `ops[mem.acked..]`.
    ops: Vec<Operation>,
    mem: Memory,
    durable: Memory,
    sent: Vec<Vec<Operation>>,
}

pub fn device_id(d: usize) -> DeviceId {
    dev(d as u128 + 1)
}

pub fn record_id(r: usize) -> RecordId {
    RecordId(Uuid::from_u128(0xAAAA + r as u128))
}

pub fn record_index(id: RecordId) -> usize {
    let n = id.0.as_u128().wrapping_sub(0xAAAA);
    usize::try_from(n).expect("a record of the model")
}

const DESA: &str = "3510010001";

fn put_fields(v: u8) -> Map<String, Value> {
    let name = ["Ani", "Budi", "Citra"][usize::from(v % 3)];
    let mut m = Map::new();
    m.insert("head_name".into(), json!(name));
    m.insert("desa_code".into(), json!(DESA));
    m.insert("status".into(), json!("active"));
    for f in [Field::Phone, Field::Notes, Field::WelfareDecile] {
        m.insert(f.name().into(), f.value(v / 2));
    }
    m
}

/// The registers a write touches and the value it leaves in each. A put writes every
/// register of the schema, absent fields as null; a patch writes the registers of its
/// fields; every write sets existence.
fn register_writes(
    edit: Edit,
    fields: Option<&Map<String, Value>>,
) -> BTreeMap<&'static str, Value> {
    let schema = Collection::Households.schema();
    let mut out = BTreeMap::new();
    match edit {
        Edit::Put => {
            for d in schema.fields {
                let v = fields
                    .and_then(|f| f.get(d.name))
                    .cloned()
                    .unwrap_or(Value::Null);
                if let Value::Object(m) = out
                    .entry(d.register())
                    .or_insert_with(|| Value::Object(Map::new()))
                {
                    m.insert(d.name.to_owned(), v);
                }
            }
        }
        Edit::Patch(f) => {
            let d = schema
                .fields
                .iter()
                .find(|d| d.name == f.name())
                .expect("patched fields are in the schema");
            let v = fields
                .and_then(|m| m.get(f.name()))
                .cloned()
                .unwrap_or(Value::Null);
            out.insert(d.register(), json!({ f.name(): v }));
        }
        Edit::Delete => {}
    }
    out.insert(EXISTS, Value::Bool(edit != Edit::Delete));
    out
}

// ---------------------------------------------------------------------------------------------
// The world: server, devices and oracle, stepped by actions.

#[derive(Debug, PartialEq)]
struct Snapshot {
    records: Vec<Option<RecordState>>,
    json: String,
    changes: Vec<RecordView>,
    last_seqs: Vec<u64>,
}

/// How often each path was exercised, so a generator that stops reaching one is noticed.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    applied: usize,
    conflicts: usize,
    rejected: usize,
    duplicates: usize,
    gaps: usize,
    replays: usize,
    lost_responses: usize,
    crashes: usize,
    skewed: usize,
    equal_siblings: usize,
    delete_vs_update: usize,
    max_siblings: usize,
}

impl Stats {
    pub fn add(&mut self, s: &Stats) {
        self.applied += s.applied;
        self.conflicts += s.conflicts;
        self.rejected += s.rejected;
        self.duplicates += s.duplicates;
        self.gaps += s.gaps;
        self.replays += s.replays;
        self.lost_responses += s.lost_responses;
        self.crashes += s.crashes;
        self.skewed += s.skewed;
        self.equal_siblings += s.equal_siblings;
        self.delete_vs_update += s.delete_vs_update;
        self.max_siblings = self.max_siblings.max(s.max_siblings);
    }

    /// Panics naming the first path no scenario took.
    pub fn assert_every_path_taken(&self) {
        let Stats {
            applied,
            conflicts,
            rejected,
            duplicates,
            gaps,
            replays,
            lost_responses,
            crashes,
            skewed,
            equal_siblings,
            delete_vs_update,
            max_siblings,
        } = *self;
        for (name, n) in [
            ("applied", applied),
            ("conflicts", conflicts),
            ("rejected", rejected),
            ("duplicates", duplicates),
            ("gaps", gaps),
            ("replays", replays),
            ("lost_responses", lost_responses),
            ("crashes", crashes),
            ("skewed", skewed),
            ("equal_siblings", equal_siblings),
            ("delete_vs_update", delete_vs_update),
        ] {
            assert!(n > 0, "no scenario reached {name}");
        }
        assert!(max_siblings >= 3, "never more than {max_siblings} siblings");
    }
}

pub struct World<S> {
    pub stats: Stats,
    pub server: S,
    env: ApplyEnv,
    pub oracle: Oracle,
    devices: Vec<Device>,
    records: usize,
    /// Versions seen at the previous check, for I5.
    versions: Vec<u64>,
}

impl<S: Server> World<S> {
    fn new(server: S, devices: usize, records: usize) -> Self {
        let memory = Memory {
            acked: 0,
            views: vec![None; records],
            cursor: 0,
        };
        World {
            stats: Stats::default(),
            server,
            env: env(),
            oracle: Oracle::new(devices, records),
            devices: (0..devices)
                .map(|_| Device {
                    ops: Vec::new(),
                    mem: memory.clone(),
                    durable: memory.clone(),
                    sent: Vec::new(),
                })
                .collect(),
            records,
            versions: vec![0; records],
        }
    }

    fn act(&mut self, action: &Action) -> Result<(), String> {
        let n = self.devices.len();
        match *action {
            Action::Idle => Ok(()),
            Action::Edit {
                device,
                record,
                edit,
                value,
                tick,
            } => self.edit(device % n, record % self.records, edit, value, tick),
            Action::Push {
                device,
                skip,
                len,
                lose_response,
                persist,
                reverse,
            } => {
                let d = &self.devices[device % n];
                let mut batch: Vec<Operation> = d.ops
                    [usize::try_from(d.mem.acked).expect("small")..]
                    .iter()
                    .skip(skip)
                    .take(len.unwrap_or(usize::MAX))
                    .cloned()
                    .collect();
                if reverse {
                    batch.reverse();
                }
                self.push(device % n, batch, lose_response, persist)
            }
            Action::Pull { device } => self.pull(device % n),
            Action::Resend {
                device,
                batch,
                lose_response,
            } => {
                let sent = &self.devices[device % n].sent;
                if sent.is_empty() {
                    return Ok(());
                }
                let batch = sent[batch % sent.len()].clone();
                self.push(device % n, batch, lose_response, false)
            }
            Action::Crash { device } => {
                let d = &mut self.devices[device % n];
                if d.mem != d.durable {
                    self.stats.crashes += 1;
                }
                d.mem = d.durable.clone();
                Ok(())
            }
        }
    }

    fn edit(&mut self, d: usize, r: usize, edit: Edit, value: u8, tick: u8) -> Result<(), String> {
        let w = self.oracle.writes.len();
        if w >= MAX_WRITES {
            return Err(format!("the model holds at most {MAX_WRITES} writes"));
        }
        let device = &self.devices[d];
        let seq = device.ops.len() as u64 + 1;
        let seen_version = device.mem.version(r);
        // The device's own earlier writes to the record are in its history even unapplied,
        // and so is everything they had seen.
        let mut history = self.oracle.seen(r, seen_version)?;
        for &e in &self.oracle.by_device[d] {
            if self.oracle.writes[e].record == r {
                history |= bit(e) | self.oracle.writes[e].history;
            }
        }
        let (kind, fields) = match edit {
            Edit::Put => (OpKind::Put, Some(put_fields(value))),
            Edit::Patch(f) => {
                let mut m = Map::new();
                m.insert(f.name().into(), f.value(value));
                (OpKind::Patch, Some(m))
            }
            Edit::Delete => (OpKind::Delete, None),
        };
        let skewed = tick >= 9;
        let hlc = if skewed {
            Hlc::at(T0 + DAY_MS)
        } else {
            Hlc::at(T0 - 10_000 + u64::from(tick) * 1000)
        };
        let registers = register_writes(edit, fields.as_ref());
        let op = Operation {
            seq,
            op_id: None,
            collection: "households".into(),
            record_id: record_id(r),
            kind,
            ctx: Context::seen(self.env.epoch, seen_version),
            hlc,
            fields,
        };
        self.oracle.writes.push(Write {
            id: WriteId { device: d, seq },
            record: r,
            kind,
            registers,
            history,
            skewed,
            dot: None,
            first: None,
        });
        self.oracle.by_device[d].push(w);
        let device = &mut self.devices[d];
        device.ops.push(op);
        // The op is stored with the state it was based on, so a crash cannot take the
        // device's view of this record back behind its own edit.
        device.durable = device.mem.clone();
        Ok(())
    }

    /// What the server holds, and a cursor past all of it.
    fn snapshot(&self) -> (Snapshot, u64) {
        let records: Vec<Option<RecordState>> = (0..self.records)
            .map(|r| self.server.record(record_id(r)).cloned())
            .collect();
        let (changes, cursor) = self.server.pull(0);
        let snapshot = Snapshot {
            json: serde_json::to_string(&records).expect("states serialize"),
            records,
            changes,
            last_seqs: (0..self.devices.len())
                .map(|d| self.server.last_seq(device_id(d)))
                .collect(),
        };
        (snapshot, cursor)
    }

    fn push(
        &mut self,
        d: usize,
        batch: Vec<Operation>,
        lose_response: bool,
        persist: bool,
    ) -> Result<(), String> {
        if !batch.is_empty() {
            self.devices[d].sent.push(batch.clone());
        }
        let last = self.oracle.server_last[d];
        let replay = batch.iter().all(|op| op.seq <= last);
        let before = replay.then(|| self.snapshot());
        let (expected, acked, resend_from) = self.oracle.process(d, &batch);
        let received = batch.into_iter().map(ReceivedOp::from_operation).collect();
        let response = self.server.push(device_id(d), &self.env, received);

        // The merge invariants first, so that a broken merge is reported by name rather
        // than as a mismatched status.
        self.check()?;
        if let Some((before, cursor)) = before {
            let (after, _) = self.snapshot();
            // Cursors are opaque and may move with no change at all (on PostgreSQL the pull
            // horizon follows every transaction of the cluster), so they are not compared:
            // a replay left the change feed alone when a pull from before it finds nothing.
            let (since, _) = self.server.pull(cursor);
            if before != after || !since.is_empty() {
                return Err(format!(
                    "I6 idempotency: replaying an already processed batch changed the server\n\
                     before: {before:?}\nafter:  {after:?}\nchanged since: {since:?}"
                ));
            }
        }
        let observed: Vec<Expected> = response.results.iter().map(Expected::observed).collect();
        if observed != expected
            || response.acked_seq != acked
            || response.resend_from != resend_from
            || response.epoch != self.env.epoch
        {
            return Err(format!(
                "push response differs from the oracle's prediction\n\
                 expected acked {acked} resend_from {resend_from:?} {expected:#?}\n\
                 got {response:#?}"
            ));
        }

        for e in &expected {
            let stats = &mut self.stats;
            match e.status {
                Status::Applied => stats.applied += 1,
                Status::Conflict => stats.conflicts += 1,
                Status::Rejected => stats.rejected += 1,
                Status::Duplicate => stats.duplicates += 1,
                Status::Gap => stats.gaps += 1,
                Status::SeqReuse => {}
            }
            stats.skewed += usize::from(e.clock_skew && e.original_status.is_none());
        }
        self.stats.replays += usize::from(replay && !expected.is_empty());
        self.stats.lost_responses += usize::from(lose_response);
        // What a device learns from an answer must be the record as it now is.
        let now = self.server_views();
        let mut last_view: BTreeMap<RecordId, &RecordView> = BTreeMap::new();
        for view in response.results.iter().filter_map(|r| r.record.as_ref()) {
            last_view.insert(view.id, view);
        }
        for (id, view) in last_view {
            if now[record_index(id)].as_ref() != Some(view) {
                return Err(format!(
                    "push response: the last view of record {} is {view:#?}\nbut the server \
                     holds {:#?}",
                    record_index(id),
                    now[record_index(id)]
                ));
            }
        }

        if !lose_response {
            let mem = &mut self.devices[d].mem;
            mem.acked = mem.acked.max(response.acked_seq);
            for view in response.results.iter().filter_map(|r| r.record.as_ref()) {
                let r = record_index(view.id);
                if view.version >= mem.version(r) {
                    mem.views[r] = Some(view.clone());
                }
            }
            if persist {
                self.devices[d].durable = self.devices[d].mem.clone();
            }
        }
        Ok(())
    }

    fn server_views(&self) -> Vec<Option<RecordView>> {
        (0..self.records)
            .map(|r| self.server.record(record_id(r)).map(RecordView::from))
            .collect()
    }

    fn pull(&mut self, d: usize) -> Result<(), String> {
        let (views, cursor) = self.server.pull(self.devices[d].mem.cursor);
        let mem = &mut self.devices[d].mem;
        for view in views {
            let r = record_index(view.id);
            mem.views[r] = Some(view);
        }
        mem.cursor = cursor;
        self.devices[d].durable = self.devices[d].mem.clone();
        // Edits after a pull claim to have seen every write applied so far; that is only
        // true if the cursor delivered every record the device did not already have.
        let server = self.server_views();
        if self.devices[d].mem.views != server {
            return Err(format!(
                "pull cursor: device {d} after pulling holds {:#?}\nbut the server holds {server:#?}",
                self.devices[d].mem.views
            ));
        }
        Ok(())
    }

    /// I1-I5 on every record.
    fn check(&mut self) -> Result<(), String> {
        for r in 0..self.records {
            let state = self.server.record(record_id(r));
            let version = state.map_or(0, |s| s.version);
            let applied = self.oracle.version(r);
            if version != applied {
                return Err(format!(
                    "I5: record {r} is at version {version} after {applied} applied writes"
                ));
            }
            if version < self.versions[r] {
                return Err(format!(
                    "I5: record {r} went from version {} back to {version}",
                    self.versions[r]
                ));
            }
            self.versions[r] = version;
            let Some(state) = state.cloned() else {
                continue;
            };
            self.check_record(r, &state)?;
        }
        Ok(())
    }

    fn check_record(&mut self, r: usize, state: &RecordState) -> Result<(), String> {
        let oracle = &self.oracle;
        let mut server: LiveSets = BTreeMap::new();
        for (name, reg) in &state.registers {
            for s in &reg.siblings {
                let id = (0..self.devices.len())
                    .find(|&d| device_id(d) == s.dot.device)
                    .map(|device| WriteId {
                        device,
                        seq: s.dot.seq,
                    })
                    .filter(|id| oracle.index(*id).is_some())
                    .ok_or_else(|| {
                        format!("record {r} register `{name}` holds a write nobody made: {s:?}")
                    })?;
                server.entry(name.clone()).or_default().insert(id);
            }
        }
        server.retain(|_, ws| !ws.is_empty());
        let live = oracle.live(r);
        check_live(r, &oracle.live_ids(r), &server)?;

        let mut dots: BTreeMap<u64, (DeviceId, u64)> = BTreeMap::new();
        for (name, reg) in &state.registers {
            let mut origins = BTreeSet::new();
            for s in &reg.siblings {
                if !origins.insert(s.dot.device) {
                    return Err(format!(
                        "I4: record {r} register `{name}` holds two live values from device {}",
                        s.dot.device
                    ));
                }
                let named = (s.dot.device, s.dot.seq);
                if *dots.entry(s.dot.server).or_insert(named) != named {
                    return Err(format!(
                        "I5: record {r} dot {} names two writes: {:?} and {named:?}",
                        s.dot.server, dots[&s.dot.server]
                    ));
                }
                let device = (0..self.devices.len())
                    .find(|&d| device_id(d) == s.dot.device)
                    .expect("checked above");
                let w = &oracle.writes[oracle
                    .index(WriteId {
                        device,
                        seq: s.dot.seq,
                    })
                    .expect("checked above")];
                if w.dot != Some(s.dot.server) || s.dot.server > state.version {
                    return Err(format!(
                        "I5: record {r} holds {:?} with dot {}, but it was the write applied as \
                         dot {:?} of {}",
                        w.id, s.dot.server, w.dot, state.version
                    ));
                }
                if w.registers.get(name.as_str()) != Some(&s.value) {
                    return Err(format!(
                        "record {r} register `{name}`: {:?} holds {} but wrote {:?}",
                        w.id,
                        s.value,
                        w.registers.get(name.as_str())
                    ));
                }
            }
        }

        for (name, reg) in &state.registers {
            let stats = &mut self.stats;
            stats.max_siblings = stats.max_siblings.max(reg.siblings.len());
            stats.equal_siblings += usize::from(reg.siblings.len() > 1 && !reg.is_conflicted());
            stats.delete_vs_update += usize::from(name == EXISTS && reg.is_conflicted());
        }

        let deleted = live.get(EXISTS).is_some_and(|ws| {
            !ws.is_empty()
                && ws
                    .iter()
                    .all(|&w| oracle.writes[w].registers[EXISTS] == Value::Bool(false))
        });
        let conflicted: Vec<String> = live
            .iter()
            .filter(|(reg, ws)| oracle.register_conflicted(ws, reg))
            .map(|(reg, _)| (*reg).to_owned())
            .collect();
        if state.deleted() != deleted || state.conflicted_registers() != conflicted {
            return Err(format!(
                "record {r}: server says deleted {} conflicted {:?}, oracle says deleted \
                 {deleted} conflicted {conflicted:?}",
                state.deleted(),
                state.conflicted_registers()
            ));
        }
        Ok(())
    }

    /// Every device pushes its whole outbox and hears the answer, then every device pulls.
    fn quiesce(&mut self) -> Result<(), String> {
        for d in 0..self.devices.len() {
            let device = &self.devices[d];
            let outbox = device.ops[usize::try_from(device.mem.acked).expect("small")..].to_vec();
            self.push(d, outbox, false, true)?;
            let device = &self.devices[d];
            if device.mem.acked != device.ops.len() as u64 {
                return Err(format!(
                    "device {d} pushed its whole outbox but only {} of {} ops were acked",
                    device.mem.acked,
                    device.ops.len()
                ));
            }
        }
        for d in 0..self.devices.len() {
            self.pull(d)?;
        }
        let server = self.server_views();
        for (d, device) in self.devices.iter().enumerate() {
            if device.mem.views != server {
                return Err(format!(
                    "I7 convergence: device {d} holds {:#?}\nbut the server holds {server:#?}",
                    device.mem.views
                ));
            }
            if device.mem.views != self.devices[0].mem.views {
                return Err(format!("I7 convergence: devices 0 and {d} disagree"));
            }
            let last = self.server.last_seq(device_id(d));
            if last != device.ops.len() as u64 {
                return Err(format!(
                    "device {d} made {} ops but the server processed {last}",
                    device.ops.len()
                ));
            }
        }
        Ok(())
    }
}

pub fn run<S: Server>(server: S, scenario: &Scenario) -> Result<World<S>, String> {
    let mut world = World::new(server, scenario.devices, scenario.records);
    for (i, action) in scenario.actions.iter().enumerate() {
        let step = world.act(action);
        step.and_then(|()| world.check())
            .map_err(|e| format!("after action {i} {action:?}:\n{e}"))?;
    }
    world
        .quiesce()
        .map_err(|e| format!("at quiescence:\n{e}"))?;
    Ok(world)
}

/// `regressions`: where proptest keeps the seeds of failed cases, relative to the package
/// root (cargo runs tests there); the default would put the file next to the test source,
/// since tests/ has no lib.rs to anchor on.
pub fn config(default_cases: u32, regressions: &'static str) -> ProptestConfig {
    ProptestConfig {
        // PROPTEST_CASES raises or lowers the count for a soak run or a quick one.
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default_cases),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        ..ProptestConfig::default()
    }
}

/// Device 0 creates a record; devices 1 and 2 both see it and patch `phone` concurrently;
/// then device 0 resolves on top of everything, with a lost response and a crash on the way.
pub fn concurrent_phone_edits() -> Scenario {
    let edit = |device, edit, value| Action::Edit {
        device,
        record: 0,
        edit,
        value,
        tick: 1,
    };
    let push = |device| Action::Push {
        device,
        skip: 0,
        len: None,
        lose_response: false,
        persist: true,
        reverse: false,
    };
    Scenario {
        devices: 3,
        records: 2,
        actions: vec![
            edit(0, Edit::Put, 0),
            push(0),
            Action::Pull { device: 1 },
            Action::Pull { device: 2 },
            edit(1, Edit::Patch(Field::Phone), 1),
            edit(2, Edit::Patch(Field::Phone), 2),
            push(1),
            Action::Push {
                device: 2,
                skip: 0,
                len: None,
                lose_response: true,
                persist: false,
                reverse: false,
            },
            Action::Crash { device: 2 },
            push(2),
            Action::Pull { device: 0 },
            edit(0, Edit::Patch(Field::Phone), 0),
            push(0),
        ],
    }
}
