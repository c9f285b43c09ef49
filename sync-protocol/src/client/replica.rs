//! The device's copy of the server's records, its cursor and its epoch
//! (docs/sync-protocol.md, sections 1, 7.4 to 7.6).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::clock::Context;
use crate::ids::{Epoch, RecordId};
use crate::wire::{PullResponse, RecordView};

/// A record as the server last showed it, and the epoch of the answer that did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerCopy {
    /// The epoch of the push answer or pull page that delivered `view`.
    pub epoch: Epoch,
    /// The record.
    pub view: RecordView,
}

/// The server copies of every record in the device's scope, the pull cursor and the epoch.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Replica {
    epoch: Option<Epoch>,
    cursor: Option<String>,
    copies: BTreeMap<RecordId, ServerCopy>,
    /// During a pull from the beginning (after an epoch change or an `invalid_cursor`): the
    /// records it brought so far. Those it does not bring are dropped at its end.
    resync: Option<BTreeSet<RecordId>>,
}

impl Replica {
    /// The epoch of the last answer, `None` before the first one.
    pub fn epoch(&self) -> Option<Epoch> {
        self.epoch
    }

    /// Stores the epoch of an answer.
    pub fn set_epoch(&mut self, epoch: Option<Epoch>) {
        self.epoch = epoch;
    }

    /// The cursor the next pull sends; `None` pulls from the beginning.
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }

    /// The server copy of `id`.
    pub fn copy(&self, id: RecordId) -> Option<&ServerCopy> {
        self.copies.get(&id)
    }

    /// Every server copy, by id.
    pub fn copies(&self) -> impl Iterator<Item = &ServerCopy> {
        self.copies.values()
    }

    /// Whether a pull from the beginning is under way.
    pub fn resyncing(&self) -> bool {
        self.resync.is_some()
    }

    /// The context of an edit made now on `id`: the version on screen and its epoch
    /// (section 2.2), or "seen nothing" for a record the server has not shown.
    pub fn context_for(&self, id: RecordId) -> Context {
        self.copies
            .get(&id)
            .map(|c| Context::seen(c.epoch, c.view.version))
            .unwrap_or_default()
    }

    /// Takes a record from a push answer or a pull page. Within one epoch a version never
    /// goes down, so an older view than the one held (a pull racing a push answer) is
    /// ignored; across epochs versions are not comparable and the newer answer wins.
    pub fn offer(&mut self, epoch: Epoch, view: RecordView) {
        if let Some(seen) = &mut self.resync {
            seen.insert(view.id);
        }
        match self.copies.get(&view.id) {
            Some(held) if held.epoch == epoch && held.view.version > view.version => {}
            _ => {
                self.copies.insert(view.id, ServerCopy { epoch, view });
            }
        }
    }

    /// Drops a record that left the device's scope.
    pub fn remove(&mut self, id: RecordId) {
        self.copies.remove(&id);
    }

    /// Applies one pull page: changes replace the copies, removals drop them, and the
    /// cursor moves in the same step, so that storing the replica stores both together.
    /// At the end of a pull from the beginning, drops every record it did not bring,
    /// unless `pending(id)` says the record still has operations in the outbox.
    pub fn apply_page(&mut self, page: &PullResponse, pending: impl Fn(RecordId) -> bool) {
        for view in &page.changes {
            self.offer(page.epoch, view.clone());
        }
        for removal in &page.removals {
            self.remove(removal.id);
        }
        self.cursor = Some(page.cursor.clone());
        if !page.has_more
            && let Some(seen) = self.resync.take()
        {
            self.copies
                .retain(|id, _| seen.contains(id) || pending(*id));
        }
    }

    /// Starts a pull from the beginning whose records replace the local ones.
    pub fn start_resync(&mut self) {
        self.cursor = None;
        self.resync = Some(BTreeSet::new());
    }
}
