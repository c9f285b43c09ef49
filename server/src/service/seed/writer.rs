//! Writing as a seeded device: its next operations, numbered by the server
//! (`service::sync::numbered`), in the device's scope, a push's batch to a transaction.

use std::collections::BTreeSet;

use serde_json::{Map, Value};
use sync_protocol::wire::OpResult;
use sync_protocol::{ApplyEnv, Context, Hlc, OpKind, RecordId};

use super::people::Person;
use crate::db::scope::Scope;
use crate::db::{self, AnyConnection, devices, meta};
use crate::error::ApiError;
use crate::service::sync::numbered::{self, Unnumbered};

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
        let chunk: Vec<Unnumbered> = writes
            .by_ref()
            .take(BATCH)
            .map(|w| Unnumbered {
                collection: w.collection.to_owned(),
                record_id: w.record_id,
                kind: w.kind,
                ctx: w.ctx,
                hlc: Hlc::at(w.at_ms),
                fields: Some(w.fields),
            })
            .collect();
        let results = db::write_tx(conn, |c| {
            let env = ApplyEnv {
                epoch: meta::epoch(c)?,
                now: Hlc::at(u64::try_from(db::now_ms()).unwrap_or(0)),
                max_drift_ms: 5 * 60 * 1000,
            };
            let locked = devices::lock_with_owner(c, who.device)?.ok_or_else(|| {
                ApiError::internal(format!("seeded device {} is not registered", who.device))
            })?;
            let scope = scope.map_or(Scope::All, |h| Scope::Households(h.clone()));
            numbered::apply(c, who.device, locked, scope, &env, chunk)
        })?;
        out.extend(results);
    }
    Ok(out)
}
