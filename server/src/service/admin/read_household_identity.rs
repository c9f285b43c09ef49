//! Reading a household's KK and NIK numbers: a regency admin, with a reason.

use sync_protocol::RecordId;

use super::assign_household::checked_reason;
use crate::api::identity::{IdentityReadQuery, IdentityView};
use crate::auth::Caller;
use crate::db::{self, AnyConnection, records};
use crate::error::{ApiError, ErrorCode};
use crate::pii::{IdentityNumber, PiiKeys};
use crate::service::identity;
use crate::service::{audit, authorize};

/// The numbers of `household` (a live household, or one that has numbers). The audit entry,
/// with the reason, is written in the same transaction as the read: numbers whose reading
/// could not be audited are not answered.
pub fn read_household_identity(
    conn: &mut AnyConnection,
    caller: &Caller,
    keys: &PiiKeys,
    household: RecordId,
    q: IdentityReadQuery,
) -> Result<IdentityView, ApiError> {
    let p = authorize::regency_admin(conn, caller)?;
    let reason = checked_reason(&q.reason)?.to_owned();
    let numbers = db::write_tx(conn, |c| {
        let numbers = identity::numbers_of(c, keys, household)?;
        if numbers.updated_at.is_none() && !records::household_exists(c, household)? {
            return Err(ApiError::new(
                ErrorCode::HouseholdNotFound,
                format!("no household {household}"),
            ));
        }
        audit::append_required(
            c,
            p.actor().action(
                "household_identity_read",
                Some(&household.to_string()),
                serde_json::json!({
                    "reason": reason,
                    "kk": numbers.kk.is_some(),
                    "nik": numbers.nik.is_some(),
                }),
            ),
        )?;
        Ok(numbers)
    })?;
    let shown = |n: Option<IdentityNumber>| n.map(|n| n.expose().to_owned());
    Ok(IdentityView {
        household_id: household,
        kk: shown(numbers.kk),
        nik: shown(numbers.nik),
        updated_at: numbers.updated_at,
    })
}
