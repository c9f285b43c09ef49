//! An in-memory reference server: the same batch processing and merge as the real server,
//! over plain maps. It is the model the database-backed server is tested against, and lets
//! a client developer run the protocol without a server.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::convert::Infallible;

use crate::apply::ApplyEnv;
use crate::batch::{BatchStore, StoredResult, process_batch};
use crate::ids::{DeviceId, Epoch, RecordId};
use crate::state::RecordState;
use crate::wire::{Operation, PushResponse, ReceivedOp, RecordView};

#[derive(Clone, Debug, Default)]
struct DeviceLog {
    last_seq: u64,
    results: BTreeMap<u64, StoredResult>,
    seq_reuse_alerts: u64,
}

/// The reference server.
#[derive(Clone, Debug)]
pub struct MemoryServer {
    /// The database epoch.
    pub epoch: Epoch,
    records: HashMap<RecordId, RecordState>,
    devices: HashMap<DeviceId, DeviceLog>,
    change_seq: u64,
    changes: BTreeMap<u64, RecordId>,
    changed_at: HashMap<RecordId, u64>,
    /// The desa a household may name; `None` takes every code as known.
    known_desa: Option<HashSet<String>>,
}

impl MemoryServer {
    /// An empty server in `epoch`.
    pub fn new(epoch: Epoch) -> Self {
        MemoryServer {
            epoch,
            records: HashMap::new(),
            devices: HashMap::new(),
            change_seq: 0,
            changes: BTreeMap::new(),
            changed_at: HashMap::new(),
            known_desa: None,
        }
    }

    /// The server with these desa codes as the only ones a household may name. Without
    /// this it has no areas and takes every code as known.
    pub fn with_known_desa<I: IntoIterator<Item = S>, S: Into<String>>(mut self, codes: I) -> Self {
        self.known_desa = Some(codes.into_iter().map(Into::into).collect());
        self
    }

    /// Processes one push from `device`, as the real server does in one transaction.
    pub fn push(&mut self, device: DeviceId, env: &ApplyEnv, ops: Vec<ReceivedOp>) -> PushResponse {
        let mut store = Store {
            server: self,
            device,
        };
        match process_batch(&mut store, device, env, ops) {
            Ok(r) => r,
            Err(never) => match never {},
        }
    }

    /// Records changed after `cursor` (a change sequence number), oldest change first, and
    /// the cursor to continue from.
    pub fn pull(&self, cursor: u64) -> (Vec<RecordView>, u64) {
        let views = self
            .changes
            .range(cursor + 1..)
            .filter_map(|(_, id)| self.records.get(id))
            .map(RecordView::from)
            .collect();
        (views, self.change_seq)
    }

    /// A record's state.
    pub fn record(&self, id: RecordId) -> Option<&RecordState> {
        self.records.get(&id)
    }

    /// Every record.
    pub fn records(&self) -> impl Iterator<Item = &RecordState> {
        self.records.values()
    }

    /// The last processed sequence number of a device.
    pub fn last_seq(&self, device: DeviceId) -> u64 {
        self.devices.get(&device).map_or(0, |d| d.last_seq)
    }

    /// How many times a device was caught reusing a sequence number.
    pub fn seq_reuse_alerts(&self, device: DeviceId) -> u64 {
        self.devices.get(&device).map_or(0, |d| d.seq_reuse_alerts)
    }
}

struct Store<'a> {
    server: &'a mut MemoryServer,
    device: DeviceId,
}

impl Store<'_> {
    fn log(&mut self) -> &mut DeviceLog {
        self.server.devices.entry(self.device).or_default()
    }
}

impl BatchStore for Store<'_> {
    type Error = Infallible;

    fn last_seq(&mut self) -> Result<u64, Infallible> {
        Ok(self.log().last_seq)
    }

    fn stored_results(&mut self, seqs: &[u64]) -> Result<HashMap<u64, StoredResult>, Infallible> {
        let log = self.log();
        Ok(seqs
            .iter()
            .filter_map(|s| log.results.get(s).map(|r| (*s, r.clone())))
            .collect())
    }

    fn lock_records(&mut self, _ids: &[RecordId]) -> Result<(), Infallible> {
        Ok(())
    }

    fn load(&mut self, id: RecordId) -> Result<Option<RecordState>, Infallible> {
        Ok(self.server.records.get(&id).cloned())
    }

    fn commit_op(
        &mut self,
        _op: Option<&Operation>,
        result: StoredResult,
        _old: Option<&RecordState>,
        new: Option<RecordState>,
    ) -> Result<(), Infallible> {
        if let Some(state) = new {
            let s = &mut *self.server;
            s.change_seq += 1;
            if let Some(old) = s.changed_at.insert(state.id, s.change_seq) {
                s.changes.remove(&old);
            }
            s.changes.insert(s.change_seq, state.id);
            s.records.insert(state.id, state);
        }
        self.log().results.insert(result.seq, result);
        Ok(())
    }

    fn finish(&mut self, last_seq: u64) -> Result<(), Infallible> {
        self.log().last_seq = last_seq;
        Ok(())
    }

    fn seq_reuse_detected(&mut self, _seq: u64) -> Result<(), Infallible> {
        self.log().seq_reuse_alerts += 1;
        Ok(())
    }

    fn known_desa(&mut self, codes: &[&str]) -> Result<HashSet<String>, Infallible> {
        let known = self.server.known_desa.as_ref();
        Ok(codes
            .iter()
            .filter(|c| known.is_none_or(|k| k.contains(**c)))
            .map(|c| (*c).to_owned())
            .collect())
    }
}
