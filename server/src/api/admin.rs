//! Administration: agencies, devices and the audit log.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::stored;
use crate::db::agencies::AgencyRow;
use crate::db::audit::AuditRow;
use crate::db::devices::DeviceWithOwner;
use crate::error::ApiError;
use crate::ids::{AgencyId, DeviceId, UserId};

/// An agency.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgencyView {
    /// Id.
    pub id: AgencyId,
    /// Name.
    pub name: String,
    /// Kind: `opd`, `school`, `partner`, ...
    pub kind: String,
}

impl TryFrom<AgencyRow> for AgencyView {
    type Error = ApiError;
    fn try_from(a: AgencyRow) -> Result<Self, ApiError> {
        Ok(AgencyView {
            id: stored("agency id", &a.id)?,
            name: a.name,
            kind: a.kind,
        })
    }
}

/// A new agency.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgency {
    /// Name, unique.
    #[serde(deserialize_with = "super::text::plain")]
    pub name: String,
    /// Kind.
    #[serde(deserialize_with = "super::text::plain")]
    pub kind: String,
}

/// A device as administrators see it.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeviceView {
    /// Installation id.
    pub id: DeviceId,
    /// Owner.
    pub user_id: UserId,
    /// Owner's sign-in name.
    pub username: String,
    /// Owner's agency.
    pub agency_id: Option<AgencyId>,
    /// Last processed sequence number.
    pub last_seq: i64,
    /// Revoked.
    pub revoked: bool,
    /// When, ms since the Unix epoch.
    pub revoked_at: Option<i64>,
    /// Why.
    pub revoked_reason: Option<String>,
    /// Sequence numbers caught reused (a reinstalled or cloned device).
    pub seq_reuse_count: i64,
    /// `field`: a phone or browser that signs in. `console`: the server-side writer of an
    /// administrator's edits and imports (stored revoked: it never signs in).
    pub kind: String,
    /// Registered at, ms.
    pub registered_at: i64,
    /// Last push, ms.
    pub last_push_at: Option<i64>,
}

impl TryFrom<DeviceWithOwner> for DeviceView {
    type Error = ApiError;
    fn try_from(d: DeviceWithOwner) -> Result<Self, ApiError> {
        Ok(DeviceView {
            id: stored("device id", &d.id)?,
            user_id: stored("user id", &d.user_id)?,
            agency_id: d
                .agency_id
                .as_deref()
                .map(|a| stored("agency id", a))
                .transpose()?,
            username: d.username,
            last_seq: d.last_seq,
            revoked: d.revoked,
            revoked_at: d.revoked_at,
            revoked_reason: d.revoked_reason,
            seq_reuse_count: d.seq_reuse_count,
            kind: d.kind,
            registered_at: d.created_at,
            last_push_at: d.last_push_at,
        })
    }
}

/// Why a device is revoked.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    /// `lost`, `stolen`, `officer_left`, ... (free text, at most 200 characters).
    #[serde(deserialize_with = "super::text::plain")]
    pub reason: String,
}

/// Query of the audit log.
#[derive(Clone, Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only entries older than this entry id (for paging).
    #[serde(deserialize_with = "super::text::plain_opt", default)]
    pub before: Option<String>,
    /// Only this action.
    #[serde(deserialize_with = "super::text::plain_opt", default)]
    pub action: Option<String>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// One audit entry as administrators read it.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntryView {
    /// Entry id (UUID v7: ordered by time).
    pub id: String,
    /// When, ms since the Unix epoch.
    pub at: i64,
    /// The acting user, when known.
    pub actor_user_id: Option<String>,
    /// The acting user's name, or the name tried at a failed sign-in.
    pub actor_username: Option<String>,
    /// What happened (`login_succeeded`, `device_revoked`, ...).
    pub action: String,
    /// What it was done to (a user, a device, an agency).
    pub target: Option<String>,
    /// Details, a JSON object.
    pub detail: Value,
    /// The client's address.
    pub remote_addr: Option<String>,
    /// Whether the action succeeded.
    pub success: bool,
}

impl TryFrom<AuditRow> for AuditEntryView {
    type Error = ApiError;
    fn try_from(r: AuditRow) -> Result<Self, ApiError> {
        let detail = serde_json::from_str(&r.detail).map_err(|_| {
            ApiError::internal(format!("audit entry {} has unreadable detail", r.id))
        })?;
        Ok(AuditEntryView {
            id: r.id,
            at: r.at,
            actor_user_id: r.actor_user_id,
            actor_username: r.actor_username,
            action: r.action,
            target: r.target,
            detail,
            remote_addr: r.remote_addr,
            success: r.success,
        })
    }
}
