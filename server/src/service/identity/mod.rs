//! The KK and NIK numbers of households: the rules every writer and reader of
//! `household_identity` follows (see `crate::pii`). The admin endpoints (`service::admin`),
//! imports and the command line call these, inside their own write transaction; none
//! checks roles or writes the audit log, which is their callers' part.

mod rotate;
mod store;

pub use rotate::{Rotation, rotate, rotate_keys};
pub use store::{Change, store};

use std::collections::HashMap;
use std::path::Path;

use sync_protocol::RecordId;

use crate::config::PiiArgs;
use crate::db::AnyConnection;
use crate::db::identity::{self as rows, IdentityRow, IndexColumn};
use crate::error::{ApiError, ErrorCode};
use crate::pii::{CipherError, IdentityNumber, NumberKind, PiiKeys};

/// The keys of `args` (or of the key file in `data_dir`), checked against the rows of the
/// database: see [`crate::pii::load_keys`]. For start-up and the command line.
pub fn open_keys(
    conn: &mut AnyConnection,
    args: &PiiArgs,
    data_dir: &Path,
    may_generate: bool,
) -> anyhow::Result<PiiKeys> {
    let in_use: Vec<String> = rows::key_ids_in_use(conn)?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    crate::pii::load_keys(args, data_dir, &in_use, may_generate)
}

/// A number of `kind` from a client's text; the error never repeats it.
pub fn parse(kind: NumberKind, raw: &str) -> Result<IdentityNumber, ApiError> {
    IdentityNumber::parse(kind, raw).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidIdentityNumber,
            format!("`{}`: {e}", kind.as_str()),
        )
    })
}

/// The households `number` belongs to, under any of the server's keys, in id order.
pub fn households_with(
    conn: &mut AnyConnection,
    keys: &PiiKeys,
    number: &IdentityNumber,
) -> Result<Vec<RecordId>, ApiError> {
    let column = match number.kind() {
        NumberKind::Kk => IndexColumn::Kk,
        NumberKind::Nik => IndexColumn::Nik,
    };
    rows::households_by_index(conn, column, &keys.blind_indexes(number))?
        .iter()
        .map(|id| {
            id.parse().map_err(|_| {
                ApiError::internal(format!("stored household id `{id}` is not a UUID"))
            })
        })
        .collect()
}

/// The stored numbers of `household`, opened; all `None` without a row.
pub fn numbers_of(
    conn: &mut AnyConnection,
    keys: &PiiKeys,
    household: RecordId,
) -> Result<Numbers, ApiError> {
    match rows::get(conn, &household.to_string())? {
        None => Ok(Numbers::default()),
        Some(row) => opened(keys, &row),
    }
}

/// The stored numbers of each of `households` that has any, opened, by household id.
pub fn numbers_of_many(
    conn: &mut AnyConnection,
    keys: &PiiKeys,
    households: &[String],
) -> Result<std::collections::HashMap<String, Numbers>, ApiError> {
    rows::get_many(conn, households)?
        .into_iter()
        .map(|row| Ok((row.household_id.clone(), opened(keys, &row)?)))
        .collect()
}

/// A household's numbers, opened.
#[derive(Clone, Debug, Default)]
pub struct Numbers {
    /// The KK number.
    pub kk: Option<IdentityNumber>,
    /// The NIK number.
    pub nik: Option<IdentityNumber>,
    /// Last change, ms; `None` without a row.
    pub updated_at: Option<i64>,
}

/// Opens the numbers of `row`. A row that does not open is a corrupt row or a wrong key:
/// an internal error that names the household and the key, never a number.
fn opened(keys: &PiiKeys, row: &IdentityRow) -> Result<Numbers, ApiError> {
    let open = |kind: NumberKind, sealed: &Option<String>| {
        sealed
            .as_deref()
            .map(|s| keys.open(&row.key_id, &row.household_id, kind, s))
            .transpose()
            .map_err(|e: CipherError| {
                ApiError::internal(format!(
                    "the {} number of household {} does not open: {e}",
                    kind.label(),
                    row.household_id
                ))
            })
    };
    Ok(Numbers {
        kk: open(NumberKind::Kk, &row.kk_cipher)?,
        nik: open(NumberKind::Nik, &row.nik_cipher)?,
        updated_at: Some(row.updated_at),
    })
}

/// Which household holds each of `numbers` (all of one kind), under any of the server's
/// keys, by the numbers' digits: the whole of an import's file in a query per thousand,
/// where [`households_with`] is a query per number.
pub fn holders(
    conn: &mut AnyConnection,
    keys: &PiiKeys,
    kind: NumberKind,
    numbers: &[&IdentityNumber],
) -> Result<HashMap<String, RecordId>, ApiError> {
    let mut digits_of: HashMap<String, &str> = HashMap::new();
    for n in numbers {
        for index in keys.blind_indexes(n) {
            digits_of.insert(index, n.expose());
        }
    }
    let column = match kind {
        NumberKind::Kk => IndexColumn::Kk,
        NumberKind::Nik => IndexColumn::Nik,
    };
    let asked: Vec<String> = digits_of.keys().cloned().collect();
    let mut out = HashMap::new();
    for (index, household) in rows::holders_of(conn, column, &asked)? {
        let id = household.parse().map_err(|_| {
            ApiError::internal(format!("stored household id `{household}` is not a UUID"))
        })?;
        if let Some(digits) = digits_of.get(&index) {
            out.insert((*digits).to_owned(), id);
        }
    }
    Ok(out)
}

/// Seals the numbers of households that have none stored yet, whose numbers the caller
/// found to be no household's (with [`holders`], in this transaction, after
/// [`lock_for_import`]): an import's new households, a multi-row insert per thousand.
pub fn store_new(
    conn: &mut AnyConnection,
    keys: &PiiKeys,
    households: &[(RecordId, Option<&IdentityNumber>, Option<&IdentityNumber>)],
) -> Result<(), ApiError> {
    let now = crate::db::now_ms();
    let mut sealed = Vec::with_capacity(households.len());
    for (id, kk, nik) in households {
        if let Some(row) = sealed_row(keys, &id.to_string(), *kk, *nik, now)? {
            sealed.push(row);
        }
    }
    rows::insert_many(conn, &sealed)?;
    Ok(())
}

/// Holds identity writes off until the transaction ends (PostgreSQL; SQLite's write
/// transaction excludes other writers already), so that numbers checked with [`holders`]
/// are still no one's when [`store_new`] writes them.
pub fn lock_for_import(conn: &mut AnyConnection) -> Result<(), ApiError> {
    Ok(rows::lock_for_write(conn)?)
}

/// A row for `household` holding `kk` and `nik`, sealed and indexed under the current key;
/// `None` when both are absent.
fn sealed_row(
    keys: &PiiKeys,
    household: &str,
    kk: Option<&IdentityNumber>,
    nik: Option<&IdentityNumber>,
    now: i64,
) -> Result<Option<IdentityRow>, ApiError> {
    if kk.is_none() && nik.is_none() {
        return Ok(None);
    }
    let key = keys.current();
    let seal = |n: Option<&IdentityNumber>| -> Result<(Option<String>, Option<String>), ApiError> {
        match n {
            None => Ok((None, None)),
            Some(n) => {
                let sealed = key
                    .seal(household, n)
                    .map_err(|e| ApiError::internal(format!("cannot seal a number: {e}")))?;
                Ok((Some(sealed), Some(key.blind_index(n))))
            }
        }
    };
    let (kk_cipher, kk_index) = seal(kk)?;
    let (nik_cipher, nik_index) = seal(nik)?;
    Ok(Some(IdentityRow {
        household_id: household.to_owned(),
        kk_cipher,
        kk_index,
        nik_cipher,
        nik_index,
        key_id: key.id().to_owned(),
        updated_at: now,
    }))
}
