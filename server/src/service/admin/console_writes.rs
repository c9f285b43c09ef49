//! The administrator as a writer. An administrator's edits and imports are ordinary
//! operations of their console device (`devices.kind = 'console'`, one per administrator,
//! made on first use and stored revoked so it never signs in), numbered by the server under
//! the device's lock and stamped with the server's clock, and they go through the very
//! `process_batch` and `DbBatchStore` a phone's push does: the same validation, merge,
//! exactly-once ledger, change feed and typed tables. So a device sees an administrator's
//! write as one more writer's, and a concurrent one as a sibling.

use serde_json::{Map, Value};
use sync_protocol::wire::{OpKind, OpResult};
use sync_protocol::{ApplyEnv, Context, DeviceId, Hlc, RecordId};

use crate::auth::Role;
use crate::db::scope::Scope;
use crate::db::{self, AnyConnection, devices, meta};
use crate::error::ApiError;
use crate::ids::UserId;
use crate::service::sync::numbered::{self, Unnumbered};
use crate::service::sync::scope_of;

/// One write an administrator makes.
#[derive(Clone, Debug)]
pub struct ConsoleEdit {
    /// `households`, `visits` or `aid`.
    pub collection: String,
    /// The record.
    pub record_id: RecordId,
    /// Put, patch or delete.
    pub kind: OpKind,
    /// What the administrator had seen of the record (from a read), empty for a new one.
    pub ctx: Context,
    /// The fields, for put and patch.
    pub fields: Option<Map<String, Value>>,
}

/// An administrator's console device, opened inside the caller's write transaction, with
/// the scope the administrator may write in.
pub struct ConsoleWriter {
    device: DeviceId,
    scope: Scope,
}

impl ConsoleWriter {
    /// Opens `admin`'s console device, creating it on first use. Their scope is read now,
    /// with the assignments locked as a push locks them.
    pub fn open(c: &mut AnyConnection, admin: UserId) -> Result<ConsoleWriter, ApiError> {
        let device = devices::console_of(c, admin)?;
        let locked = devices::lock_with_owner(c, device)?
            .ok_or_else(|| ApiError::internal(format!("console device {device} vanished")))?;
        let role: Role = locked.owner_role.parse().map_err(|_| {
            ApiError::internal(format!("user {} has role {}", admin, locked.owner_role))
        })?;
        if role == Role::Officer {
            return Err(ApiError::forbidden_role());
        }
        let scope = scope_of(
            c,
            role,
            &locked.user_id,
            locked.owner_agency.as_deref(),
            true,
        )?;
        Ok(ConsoleWriter { device, scope })
    }

    /// The console device's id: the writer devices see in the dots of these writes.
    pub fn device(&self) -> DeviceId {
        self.device
    }

    /// Whether the administrator may write the records of `household`.
    pub fn may_write(&self, household: &str) -> bool {
        self.scope.contains(household)
    }

    /// Lets the writes that follow reach `households` too: new households an import
    /// creates and assigns within the administrator's agency in the same transaction.
    pub fn admit(&mut self, households: impl IntoIterator<Item = String>) {
        if let Scope::Households(own) = &mut self.scope {
            own.extend(households);
        }
    }

    /// Applies `edits` as one batch of the console device, numbered after its last
    /// operation, and answers a result per edit in order. Within the caller's write
    /// transaction, so that a caller may write many batches all or nothing.
    pub fn write(
        &mut self,
        c: &mut AnyConnection,
        edits: Vec<ConsoleEdit>,
    ) -> Result<Vec<OpResult>, ApiError> {
        if edits.is_empty() {
            return Ok(Vec::new());
        }
        // Re-read under the lock each batch: the watermark the previous batch left.
        let locked = devices::lock_with_owner(c, self.device)?.ok_or_else(|| {
            ApiError::internal(format!("console device {} vanished", self.device))
        })?;
        if !locked.owner_active {
            return Err(ApiError::user_deactivated());
        }
        let now = Hlc::at(u64::try_from(db::now_ms()).unwrap_or(0));
        let env = ApplyEnv {
            epoch: meta::epoch(c)?,
            now,
            // The stamps are the server's own clock: never ahead of it.
            max_drift_ms: 0,
        };
        let ops = edits
            .into_iter()
            .zip(0u32..)
            .map(|(e, i)| Unnumbered {
                collection: e.collection,
                record_id: e.record_id,
                kind: e.kind,
                ctx: e.ctx,
                // One batch's writes share a millisecond; the counter keeps them ordered.
                hlc: Hlc {
                    wall_ms: now.wall_ms,
                    counter: i,
                },
                fields: e.fields,
            })
            .collect();
        numbered::apply(c, self.device, locked, self.scope.clone(), &env, ops)
    }
}
