//! Setting a household's KK and NIK numbers.

use sync_protocol::RecordId;

use super::{Numbers, households_with, numbers_of, sealed_row};
use crate::api::identity::IdentityStatus;
use crate::db::identity as rows;
use crate::db::{AnyConnection, now_ms};
use crate::error::{ApiError, ErrorCode};
use crate::pii::{IdentityNumber, NumberKind, PiiKeys};

/// What to do with one of the numbers.
#[derive(Clone, Debug, Default)]
pub enum Change {
    /// Leave it as it is.
    #[default]
    Keep,
    /// Store this number.
    Set(IdentityNumber),
    /// Remove it.
    Remove,
}

impl Change {
    /// `Keep` when `None`, `Set` otherwise: a number read from a file or a form.
    pub fn set_if(number: Option<IdentityNumber>) -> Change {
        number.map_or(Change::Keep, Change::Set)
    }
}

/// Applies `kk` and `nik` to `household`'s numbers and answers what it then has. The whole
/// row is sealed again under the current key. A number another household has (under any of
/// the server's keys) is refused `409 duplicate_kk` / `duplicate_nik`, naming that
/// household. Within the caller's write transaction, which it locks for identity writes;
/// it checks neither the household's existence nor the caller's rights.
pub fn store(
    conn: &mut AnyConnection,
    keys: &PiiKeys,
    household: RecordId,
    kk: Change,
    nik: Change,
) -> Result<IdentityStatus, ApiError> {
    rows::lock_for_write(conn)?;
    let id = household.to_string();
    let Numbers {
        kk: old_kk,
        nik: old_nik,
        ..
    } = numbers_of(conn, keys, household)?;
    let kk = applied(conn, keys, household, NumberKind::Kk, kk, old_kk)?;
    let nik = applied(conn, keys, household, NumberKind::Nik, nik, old_nik)?;
    let now = now_ms();
    match sealed_row(keys, &id, kk.as_ref(), nik.as_ref(), now)? {
        Some(row) => rows::upsert(conn, &row)?,
        None => {
            rows::delete(conn, &id)?;
        }
    }
    let stored = kk.is_some() || nik.is_some();
    Ok(IdentityStatus {
        household_id: household,
        has_kk: kk.is_some(),
        has_nik: nik.is_some(),
        updated_at: stored.then_some(now),
    })
}

/// The number of `kind` after `change`, checked to be no other household's.
fn applied(
    conn: &mut AnyConnection,
    keys: &PiiKeys,
    household: RecordId,
    kind: NumberKind,
    change: Change,
    old: Option<IdentityNumber>,
) -> Result<Option<IdentityNumber>, ApiError> {
    let number = match change {
        Change::Keep => return Ok(old),
        Change::Remove => return Ok(None),
        Change::Set(n) => n,
    };
    if number.kind() != kind {
        return Err(ApiError::internal(format!(
            "a {} number given as the {} number",
            number.kind().label(),
            kind.label()
        )));
    }
    if let Some(other) = households_with(conn, keys, &number)?
        .into_iter()
        .find(|h| *h != household)
    {
        let code = match kind {
            NumberKind::Kk => ErrorCode::DuplicateKk,
            NumberKind::Nik => ErrorCode::DuplicateNik,
        };
        return Err(ApiError::new(
            code,
            format!(
                "this {} number is already household {other}'s",
                kind.label()
            ),
        ));
    }
    Ok(Some(number))
}
