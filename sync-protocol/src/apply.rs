//! `apply`: one operation against one record's state. Pure: the caller loads the state,
//! holds the record's lock, and stores what comes back.

use serde_json::Value;

use crate::clock::{Actor, Context, Dot};
use crate::hlc::Hlc;
use crate::ids::{DeviceId, Epoch};
use crate::outcome::{Outcome, RejectCode, Rejection};
use crate::schema::{Collection, Mutability, RegisterWrites};
use crate::state::{EXISTS, RecordState, Sibling};
use crate::wire::{MAX_SAFE_INTEGER, OpKind, Operation};

/// What the server knows when it applies an operation.
#[derive(Clone, Copy, Debug)]
pub struct ApplyEnv {
    /// The current database epoch.
    pub epoch: Epoch,
    /// The server's hybrid clock now.
    pub now: Hlc,
    /// How far ahead of the server a device stamp may be before it is bounded and flagged.
    pub max_drift_ms: u64,
}

/// The result of [`apply`].
#[derive(Clone, Debug, PartialEq)]
pub struct Applied {
    /// The record's new state, when written; `None` when rejected.
    pub state: Option<RecordState>,
    /// What happened.
    pub outcome: Outcome,
    /// The dot issued, when written.
    pub dot: Option<u64>,
    /// The context was from another epoch or newer than the record (a restore, a purge) and
    /// was treated as having seen nothing.
    pub stale_context: bool,
    /// The device stamp was too far ahead of the server and was bounded.
    pub clock_skew: bool,
}

impl Applied {
    pub(crate) fn rejected(r: Rejection) -> Self {
        Applied {
            state: None,
            outcome: Outcome::Rejected(r),
            dot: None,
            stale_context: false,
            clock_skew: false,
        }
    }
}

/// Applies `op`, sent by `device`, to `state` (`None` when the server has no such record).
///
/// A write supersedes exactly the values its context covers (dot ≤ the server entry it saw)
/// and the same device's earlier writes; every other value stays as a sibling. The server
/// never refuses a write for being stale: a stale writer produces a conflict, never a loss.
pub fn apply(
    state: Option<RecordState>,
    device: DeviceId,
    op: &Operation,
    env: &ApplyEnv,
) -> Applied {
    let Some(collection) = Collection::from_name(&op.collection) else {
        return Applied::rejected(Rejection::new(
            RejectCode::UnknownCollection,
            format!("no collection `{}`", op.collection),
        ));
    };
    let state = state
        .filter(|s| s.version > 0)
        .unwrap_or_else(|| RecordState::empty(op.record_id, collection));
    match plan(&state, collection, device, op) {
        Err(r) => Applied::rejected(r),
        Ok(writes) => write(state, device, op, env, writes),
    }
}

/// Checks everything that can refuse an operation, and returns the registers it writes.
fn plan(
    state: &RecordState,
    collection: Collection,
    device: DeviceId,
    op: &Operation,
) -> Result<RegisterWrites, Rejection> {
    let exists = state.version > 0;
    if exists && state.collection != collection {
        return Err(Rejection::new(
            RejectCode::CollectionMismatch,
            format!(
                "record {} belongs to {}, not {}",
                op.record_id,
                state.collection.name(),
                collection.name()
            ),
        ));
    }
    check_context(&op.ctx, device, op.seq)?;
    if op.hlc.wall_ms > MAX_SAFE_INTEGER {
        return Err(Rejection::new(
            RejectCode::InvalidValue,
            "`hlc.wall_ms` must be milliseconds since 1970, below 2^53",
        ));
    }
    let schema = collection.schema();
    let empty = serde_json::Map::new();
    let fields = op.fields.as_ref().unwrap_or(&empty);
    let mut writes = match op.kind {
        OpKind::Put => schema.check_put(fields)?,
        OpKind::Patch => schema.check_patch(fields)?,
        OpKind::Delete if !fields.is_empty() => {
            return Err(Rejection::new(
                RejectCode::UnexpectedFields,
                "a delete carries no fields",
            ));
        }
        OpKind::Delete => RegisterWrites::new(),
    };
    if collection == Collection::Reviews && op.kind != OpKind::Delete {
        crate::review::check_write(op.record_id, Some(state), fields)?;
    }
    match (op.kind, exists) {
        (OpKind::Patch | OpKind::Delete, false) => {
            return Err(Rejection::new(
                RejectCode::RecordNotFound,
                format!("no record {}: create it with a put", op.record_id),
            ));
        }
        (OpKind::Put | OpKind::Patch, true) if schema.mutability == Mutability::AppendOnly => {
            return Err(Rejection::new(
                RejectCode::Immutable,
                format!(
                    "{} records cannot be changed once sent; send a new record that amends it",
                    collection.name()
                ),
            ));
        }
        _ => {}
    }
    writes.insert(EXISTS, Value::Bool(op.kind != OpKind::Delete));
    Ok(writes)
}

fn check_context(ctx: &Context, device: DeviceId, seq: u64) -> Result<(), Rejection> {
    for (actor, n) in &ctx.vv.0 {
        match actor {
            Actor::Server => {}
            Actor::Device(d) if *d == device => {
                if *n >= seq {
                    return Err(Rejection::new(
                        RejectCode::DeviceEntryAhead,
                        format!(
                            "context entry {n} for this device is not below the operation's seq {seq}"
                        ),
                    ));
                }
            }
            Actor::Device(d) => {
                return Err(Rejection::new(
                    RejectCode::ForeignClockEntry,
                    format!(
                        "context names device {d}: a device may only name itself and the server"
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn write(
    mut state: RecordState,
    device: DeviceId,
    op: &Operation,
    env: &ApplyEnv,
    writes: RegisterWrites,
) -> Applied {
    let mut seen = op.ctx.vv.get(Actor::Server);
    let other_epoch = op.ctx.epoch.is_some_and(|e| e != env.epoch);
    let stale_context = other_epoch || seen > state.version || (seen > 0 && op.ctx.epoch.is_none());
    if stale_context {
        // A restore or purge may have issued these versions again for other content
        // (kv679): trusting the context could silently drop what the server now holds.
        seen = 0;
    }
    let (order_hlc, clock_skew) = op.hlc.bounded_by(env.now, env.max_drift_ms);
    let dot = Dot {
        server: state.version + 1,
        device,
        seq: op.seq,
    };
    let mut conflicts = Vec::new();
    for (name, value) in writes {
        let reg = state.registers.entry(name.to_owned()).or_default();
        reg.siblings.retain(|s| {
            let covered = s.dot.server <= seen;
            let own_earlier = s.dot.device == device && s.dot.seq < op.seq;
            !(covered || own_earlier)
        });
        reg.siblings.push(Sibling {
            dot,
            hlc: op.hlc,
            order_hlc,
            clock_skew,
            value,
        });
        reg.siblings.sort_by(Sibling::display_cmp);
        if reg.is_conflicted() {
            conflicts.push(name.to_owned());
        }
    }
    state.version = dot.server;
    let outcome = if conflicts.is_empty() {
        Outcome::Applied
    } else {
        Outcome::Conflict { fields: conflicts }
    };
    Applied {
        state: Some(state),
        outcome,
        dot: Some(dot.server),
        stale_context,
        clock_skew,
    }
}
