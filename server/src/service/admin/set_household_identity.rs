//! Giving a household its KK and NIK numbers.

use sync_protocol::RecordId;

use super::household_identity_scope;
use crate::api::identity::{IdentityStatus, IdentityUpdate, NumberText};
use crate::auth::Caller;
use crate::db::{self, AnyConnection, records};
use crate::error::{ApiError, ErrorCode};
use crate::pii::{NumberKind, PiiKeys};
use crate::service::identity::{self, Change};
use crate::service::{audit, authorize};

/// Sets, replaces or removes the numbers of `household`, a live household in the caller's
/// scope. The audit entry says what changed, never the numbers.
pub fn set_household_identity(
    conn: &mut AnyConnection,
    caller: &Caller,
    keys: &PiiKeys,
    household: RecordId,
    req: IdentityUpdate,
) -> Result<IdentityStatus, ApiError> {
    let p = authorize::admin(conn, caller)?;
    let kk = change(NumberKind::Kk, req.kk)?;
    let nik = change(NumberKind::Nik, req.nik)?;
    if matches!((&kk, &nik), (Change::Keep, Change::Keep)) {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "give `kk`, `nik` or both (a number to store, or null to remove it)",
        ));
    }
    let detail = serde_json::json!({"kk": what(&kk), "nik": what(&nik)});
    let status = db::write_tx(conn, |c| {
        if !records::household_exists(c, household)? {
            return Err(ApiError::new(
                ErrorCode::HouseholdNotFound,
                format!("no household {household}"),
            ));
        }
        household_identity_scope::require(c, &p, household)?;
        identity::store(c, keys, household, kk, nik)
    })?;
    audit::append(
        conn,
        p.actor().action(
            "household_identity_set",
            Some(&household.to_string()),
            detail,
        ),
    );
    Ok(status)
}

fn change(kind: NumberKind, given: Option<Option<NumberText>>) -> Result<Change, ApiError> {
    Ok(match given {
        None => Change::Keep,
        Some(None) => Change::Remove,
        Some(Some(text)) => Change::Set(identity::parse(kind, &text.0)?),
    })
}

fn what(c: &Change) -> &'static str {
    match c {
        Change::Keep => "unchanged",
        Change::Set(_) => "set",
        Change::Remove => "removed",
    }
}
