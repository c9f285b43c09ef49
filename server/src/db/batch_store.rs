//! The database side of a push: `sync_protocol::batch::BatchStore` over one transaction.
//! The store takes every lock of the batch: the device's row when it is opened, the
//! records' rows in [`BatchStore::lock_records`].

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use sync_protocol::batch::{BatchStore, StoredResult};
use sync_protocol::review::VISIT_FIELD;
use sync_protocol::scope::household_of;
use sync_protocol::wire::OpKind;
use sync_protocol::{
    Collection, DeviceId, Operation, RecordId, RecordState, RejectCode, Rejection,
};

use super::areas;
use super::assignments;
use super::devices::{self, LockedDevice};
use super::record_writes::{self, WriteRow};
use super::schema::{applied_ops, held_writes};
use super::scope::Scope;
use super::{AnyConnection, DbError, DbResult, now_ms, per_backend, records, to_i64};

/// A batch's view of storage, inside the batch's write transaction. It reads everything
/// the batch needs before the first operation is decided, keeps every effect in memory, and
/// writes them all in [`BatchStore::finish`] in a few multi-row statements.
pub struct DbBatchStore<'c> {
    conn: &'c mut AnyConnection,
    device: DeviceId,
    locked: LockedDevice,
    scope: Scope,
    /// Every record the batch locked or read, as the batch has left it so far.
    states: HashMap<RecordId, Option<RecordState>>,
    /// The records the batch locked: on PostgreSQL, each has a row, a placeholder if new.
    locked_records: Vec<RecordId>,
    /// The records the batch wrote, with the position of their last write.
    written: HashMap<RecordId, usize>,
    results: Vec<StoredResult>,
    /// What each write of the batch was, for the records' histories; applied-at filled in
    /// at the flush.
    writes: Vec<WriteRow>,
}

impl<'c> DbBatchStore<'c> {
    /// Locks `device`'s row with its owner's, which serialises its batches across server
    /// instances (a retry racing the original waits, then sees the original's watermark),
    /// and opens a store that admits writes to the records of `scope` only. `None` when the
    /// device is not registered.
    pub fn open(
        conn: &'c mut AnyConnection,
        device: DeviceId,
        scope: Scope,
    ) -> DbResult<Option<Self>> {
        let Some(locked) = devices::lock_with_owner(conn, device)? else {
            return Ok(None);
        };
        Ok(Some(Self::new(conn, device, locked, scope)))
    }

    /// A store over a device already locked with [`devices::lock_with_owner`].
    pub fn new(
        conn: &'c mut AnyConnection,
        device: DeviceId,
        locked: LockedDevice,
        scope: Scope,
    ) -> Self {
        DbBatchStore {
            conn,
            device,
            locked,
            scope,
            states: HashMap::new(),
            locked_records: Vec::new(),
            written: HashMap::new(),
            results: Vec::new(),
            writes: Vec::new(),
        }
    }

    /// The device's row and its owner's, as read under the lock: a revocation or a
    /// deactivation that committed since the request was authorised is seen here.
    pub fn device(&self) -> &LockedDevice {
        &self.locked
    }

    fn write_effects(&mut self) -> DbResult<()> {
        let mut order: Vec<(&RecordId, &usize)> = self.written.iter().collect();
        order.sort_by_key(|(_, at)| **at);
        let states: Vec<&RecordState> = order
            .into_iter()
            .filter_map(|(id, _)| self.states.get(id).and_then(Option::as_ref))
            .collect();
        records::save_many(self.conn, &states)?;
        let applied_at = now_ms();
        let device = self.device.to_string();
        let mut rows = Vec::with_capacity(self.results.len());
        for r in &self.results {
            rows.push((
                applied_ops::device_id.eq(device.as_str()),
                applied_ops::seq.eq(to_i64(r.seq)?),
                applied_ops::fingerprint.eq(r.fingerprint.as_str()),
                applied_ops::record_id.eq(r.record_id.map(|id| id.to_string())),
                applied_ops::status.eq(r.status.as_str()),
                applied_ops::result
                    .eq(serde_json::to_string(r).map_err(|e| DbError::Corrupt(e.to_string()))?),
                applied_ops::applied_at.eq(applied_at),
            ));
        }
        for chunk in rows.chunks(records::CHUNK) {
            per_backend!(&mut *self.conn, c => diesel::insert_into(applied_ops::table)
                .values(chunk)
                .execute(c))?;
        }
        for w in &mut self.writes {
            w.applied_at = applied_at;
        }
        record_writes::insert_many(self.conn, &self.writes)
    }

    /// Keeps what `op` wrote, when it changed the record: applied or kept as a sibling.
    fn keep_write(&mut self, op: &Operation, result: &StoredResult) -> DbResult<()> {
        let Some(version) = result.dot else {
            return Ok(());
        };
        self.writes.push(WriteRow {
            record_id: op.record_id.to_string(),
            version: to_i64(version)?,
            collection: op.collection.clone(),
            device_id: self.device.to_string(),
            seq: to_i64(op.seq)?,
            user_id: self.locked.user_id.clone(),
            applied_at: 0,
            hlc: json(&op.hlc)?,
            kind: kind_name(op.kind).to_owned(),
            ctx: json(&op.ctx)?,
            fields: op.fields.as_ref().map(json).transpose()?,
            status: result.status.as_str().to_owned(),
        });
        Ok(())
    }

    /// A household an officer registers in the field (one the registry lacks) is theirs from
    /// its first write: the push assigns it to them, in its own transaction, so that its
    /// visits in the same batch and the officer's later pulls are in scope. Only officers,
    /// and only for a record new to the server: an id that exists is never taken over.
    fn adopt_new_household(&mut self, new: &RecordState) -> DbResult<()> {
        let Scope::Households(own) = &mut self.scope else {
            return Ok(());
        };
        if self.locked.owner_role != "officer" {
            return Ok(());
        }
        let household = new.id.to_string();
        if assignments::active_for_household(self.conn, &household)?.is_some() {
            return Ok(());
        }
        assignments::insert(
            self.conn,
            &assignments::NewAssignment {
                id: &uuid::Uuid::now_v7().to_string(),
                household_id: &household,
                officer_id: &self.locked.user_id,
                agency_id: self.locked.owner_agency.as_deref(),
                starts_at: now_ms(),
                reason: "registered in the field by the officer",
                assigned_by: Some(&self.locked.user_id),
            },
        )?;
        own.insert(household);
        Ok(())
    }

    /// Why a review may not be written, if it may not: officers' devices never write
    /// reviews (a supervisor reviews from the console), and a review belongs to its visit's
    /// household, the scope it travels in, whenever the server has the visit.
    fn refuse_review(&mut self, new: &RecordState) -> DbResult<Option<Rejection>> {
        if self.locked.owner_role == "officer" {
            return Ok(Some(Rejection::new(
                RejectCode::ReviewNotAllowed,
                "visits are reviewed by supervisors, from the admin console: an officer's device \
                 may not write reviews; answer a review with a visit that amends the one reviewed",
            )));
        }
        let fields = new.fields();
        let visit = fields
            .get(VISIT_FIELD)
            .and_then(serde_json::Value::as_str)
            .and_then(|v| v.parse::<RecordId>().ok());
        let Some(visit) = visit else {
            return Ok(None);
        };
        let household = self
            .load(visit)?
            .filter(|s| s.collection == Collection::Visits)
            .and_then(|s| household_of(&s));
        match household {
            Some(h) if household_of(new).as_deref() != Some(h.as_str()) => {
                Ok(Some(Rejection::new(
                    RejectCode::InvalidValue,
                    format!("`household_id` of a review must be its visit's household, {h}"),
                )))
            }
            _ => Ok(None),
        }
    }

    /// Removes the PostgreSQL lock placeholders of records the batch did not create after
    /// all (a rejected create, operations after a gap): the records it locked that still
    /// have no state. No query when there are none.
    fn drop_unwritten_placeholders(&mut self) -> DbResult<()> {
        // Only locked ones: a record merely read (for a duplicate's answer) has no
        // placeholder of this batch, and another batch's must be left alone.
        let unwritten: Vec<RecordId> = self
            .locked_records
            .iter()
            .filter(|id| self.states.get(*id).is_none_or(Option::is_none))
            .copied()
            .collect();
        if unwritten.is_empty() {
            return Ok(());
        }
        records::drop_placeholders(self.conn, &unwritten)
    }
}

fn json<T: serde::Serialize>(v: &T) -> DbResult<String> {
    serde_json::to_string(v).map_err(|e| DbError::Corrupt(e.to_string()))
}

fn kind_name(kind: OpKind) -> &'static str {
    match kind {
        OpKind::Put => "put",
        OpKind::Patch => "patch",
        OpKind::Delete => "delete",
    }
}

impl BatchStore for DbBatchStore<'_> {
    type Error = DbError;

    fn last_seq(&mut self) -> DbResult<u64> {
        Ok(self.locked.last_seq)
    }

    fn stored_results(&mut self, seqs: &[u64]) -> DbResult<HashMap<u64, StoredResult>> {
        let mut found = HashMap::with_capacity(seqs.len());
        for chunk in seqs.chunks(records::CHUNK) {
            let wanted = chunk
                .iter()
                .map(|s| to_i64(*s))
                .collect::<DbResult<Vec<_>>>()?;
            let rows: Vec<String> = applied_ops::table
                .filter(applied_ops::device_id.eq(self.device.to_string()))
                .filter(applied_ops::seq.eq_any(wanted))
                .select(applied_ops::result)
                .load(self.conn)?;
            for json in rows {
                let r: StoredResult =
                    serde_json::from_str(&json).map_err(|e| DbError::Corrupt(e.to_string()))?;
                found.insert(r.seq, r);
            }
        }
        Ok(found)
    }

    fn lock_records(&mut self, ids: &[RecordId]) -> DbResult<()> {
        let mut states = records::lock_and_load(self.conn, ids)?;
        for id in ids {
            self.states.insert(*id, states.remove(id));
        }
        self.locked_records.extend_from_slice(ids);
        Ok(())
    }

    fn load(&mut self, id: RecordId) -> DbResult<Option<RecordState>> {
        if let Some(state) = self.states.get(&id) {
            return Ok(state.clone());
        }
        let state = records::load_many(self.conn, &[id])?.remove(&id);
        self.states.insert(id, state.clone());
        Ok(state)
    }

    fn commit_op(
        &mut self,
        op: Option<&Operation>,
        result: StoredResult,
        _old: Option<&RecordState>,
        new: Option<RecordState>,
    ) -> DbResult<()> {
        if let (Some(op), Some(_)) = (op, &new) {
            self.keep_write(op, &result)?;
        }
        if let Some(new) = new {
            self.written.insert(new.id, self.results.len());
            self.states.insert(new.id, Some(new));
        }
        self.results.push(result);
        Ok(())
    }

    fn finish(&mut self, last_seq: u64) -> DbResult<()> {
        self.write_effects()?;
        if last_seq > self.locked.last_seq {
            devices::set_last_seq(self.conn, self.device, to_i64(last_seq)?)?;
        }
        self.drop_unwritten_placeholders()
    }

    fn admit_write(
        &mut self,
        op: &Operation,
        old: Option<&RecordState>,
        new: &RecordState,
    ) -> DbResult<Option<Rejection>> {
        if new.collection == Collection::Reviews
            && let Some(refused) = self.refuse_review(new)?
        {
            return Ok(Some(refused));
        }
        let before = old.and_then(household_of);
        let after = household_of(new);
        if old.is_none() && new.collection == Collection::Households {
            self.adopt_new_household(new)?;
        }
        let outside = [&before, &after]
            .into_iter()
            .flatten()
            .find(|h| !self.scope.contains(h));
        let Some(household) = outside.cloned() else {
            return Ok(None);
        };
        let operation = serde_json::to_string(op).map_err(|e| DbError::Corrupt(e.to_string()))?;
        per_backend!(&mut *self.conn, c => diesel::insert_into(held_writes::table)
            .values((
                held_writes::device_id.eq(self.device.to_string()),
                held_writes::seq.eq(to_i64(op.seq)?),
                held_writes::user_id.eq(self.locked.user_id.as_str()),
                held_writes::record_id.eq(op.record_id.to_string()),
                held_writes::household_id.eq(Some(household.as_str())),
                held_writes::operation.eq(operation),
                held_writes::held_at.eq(now_ms()),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
        Ok(Some(Rejection::new(
            RejectCode::OutOfScope,
            format!(
                "household {household} is not assigned to you (any more): nothing was written; \
                 the server keeps this operation for your supervisor to review"
            ),
        )))
    }

    fn may_see(&self, state: &RecordState) -> bool {
        household_of(state).is_none_or(|h| self.scope.contains(&h))
    }

    fn seq_reuse_detected(&mut self, seq: u64) -> DbResult<()> {
        tracing::warn!(device = %self.device, seq, "sequence number reused with different content: reinstalled or cloned device");
        devices::note_seq_reuse(self.conn, self.device)
    }

    fn known_desa(&mut self, codes: &[&str]) -> DbResult<HashSet<String>> {
        areas::known_desa(self.conn, codes)
    }
}
