//! Administration: agencies, users, devices and the audit log, each limited by role.
//! Agency admins see and manage their own agency's officers; regency admins everything.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{Caller, Role};
use crate::db::audit::AuditRow;
use crate::db::users::DeviceRow;
use crate::db::{self, AnyConnection, audit, devices, tokens, users};
use crate::error::ApiError;
use crate::service::accounts::{self, NewUserRequest, Principal, UserView, authorize};
use crate::service::audit::{Entry, record};

fn admin(conn: &mut AnyConnection, caller: &Caller) -> Result<Principal, ApiError> {
    let p = authorize(conn, caller)?;
    match p.role {
        Role::RegencyAdmin | Role::AgencyAdmin => Ok(p),
        Role::Officer => Err(forbidden_role()),
    }
}

fn regency_admin(conn: &mut AnyConnection, caller: &Caller) -> Result<Principal, ApiError> {
    let p = authorize(conn, caller)?;
    match p.role {
        Role::RegencyAdmin => Ok(p),
        _ => Err(forbidden_role()),
    }
}

fn forbidden_role() -> ApiError {
    ApiError::forbidden("forbidden_role", "your role does not allow this")
}

/// The agency an agency admin is limited to; `None` for a regency admin (no limit).
fn agency_limit(p: &Principal) -> Result<Option<&str>, ApiError> {
    match p.role {
        Role::RegencyAdmin => Ok(None),
        Role::AgencyAdmin => p.agency_id.as_deref().map(Some).ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("agency admin {} has no agency", p.user_id))
        }),
        Role::Officer => Err(forbidden_role()),
    }
}

fn who(p: &Principal) -> Entry {
    Entry::by(&p.user_id, &p.username, p.remote_addr.clone())
}

/// An agency.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AgencyView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Kind: `opd`, `school`, `partner`, ...
    pub kind: String,
}

/// A new agency.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAgency {
    /// Name, unique.
    pub name: String,
    /// Kind.
    pub kind: String,
}

/// Lists agencies: all for a regency admin, their own for an agency admin.
pub fn list_agencies(
    conn: &mut AnyConnection,
    caller: &Caller,
) -> Result<Vec<AgencyView>, ApiError> {
    let p = admin(conn, caller)?;
    let rows = users::agencies(conn, agency_limit(&p)?)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, kind, _)| AgencyView { id, name, kind })
        .collect())
}

/// Creates an agency (regency admins).
pub fn create_agency(
    conn: &mut AnyConnection,
    caller: &Caller,
    req: NewAgency,
) -> Result<AgencyView, ApiError> {
    let p = regency_admin(conn, caller)?;
    let agency = insert_agency(conn, req)?;
    record(
        conn,
        who(&p).action(
            "agency_created",
            Some(&agency.id),
            serde_json::json!({"name": agency.name, "kind": agency.kind}),
        ),
    );
    Ok(agency)
}

/// Checks and stores a new agency; the caller decides who may.
pub fn insert_agency(conn: &mut AnyConnection, req: NewAgency) -> Result<AgencyView, ApiError> {
    let name = req.name.trim();
    let kind = req.kind.trim();
    if name.is_empty() || name.chars().count() > 200 || kind.is_empty() || kind.len() > 32 {
        return Err(ApiError::bad_request(
            "invalid_agency",
            "an agency has a name (1-200 characters) and a kind (1-32 characters)",
        ));
    }
    let taken = || ApiError::conflict("agency_exists", format!("an agency named `{name}` exists"));
    if users::agencies(conn, None)?
        .iter()
        .any(|(_, n, _, _)| n == name)
    {
        return Err(taken());
    }
    let id = Uuid::now_v7().to_string();
    match users::insert_agency(conn, &id, name, kind) {
        Err(e) if accounts::is_unique_violation(&e) => return Err(taken()),
        other => other?,
    }
    Ok(AgencyView {
        id,
        name: name.to_owned(),
        kind: kind.to_owned(),
    })
}

/// Lists users the caller may see.
pub fn list_users(conn: &mut AnyConnection, caller: &Caller) -> Result<Vec<UserView>, ApiError> {
    let p = admin(conn, caller)?;
    users::list(conn, agency_limit(&p)?)?
        .into_iter()
        .map(UserView::try_from)
        .collect()
}

/// Creates a user: any for a regency admin; an officer of their own agency for an agency
/// admin.
pub fn create_user(
    conn: &mut AnyConnection,
    caller: &Caller,
    mut req: NewUserRequest,
) -> Result<UserView, ApiError> {
    let p = admin(conn, caller)?;
    if let Some(own) = agency_limit(&p)? {
        if req.role != Role::Officer {
            return Err(ApiError::forbidden(
                "forbidden_role",
                "agency admins create officers only",
            ));
        }
        match &req.agency_id {
            Some(a) if a != own => {
                return Err(ApiError::forbidden(
                    "other_agency",
                    "agency admins create officers of their own agency only",
                ));
            }
            _ => req.agency_id = Some(own.to_owned()),
        }
    }
    let user = accounts::create_user(conn, req)?;
    record(
        conn,
        who(&p).action(
            "user_created",
            Some(&user.id),
            serde_json::json!({"username": user.username, "role": user.role, "agency_id": user.agency_id}),
        ),
    );
    Ok(user)
}

/// Activates or deactivates a user. Deactivation revokes their refresh credentials; their
/// access tokens are refused from the next request.
pub fn set_active(
    conn: &mut AnyConnection,
    caller: &Caller,
    user_id: &str,
    active: bool,
) -> Result<UserView, ApiError> {
    let p = admin(conn, caller)?;
    let target = users::by_id(conn, user_id)?
        .ok_or_else(|| ApiError::not_found("user_not_found", format!("no user {user_id}")))?;
    if let Some(own) = agency_limit(&p)?
        && (target.agency_id.as_deref() != Some(own) || target.role != Role::Officer.as_str())
    {
        return Err(ApiError::forbidden(
            "other_agency",
            "agency admins manage their own agency's officers only",
        ));
    }
    if target.id == p.user_id && !active {
        return Err(ApiError::bad_request(
            "cannot_deactivate_self",
            "you cannot deactivate yourself",
        ));
    }
    db::write_tx(conn, |c| {
        users::set_active(c, &target.id, active)?;
        if !active {
            tokens::revoke_user(c, &target.id)?;
        }
        Ok::<_, ApiError>(())
    })?;
    let action = if active {
        "user_activated"
    } else {
        "user_deactivated"
    };
    record(
        conn,
        who(&p).action(
            action,
            Some(&target.id),
            serde_json::json!({"username": target.username}),
        ),
    );
    users::by_id(conn, user_id)?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("user vanished")))?
        .try_into()
}

/// A device as administrators see it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeviceView {
    /// Installation id.
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// Owner's sign-in name.
    pub username: String,
    /// Owner's agency.
    pub agency_id: Option<String>,
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
    /// Registered at, ms.
    pub registered_at: i64,
    /// Last push, ms.
    pub last_push_at: Option<i64>,
}

impl From<DeviceRow> for DeviceView {
    fn from(d: DeviceRow) -> Self {
        DeviceView {
            id: d.id,
            user_id: d.user_id,
            username: d.username,
            agency_id: d.agency_id,
            last_seq: d.last_seq,
            revoked: d.revoked,
            revoked_at: d.revoked_at,
            revoked_reason: d.revoked_reason,
            seq_reuse_count: d.seq_reuse_count,
            registered_at: d.created_at,
            last_push_at: d.last_push_at,
        }
    }
}

/// Lists devices the caller may see.
pub fn list_devices(
    conn: &mut AnyConnection,
    caller: &Caller,
) -> Result<Vec<DeviceView>, ApiError> {
    let p = admin(conn, caller)?;
    Ok(users::devices(conn, agency_limit(&p)?)?
        .into_iter()
        .map(DeviceView::from)
        .collect())
}

/// Why a device is revoked.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    /// `lost`, `stolen`, `officer_left`, ... (free text, at most 200 characters).
    pub reason: String,
}

/// Revokes a device: its tokens and refresh credentials are refused from now on, and its
/// pushes are answered `device_revoked` (the device keeps its queue; nothing is dropped
/// silently).
pub fn revoke_device(
    conn: &mut AnyConnection,
    caller: &Caller,
    device_id: &str,
    req: Revocation,
) -> Result<DeviceView, ApiError> {
    let p = admin(conn, caller)?;
    let reason = req.reason.trim();
    if reason.is_empty() || reason.chars().count() > 200 {
        return Err(ApiError::bad_request(
            "invalid_reason",
            "give a reason of 1 to 200 characters",
        ));
    }
    let limit = agency_limit(&p)?.map(str::to_owned);
    let all = users::devices(conn, limit.as_deref())?;
    // Agency admins manage their own agency's officers, as for deactivation.
    let manageable = |d: &DeviceRow| limit.is_none() || d.role == Role::Officer.as_str();
    let Some(device) = all.into_iter().find(|d| d.id == device_id && manageable(d)) else {
        return Err(ApiError::not_found(
            "device_not_found",
            format!("no device {device_id} you may manage"),
        ));
    };
    db::write_tx(conn, |c| {
        devices::revoke(c, device_id, reason)?;
        tokens::revoke_device(c, device_id)?;
        Ok::<_, ApiError>(())
    })?;
    record(
        conn,
        who(&p).action(
            "device_revoked",
            Some(device_id),
            serde_json::json!({"reason": reason, "owner": device.username}),
        ),
    );
    let updated = users::devices(conn, limit.as_deref())?
        .into_iter()
        .find(|d| d.id == device_id)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("device vanished")))?;
    Ok(updated.into())
}

/// Query of the audit log.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only entries older than this entry id (for paging).
    pub before: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// Reads the audit log, newest first (regency admins).
pub fn audit_log(
    conn: &mut AnyConnection,
    caller: &Caller,
    q: AuditQuery,
) -> Result<Vec<AuditRow>, ApiError> {
    regency_admin(conn, caller)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    Ok(audit::list(
        conn,
        q.before.as_deref(),
        q.action.as_deref(),
        limit,
    )?)
}
