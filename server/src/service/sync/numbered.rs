//! Operations the server numbers itself for a device that keeps no outbox: an
//! administrator's console device (edits, imports) and the devices `seed` writes as. They
//! take the device's next sequence numbers after the watermark its locked row shows and go
//! through the same `process_batch` and `DbBatchStore` as a push, so they are validated,
//! merged, recorded exactly once and fed to pulls and the typed tables like any write.

use serde_json::{Map, Value};
use sync_protocol::batch::process_batch;
use sync_protocol::wire::{OpKind, OpResult, Operation, ReceivedOp};
use sync_protocol::{ApplyEnv, Context, DeviceId, Hlc, RecordId};

use crate::db::AnyConnection;
use crate::db::batch_store::DbBatchStore;
use crate::db::devices::LockedDevice;
use crate::db::scope::Scope;
use crate::error::ApiError;

/// An operation before the server numbers it.
#[derive(Clone, Debug)]
pub struct Unnumbered {
    /// `households`, `visits` or `aid`.
    pub collection: String,
    /// The record.
    pub record_id: RecordId,
    /// Put, patch or delete.
    pub kind: OpKind,
    /// What the writer had seen of the record.
    pub ctx: Context,
    /// The writer's clock when it wrote.
    pub hlc: Hlc,
    /// The fields, for put and patch.
    pub fields: Option<Map<String, Value>>,
}

/// Applies `ops` as `device`'s next operations, in order, numbered after `locked.last_seq`
/// (read under the device's lock in the caller's write transaction), in `scope`; a result
/// per operation.
pub fn apply(
    c: &mut AnyConnection,
    device: DeviceId,
    locked: LockedDevice,
    scope: Scope,
    env: &ApplyEnv,
    ops: Vec<Unnumbered>,
) -> Result<Vec<OpResult>, ApiError> {
    let first = locked.last_seq + 1;
    let ops = ops
        .into_iter()
        .zip(first..)
        .map(|(o, seq)| {
            ReceivedOp::from_operation(Operation {
                seq,
                op_id: None,
                collection: o.collection,
                record_id: o.record_id,
                kind: o.kind,
                ctx: o.ctx,
                hlc: o.hlc,
                fields: o.fields,
            })
        })
        .collect();
    let mut store = DbBatchStore::new(c, device, locked, scope);
    Ok(process_batch(&mut store, device, env, ops)?.results)
}
