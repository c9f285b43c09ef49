//! The database side of a push: `sync_protocol::batch::BatchStore` over one transaction.
//! The store takes every lock of the batch: the device's row when it is opened, the
//! records' rows in [`BatchStore::lock_records`].

use std::collections::HashMap;

use diesel::prelude::*;
use sync_protocol::batch::{BatchStore, StoredResult};
use sync_protocol::{DeviceId, RecordId, RecordState};

use super::devices::{self, LockedDevice};
use super::schema::applied_ops;
use super::{AnyConnection, DbError, DbResult, now_ms, records, to_i64};

/// A batch's view of storage, inside the batch's write transaction.
pub struct DbBatchStore<'c> {
    conn: &'c mut AnyConnection,
    device: DeviceId,
    locked: LockedDevice,
    scope_key: String,
    loaded: HashMap<RecordId, Option<RecordState>>,
}

impl<'c> DbBatchStore<'c> {
    /// Locks `device`'s row, which serialises its batches across server instances (a retry
    /// racing the original waits, then sees the original's watermark), and opens a store
    /// whose writes go to `scope_key`. `None` when the device is not registered.
    pub fn open(
        conn: &'c mut AnyConnection,
        device: DeviceId,
        scope_key: String,
    ) -> DbResult<Option<Self>> {
        let Some(locked) = devices::lock(conn, device)? else {
            return Ok(None);
        };
        Ok(Some(DbBatchStore {
            conn,
            device,
            locked,
            scope_key,
            loaded: HashMap::new(),
        }))
    }

    /// The device's row as read under its lock: a revocation that committed since the
    /// request was authorised is seen here.
    pub fn device(&self) -> &LockedDevice {
        &self.locked
    }

    /// Removes the PostgreSQL lock placeholders of records the batch did not create after
    /// all (a rejected create, operations after a gap): the records it locked that still
    /// have no state. No query when there are none.
    fn drop_unwritten_placeholders(&mut self) -> DbResult<()> {
        let unwritten: Vec<RecordId> = self
            .loaded
            .iter()
            .filter(|(_, state)| state.is_none())
            .map(|(id, _)| *id)
            .collect();
        if unwritten.is_empty() {
            return Ok(());
        }
        records::drop_placeholders(self.conn, &unwritten)
    }
}

impl BatchStore for DbBatchStore<'_> {
    type Error = DbError;

    fn last_seq(&mut self) -> DbResult<u64> {
        Ok(self.locked.last_seq)
    }

    fn stored_result(&mut self, seq: u64) -> DbResult<Option<StoredResult>> {
        let json: Option<String> = applied_ops::table
            .find((self.device.to_string(), to_i64(seq)?))
            .select(applied_ops::result)
            .first(self.conn)
            .optional()?;
        json.map(|j| serde_json::from_str(&j).map_err(|e| DbError::Corrupt(e.to_string())))
            .transpose()
    }

    fn lock_records(&mut self, ids: &[RecordId]) -> DbResult<()> {
        records::lock(self.conn, ids)?;
        // Everything the batch touches, in two queries, under the locks just taken.
        let mut states = records::load_many(self.conn, ids)?;
        for id in ids {
            self.loaded.insert(*id, states.remove(id));
        }
        Ok(())
    }

    fn load(&mut self, id: RecordId) -> DbResult<Option<RecordState>> {
        if let Some(state) = self.loaded.get(&id) {
            return Ok(state.clone());
        }
        let state = records::load(self.conn, id)?;
        self.loaded.insert(id, state.clone());
        Ok(state)
    }

    fn commit_op(
        &mut self,
        result: &StoredResult,
        old: Option<&RecordState>,
        new: Option<&RecordState>,
    ) -> DbResult<()> {
        let device = self.device;
        let scope_key = &self.scope_key;
        // A savepoint per operation: its effect and its stored result move together.
        self.conn.transaction::<_, DbError, _>(|c| {
            if let Some(new) = new {
                records::save(c, old, new, scope_key)?;
            }
            let json =
                serde_json::to_string(result).map_err(|e| DbError::Corrupt(e.to_string()))?;
            diesel::insert_into(applied_ops::table)
                .values((
                    applied_ops::device_id.eq(device.to_string()),
                    applied_ops::seq.eq(to_i64(result.seq)?),
                    applied_ops::fingerprint.eq(&result.fingerprint),
                    applied_ops::record_id.eq(result.record_id.map(|r| r.to_string())),
                    applied_ops::status.eq(result.status.as_str()),
                    applied_ops::result.eq(json),
                    applied_ops::applied_at.eq(now_ms()),
                ))
                .execute(c)?;
            Ok(())
        })?;
        if let Some(new) = new {
            self.loaded.insert(new.id, Some(new.clone()));
        }
        Ok(())
    }

    fn finish(&mut self, last_seq: u64) -> DbResult<()> {
        if last_seq > self.locked.last_seq {
            devices::set_last_seq(self.conn, self.device, to_i64(last_seq)?)?;
        }
        self.drop_unwritten_placeholders()
    }

    fn seq_reuse_detected(&mut self, seq: u64) -> DbResult<()> {
        tracing::warn!(device = %self.device, seq, "sequence number reused with different content: reinstalled or cloned device");
        devices::note_seq_reuse(self.conn, self.device)
    }
}
