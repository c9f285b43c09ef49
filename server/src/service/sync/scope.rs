//! Who syncs what: an officer the households assigned to them, an agency admin those of
//! their agency's officers, a regency admin everything.

use crate::auth::Role;
use crate::db::scope::Scope;
use crate::db::{AnyConnection, assignments};
use crate::error::ApiError;

/// The scope of a user with `role`, id `user` and `agency`. With `lock` (a push), an
/// officer's active assignments stay locked until the transaction ends, so that a
/// reassignment commits either before the push reads them or after the push commits.
pub fn scope_of(
    conn: &mut AnyConnection,
    role: Role,
    user: &str,
    agency: Option<&str>,
    lock: bool,
) -> Result<Scope, ApiError> {
    let households = match (role, agency) {
        (Role::RegencyAdmin, _) => return Ok(Scope::All),
        (Role::AgencyAdmin, Some(a)) => assignments::households_of_agency(conn, a)?,
        (Role::AgencyAdmin, None) => {
            return Err(ApiError::internal(format!(
                "agency admin {user} has no agency"
            )));
        }
        (Role::Officer, _) => assignments::households_of_officer(conn, user, lock)?,
    };
    Ok(Scope::Households(households.into_iter().collect()))
}
