//! Rotating the key: every row sealed under an old key is sealed again under the current
//! one, with new blind indexes.

use std::path::Path;

use serde::Serialize;

use super::{open_keys, opened, sealed_row};
use crate::config::PiiArgs;
use crate::db::identity as rows;
use crate::db::{self, AnyConnection, now_ms};
use crate::error::ApiError;
use crate::pii::PiiKeys;
use crate::service::audit::{self, Entry};

/// What a rotation did.
#[derive(Clone, Debug, Serialize)]
pub struct Rotation {
    /// The key everything is now under.
    pub key_id: String,
    /// Households re-sealed.
    pub resealed: usize,
    /// The keys they were under before.
    pub from_keys: Vec<String>,
}

/// Re-seals every row not under the current key. Within the caller's write transaction:
/// all rows move, or none. A row under a key the server lacks stops it (the keys were
/// checked at load, so only a row written meanwhile by a server with another key can).
pub fn rotate(conn: &mut AnyConnection, keys: &PiiKeys) -> Result<Rotation, ApiError> {
    rows::lock_for_write(conn)?;
    let current = keys.current().id().to_owned();
    let stale = rows::not_under_key(conn, &current)?;
    let mut from_keys: Vec<String> = stale.iter().map(|r| r.key_id.clone()).collect();
    from_keys.sort();
    from_keys.dedup();
    for row in &stale {
        let numbers = opened(keys, row)?;
        let resealed = sealed_row(
            keys,
            &row.household_id,
            numbers.kk.as_ref(),
            numbers.nik.as_ref(),
            now_ms(),
        )?
        .ok_or_else(|| {
            ApiError::internal(format!("household {} has an empty row", row.household_id))
        })?;
        rows::upsert(conn, &resealed)?;
    }
    Ok(Rotation {
        key_id: current,
        resealed: stale.len(),
        from_keys,
    })
}

/// `kampung-sync pii rotate`: loads the keys of `args` (never generating one), rotates in
/// one write transaction and audits what moved.
pub fn rotate_keys(
    conn: &mut AnyConnection,
    args: &PiiArgs,
    data_dir: &Path,
) -> anyhow::Result<Rotation> {
    let keys = open_keys(conn, args, data_dir, false)?;
    let rotation = db::write_tx(conn, |c| rotate(c, &keys)).map_err(|e| anyhow::anyhow!("{e}"))?;
    if rotation.resealed > 0 {
        audit::append(
            conn,
            Entry::system(
                "pii_key_rotated",
                None,
                serde_json::json!({"key_id": rotation.key_id, "from_keys": rotation.from_keys,
                                   "households": rotation.resealed, "via": "command line"}),
            ),
        );
    }
    Ok(rotation)
}
