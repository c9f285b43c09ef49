//! Revoking a device.

use crate::api::admin::{DeviceView, Revocation};
use crate::auth::{Caller, Role};
use crate::db::{self, AnyConnection, devices, tokens};
use crate::error::{ApiError, ErrorCode};
use crate::ids::DeviceId;
use crate::service::{audit, authorize};

/// Revokes a device: its tokens and refresh credentials are refused from now on, and its
/// pushes are answered `device_revoked` (the device keeps its queue; nothing is dropped
/// silently).
pub fn revoke_device(
    conn: &mut AnyConnection,
    caller: &Caller,
    device_id: DeviceId,
    req: Revocation,
) -> Result<DeviceView, ApiError> {
    let p = authorize::admin(conn, caller)?;
    let reason = req.reason.trim();
    if reason.is_empty() || reason.chars().count() > 200 {
        return Err(ApiError::new(
            ErrorCode::InvalidReason,
            "give a reason of 1 to 200 characters",
        ));
    }
    let limit = p.agency_limit()?;
    let device = devices::with_owners(conn, limit, Some(device_id))?
        .into_iter()
        // Agency admins manage their own agency's officers, as for deactivation.
        .find(|d| limit.is_none() || d.role == Role::Officer.as_str())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::DeviceNotFound,
                format!("no device {device_id} you may manage"),
            )
        })?;
    db::write_tx(conn, |c| {
        devices::revoke(c, device_id, reason)?;
        tokens::revoke_device(c, device_id)?;
        Ok::<_, ApiError>(())
    })?;
    audit::append(
        conn,
        p.actor().action(
            "device_revoked",
            Some(&device_id.to_string()),
            serde_json::json!({"reason": reason, "owner": device.username}),
        ),
    );
    devices::with_owners(conn, limit, Some(device_id))?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal("device vanished"))?
        .try_into()
}
