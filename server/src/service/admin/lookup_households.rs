//! Finding households by KK or NIK number.

use crate::api::identity::{HouseholdMatches, IdentityLookup};
use crate::auth::Caller;
use crate::db::{self, AnyConnection};
use crate::error::{ApiError, ErrorCode};
use crate::pii::{NumberKind, PiiKeys};
use crate::service::identity;
use crate::service::{audit, authorize};

use super::household_identity_scope;

/// The households within the caller's scope that have the number. Audited with the kind of
/// number and the count found, never the number.
pub fn lookup_households(
    conn: &mut AnyConnection,
    caller: &Caller,
    keys: &PiiKeys,
    req: IdentityLookup,
) -> Result<HouseholdMatches, ApiError> {
    let p = authorize::admin(conn, caller)?;
    let number = match (req.kk, req.nik) {
        (Some(kk), None) => identity::parse(NumberKind::Kk, &kk.0)?,
        (None, Some(nik)) => identity::parse(NumberKind::Nik, &nik.0)?,
        _ => {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                "give exactly one of `kk` and `nik`",
            ));
        }
    };
    let household_ids = db::read_tx(conn, |c| {
        let found = identity::households_with(c, keys, &number)?;
        let scope = household_identity_scope::scope(c, &p)?;
        Ok::<_, ApiError>(
            found
                .into_iter()
                .filter(|h| scope.contains(&h.to_string()))
                .collect::<Vec<_>>(),
        )
    })?;
    audit::append(
        conn,
        p.actor().action(
            "household_identity_lookup",
            None,
            serde_json::json!({"by": number.kind().as_str(), "matches": household_ids.len()}),
        ),
    );
    Ok(HouseholdMatches { household_ids })
}
