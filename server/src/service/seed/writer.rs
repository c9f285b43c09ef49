//! Writing as a seeded device: operations numbered from the device's last sequence number
//! and applied by the same batch processing as a push, in the device's scope.

use std::collections::BTreeSet;

use serde_json::{Map, Value};
use sync_protocol::batch::process_batch;
use sync_protocol::wire::{OpResult, ReceivedOp};
use sync_protocol::{ApplyEnv, Context, Hlc, OpKind, Operation, RecordId};

use super::people::Person;
use crate::db::batch_store::DbBatchStore;
use crate::db::scope::Scope;
use crate::db::{self, AnyConnection, meta};
use crate::error::ApiError;

/// Operations per transaction: a push's default batch.
pub const BATCH: usize = 500;

/// One operation before it is numbered.
pub struct Write {
    /// `households`, `visits` or `aid`.
    pub collection: &'static str,
    /// The record.
    pub record_id: RecordId,
    /// Put or patch.
    pub kind: OpKind,
    /// What the writer had seen.
    pub ctx: Context,
    /// When it was written, ms: the device clock.
    pub at_ms: u64,
    /// The fields.
    pub fields: Map<String, Value>,
}

/// Applies `writes` as `who`'s device, `BATCH` to a transaction, in the scope of the
/// households `scope` (all when `None`). Returns every result.
pub fn apply(
    conn: &mut AnyConnection,
    who: &Person,
    scope: Option<&BTreeSet<String>>,
    writes: Vec<Write>,
) -> Result<Vec<OpResult>, ApiError> {
    let mut out = Vec::with_capacity(writes.len());
    let mut writes = writes.into_iter().peekable();
    while writes.peek().is_some() {
        let chunk: Vec<Write> = writes.by_ref().take(BATCH).collect();
        let resp = db::write_tx(conn, |c| {
            let env = ApplyEnv {
                epoch: meta::epoch(c)?,
                now: Hlc::at(u64::try_from(db::now_ms()).unwrap_or(0)),
                max_drift_ms: 5 * 60 * 1000,
            };
            let Some(mut store) = DbBatchStore::open(
                c,
                who.device,
                scope.map_or(Scope::All, |h| Scope::Households(h.clone())),
            )?
            else {
                return Err(ApiError::internal(format!(
                    "seeded device {} is not registered",
                    who.device
                )));
            };
            let first = store.device().last_seq + 1;
            let ops = chunk
                .into_iter()
                .zip(first..)
                .map(|(w, seq)| {
                    ReceivedOp::from_operation(Operation {
                        seq,
                        op_id: None,
                        collection: w.collection.to_owned(),
                        record_id: w.record_id,
                        kind: w.kind,
                        ctx: w.ctx,
                        hlc: Hlc::at(w.at_ms),
                        fields: Some(w.fields),
                    })
                })
                .collect();
            Ok(process_batch(&mut store, who.device, &env, ops)?)
        })?;
        out.extend(resp.results);
    }
    Ok(out)
}
