//! Push: a device's batch, applied exactly once in one transaction.

use sync_protocol::batch::process_batch;
use sync_protocol::wire::{PushRequest, PushResponse, ReceivedOp};
use sync_protocol::{ApplyEnv, Hlc};

use super::scope_of;
use crate::auth::{Caller, Role};
use crate::config::Limits;
use crate::db::batch_store::DbBatchStore;
use crate::db::{self, AnyConnection, devices, meta};
use crate::error::{ApiError, ErrorCode};
use crate::service::authorize::authorize;

const TRANSIENT_RETRIES: usize = 3;

/// Applies a device's batch exactly once, in one transaction, retried whole on a transient
/// storage error.
pub fn push(
    conn: &mut AnyConnection,
    limits: &Limits,
    caller: &Caller,
    req: PushRequest,
) -> Result<PushResponse, ApiError> {
    if req.device_id != caller.device {
        return Err(ApiError::new(
            ErrorCode::DeviceMismatch,
            format!(
                "this token was issued to device {}; it cannot push for device {}",
                caller.device, req.device_id
            ),
        ));
    }
    if req.ops.len() > limits.max_batch_ops {
        return Err(ApiError::new(
            ErrorCode::BatchTooLarge,
            format!(
                "{} operations in one push; the limit is {}: split the outbox into several pushes",
                req.ops.len(),
                limits.max_batch_ops
            ),
        ));
    }
    let form = req.result_records;
    let ops = req
        .ops
        .into_iter()
        .enumerate()
        .map(|(i, raw)| ReceivedOp::parse(i, raw))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|why| ApiError::new(ErrorCode::InvalidSeq, why))?;

    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = db::write_tx(conn, |c| apply_batch(c, limits, caller, ops.clone()));
        match result {
            Err(ApiError::Unavailable(e)) if attempt < TRANSIENT_RETRIES => {
                tracing::info!(error = %e, attempt, "transient storage error; retrying the batch");
            }
            other => return other.map(|r| r.keep_records(form)),
        }
    }
}

fn apply_batch(
    c: &mut AnyConnection,
    limits: &Limits,
    caller: &Caller,
    ops: Vec<ReceivedOp>,
) -> Result<PushResponse, ApiError> {
    let env = ApplyEnv {
        epoch: meta::epoch(c)?,
        now: Hlc::at(u64::try_from(db::now_ms()).unwrap_or(0)),
        max_drift_ms: limits.max_clock_drift_ms,
    };
    // The lock reads the device and its owner: on the way every sync takes, that is the
    // whole authorisation. Anything else gets the full check's precise answer. The scope is
    // read after the lock, so a batch of one device sees the assignments as they are when
    // it runs, not when it was sent.
    let owner = match devices::lock_with_owner(c, caller.device)? {
        Some(d) if d.serves(caller.user_id) => d,
        _ => {
            authorize(c, caller)?;
            return Err(ApiError::device_not_registered());
        }
    };
    let role: Role = owner.owner_role.parse().map_err(|_| {
        ApiError::internal(format!(
            "user {} has role {}",
            owner.user_id, owner.owner_role
        ))
    })?;
    let scope = scope_of(c, role, &owner.user_id, owner.owner_agency.as_deref(), true)?;
    let mut store = DbBatchStore::new(c, caller.device, owner, scope);
    Ok(process_batch(&mut store, caller.device, &env, ops)?)
}
