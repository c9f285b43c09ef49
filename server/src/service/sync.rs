//! Push and pull.

use sync_protocol::batch::process_batch;
use sync_protocol::wire::{PullResponse, PushRequest, PushResponse, ReceivedOp, RecordView};
use sync_protocol::{ApplyEnv, Epoch, Hlc};

use crate::auth::Caller;
use crate::config::Limits;
use crate::db::batch_store::DbBatchStore;
use crate::db::changes::{self, Position};
use crate::db::{self, AnyConnection, devices, meta, records};
use crate::error::ApiError;
use crate::service::accounts;

/// The scope every record is in until assignments exist: the whole regency. Per-officer
/// scopes (households by assignment) replace this with the domain model.
pub const REGENCY_SCOPE: &str = "regency";

const TRANSIENT_RETRIES: usize = 3;

/// Applies a device's batch exactly once, in one transaction.
pub fn push(
    conn: &mut AnyConnection,
    limits: &Limits,
    caller: &Caller,
    req: PushRequest,
) -> Result<PushResponse, ApiError> {
    if req.device_id != caller.device {
        return Err(ApiError::forbidden(
            "device_mismatch",
            format!(
                "this token was issued to device {}; it cannot push for device {}",
                caller.device, req.device_id
            ),
        ));
    }
    if req.ops.len() > limits.max_batch_ops {
        return Err(ApiError::too_large(
            "batch_too_large",
            format!(
                "{} operations in one push; the limit is {}: split the outbox into several pushes",
                req.ops.len(),
                limits.max_batch_ops
            ),
        ));
    }
    let ops = req
        .ops
        .into_iter()
        .enumerate()
        .map(|(i, raw)| ReceivedOp::parse(i, raw))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|why| ApiError::bad_request("invalid_seq", why))?;

    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = db::write_tx(conn, |c| apply_batch(c, limits, caller, ops.clone()));
        match result {
            Err(ApiError::Unavailable(e)) if attempt < TRANSIENT_RETRIES => {
                tracing::info!(error = %e, attempt, "transient storage error; retrying the batch");
            }
            other => return other,
        }
    }
}

fn apply_batch(
    c: &mut AnyConnection,
    limits: &Limits,
    caller: &Caller,
    ops: Vec<ReceivedOp>,
) -> Result<PushResponse, ApiError> {
    accounts::authorize(c, caller)?;
    // Read again under the lock: a revocation that committed since is honoured.
    let device = devices::lock(c, caller.device)?.ok_or_else(|| {
        ApiError::forbidden(
            "device_not_registered",
            "this device is not registered: sign in on it first",
        )
    })?;
    if device.revoked {
        return Err(accounts::revoked(caller.device));
    }
    let env = ApplyEnv {
        epoch: meta::epoch(c)?,
        now: Hlc::at(u64::try_from(db::now_ms()).unwrap_or(0)),
        max_drift_ms: limits.max_clock_drift_ms,
    };
    let mut store = DbBatchStore::new(c, caller.device, device.last_seq, REGENCY_SCOPE.into());
    let response = process_batch(&mut store, caller.device, &env, ops)?;
    store.drop_unwritten_placeholders()?;
    Ok(response)
}

/// One page of changes since `cursor`.
pub fn pull(
    conn: &mut AnyConnection,
    limits: &Limits,
    caller: &Caller,
    cursor: Option<&str>,
    limit: Option<u32>,
) -> Result<PullResponse, ApiError> {
    let limit = i64::from(
        limit
            .unwrap_or(limits.pull_page_size)
            .clamp(1, limits.pull_page_size),
    );
    db::read_tx(conn, |c| {
        accounts::authorize(c, caller)?;
        let epoch = meta::epoch(c)?;
        let after = match cursor {
            None | Some("") => Position::default(),
            Some(s) => parse_cursor(s, epoch)?,
        };
        let scopes = vec![REGENCY_SCOPE.to_owned()];
        let page = changes::changed_since(c, &scopes, after, limit)?;
        let states = records::load_many(c, &page.ids)?;
        let changes = page
            .ids
            .iter()
            .filter_map(|id| states.get(id))
            .map(RecordView::from)
            .collect();
        Ok(PullResponse {
            epoch,
            changes,
            removals: Vec::new(),
            cursor: format_cursor(epoch, page.next),
            has_more: page.has_more,
        })
    })
}

/// Cursors are opaque to clients: `v1.<epoch>.<xid>.<seq>`.
pub fn format_cursor(epoch: Epoch, p: Position) -> String {
    format!("v1.{epoch}.{}.{}", p.xid, p.seq)
}

fn parse_cursor(s: &str, epoch: Epoch) -> Result<Position, ApiError> {
    let invalid = || {
        ApiError::bad_request(
            "invalid_cursor",
            "the cursor is not one this server issued; pull without a cursor to start over",
        )
    };
    let mut parts = s.split('.');
    let (Some("v1"), Some(e), Some(xid), Some(seq), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(invalid());
    };
    let e: Epoch = e.parse().map_err(|_| invalid())?;
    if e != epoch {
        return Err(ApiError::conflict(
            "resync_required",
            "the database was restored since this cursor was issued: push your outbox, \
             then pull without a cursor and replace local records",
        ));
    }
    let xid: i64 = xid.parse().map_err(|_| invalid())?;
    let seq: i64 = seq.parse().map_err(|_| invalid())?;
    if xid < 0 || seq < 0 {
        return Err(invalid());
    }
    Ok(Position { xid, seq })
}
