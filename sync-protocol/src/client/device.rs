//! The field device: its installation id, outbox, replica and clock, and the edits an
//! officer makes offline.

use std::collections::{BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::clock::Context;
use crate::hlc::Hlc;
use crate::ids::{DeviceId, RecordId};
use crate::outcome::{RejectCode, Rejection};
use crate::schema::Collection;
use crate::wire::{OpKind, Operation, RecordView};

use super::events::Event;
use super::outbox::Outbox;
use super::overlay::display;
use super::replica::Replica;
use super::session::Session;

/// How many written records the journal remembers for the re-push after an epoch change
/// (section 7.6, step 3), unless the app sets another bound.
pub const DEFAULT_JOURNAL_LEN: usize = 10_000;

/// One field device. Everything but the sync session in progress and the undelivered
/// events is durable state: store it with a [`super::ClientStore`] after every edit and
/// every answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Client {
    pub(super) outbox: Outbox,
    pub(super) replica: Replica,
    pub(super) hlc: Hlc,
    /// Records this installation's acknowledged writes touched, oldest first: what the
    /// device re-pushes when a restore may have lost them.
    pub(super) journal: VecDeque<RecordId>,
    pub(super) journal_len: usize,
    /// Seqs of the journal's re-push: an `immutable` answer to one only confirms that the
    /// server still has the record, and is no news for the officer.
    #[serde(default)]
    pub(super) repushed: BTreeSet<u64>,
    /// Set while the device waits for a new installation id, and why.
    pub(super) needs_installation: Option<InstallationReason>,
    #[serde(skip)]
    pub(super) session: Session,
    #[serde(skip)]
    pub(super) events: Vec<Event>,
}

/// Why the device must stop using its installation id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstallationReason {
    /// A push was answered `seq_reuse` (section 5.3).
    SeqReuse,
    /// The database epoch changed (section 7.6).
    EpochChanged,
    /// A `gap` asked for operations the outbox had already dropped.
    UnresendableGap,
}

impl Client {
    /// A device on first launch, with a fresh installation id made by the app.
    pub fn new(device: DeviceId) -> Self {
        Client {
            outbox: Outbox::new(device),
            replica: Replica::default(),
            hlc: Hlc::default(),
            journal: VecDeque::new(),
            journal_len: DEFAULT_JOURNAL_LEN,
            repushed: BTreeSet::new(),
            needs_installation: None,
            session: Session::default(),
            events: Vec::new(),
        }
    }

    /// The installation id.
    pub fn device_id(&self) -> DeviceId {
        self.outbox.device()
    }

    /// The outbox.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// The server copies, cursor and epoch.
    pub fn replica(&self) -> &Replica {
        &self.replica
    }

    /// Whether the device waits for a new installation id ([`Client::new_installation`]).
    pub fn needs_new_installation(&self) -> Option<InstallationReason> {
        self.needs_installation
    }

    /// Takes what happened since the last call, for the officer.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// The next stamp at `now_ms` on the device clock (section 2.4): never behind the
    /// previous one, so that a clock set back does not reorder the device's own edits.
    fn stamp(&mut self, now_ms: u64) -> Hlc {
        self.hlc = if now_ms > self.hlc.wall_ms {
            Hlc::at(now_ms)
        } else {
            Hlc {
                wall_ms: self.hlc.wall_ms,
                counter: self.hlc.counter.saturating_add(1),
            }
        };
        self.hlc
    }

    /// Creates or replaces a whole record. Returns its seq.
    pub fn put(
        &mut self,
        collection: Collection,
        id: RecordId,
        fields: Map<String, Value>,
        now_ms: u64,
    ) -> Result<u64, Rejection> {
        let ctx = self.replica.context_for(id);
        self.edit(OpKind::Put, collection, id, Some(fields), ctx, now_ms)
    }

    /// Changes some fields (whole field groups) of a record. Returns its seq.
    pub fn patch(
        &mut self,
        collection: Collection,
        id: RecordId,
        fields: Map<String, Value>,
        now_ms: u64,
    ) -> Result<u64, Rejection> {
        let ctx = self.replica.context_for(id);
        self.edit(OpKind::Patch, collection, id, Some(fields), ctx, now_ms)
    }

    /// Deletes (voids) a record. Returns its seq.
    pub fn delete(
        &mut self,
        collection: Collection,
        id: RecordId,
        now_ms: u64,
    ) -> Result<u64, Rejection> {
        let ctx = self.replica.context_for(id);
        self.edit(OpKind::Delete, collection, id, None, ctx, now_ms)
    }

    /// The context an edit started now is based on. An app whose officer keeps a form open
    /// while a sync runs takes it when the form opens and passes it to [`Client::edit`], so
    /// that the edit claims only what was on screen (section 2.2).
    pub fn context_for(&self, id: RecordId) -> Context {
        self.replica.context_for(id)
    }

    /// Queues any edit with an explicit context. The fields are checked as the server
    /// checks them, so an edit the server would refuse for its fields never gets a seq.
    pub fn edit(
        &mut self,
        kind: OpKind,
        collection: Collection,
        id: RecordId,
        fields: Option<Map<String, Value>>,
        ctx: Context,
        now_ms: u64,
    ) -> Result<u64, Rejection> {
        let schema = collection.schema();
        match (kind, &fields) {
            (OpKind::Put, Some(f)) => schema.check_put(f).map(drop)?,
            (OpKind::Patch, Some(f)) => schema.check_patch(f).map(drop)?,
            (OpKind::Delete, None) => {}
            _ => {
                return Err(Rejection::new(
                    RejectCode::MalformedOperation,
                    "a put or patch needs fields and a delete has none",
                ));
            }
        }
        let hlc = self.stamp(now_ms);
        let op = Operation {
            seq: 0,
            op_id: None,
            collection: collection.name().to_owned(),
            record_id: id,
            kind,
            ctx,
            hlc,
            fields,
        };
        Ok(self.outbox.enqueue(op))
    }

    /// Queues an operation as given, with the next seq and without the field checks of
    /// [`Client::edit`]: for tests of how the server refuses what a faulty app might send.
    pub fn queue_unchecked(&mut self, op: Operation) -> u64 {
        self.outbox.enqueue(op)
    }

    /// What the officer sees of `id`: the server copy with the pending edits on top.
    pub fn view(&self, id: RecordId) -> Option<RecordView> {
        let pending: Vec<Operation> = self.outbox.pending_for(id).map(|p| p.operation()).collect();
        display(self.replica.copy(id), &pending, self.device_id())
    }

    /// The supervisor's review of visit `visit`, when one has reached the device: the
    /// record of `reviews` whose id is derived from the visit's (docs/client.md, "Reviews").
    pub fn review_of(&self, visit: RecordId) -> Option<RecordView> {
        self.view(crate::review::review_id(visit))
    }

    /// Every record the officer sees, by id.
    pub fn views(&self) -> Vec<RecordView> {
        let ids: BTreeSet<RecordId> = self
            .replica
            .copies()
            .map(|c| c.view.id)
            .chain(self.outbox.pending().map(|p| p.record_id))
            .collect();
        ids.into_iter().filter_map(|id| self.view(id)).collect()
    }

    pub(super) fn journal_write(&mut self, id: RecordId) {
        self.journal.retain(|j| *j != id);
        self.journal.push_back(id);
        while self.journal.len() > self.journal_len {
            self.journal.pop_front();
        }
    }

    /// Sets how many written records the journal keeps for a re-push after a restore.
    pub fn set_journal_len(&mut self, len: usize) {
        self.journal_len = len;
    }

    /// Switches to a new installation id, made by the app and signed in with (section
    /// 7.1). The pending operations get numbers from 1 under it. After an epoch change
    /// their contexts are dropped (they count as having seen nothing anyway), the journal's
    /// records are queued again as puts of their last server state (section 7.6, step 3),
    /// and the next pull starts from the beginning.
    pub fn new_installation(&mut self, device: DeviceId) {
        let old = self.device_id();
        let reason = self.needs_installation.take();
        let epoch_changed = reason == Some(InstallationReason::EpochChanged);
        self.repushed.clear();
        if epoch_changed {
            // The journal's records go first: they are the state the pending edits were
            // made on, and a later put of them would supersede the edits as the device's
            // own earlier writes.
            let pending = self.outbox.restart(device);
            self.repush_journal();
            for mut op in pending {
                op.ctx = Context::default();
                self.outbox.enqueue(op);
            }
        } else {
            self.outbox.move_to(device);
        }
        self.events
            .push(Event::NewInstallation { old, new: device });
        self.session.restart();
    }

    fn repush_journal(&mut self) {
        let journal: Vec<RecordId> = std::mem::take(&mut self.journal).into();
        for id in journal {
            let Some(copy) = self.replica.copy(id).cloned() else {
                continue;
            };
            let Some(collection) = Collection::from_name(&copy.view.collection) else {
                continue;
            };
            let fields = copy.view.fields.clone();
            let now = self.hlc.wall_ms;
            let Ok(seq) = self.edit(
                OpKind::Put,
                collection,
                id,
                Some(fields),
                Context::default(),
                now,
            ) else {
                continue;
            };
            self.repushed.insert(seq);
            if copy.view.deleted {
                let _ = self.edit(
                    OpKind::Delete,
                    collection,
                    id,
                    None,
                    Context::default(),
                    now,
                );
            }
        }
    }
}
