//! What each write to a record was: one row per operation that changed a record, kept by
//! the batch flush beside the record, for the record's history and the who and when of its
//! conflicting values. A record's rows are keyed by the dot each write was issued
//! (`version`, with the writing device and its `seq`), so they are in write order and a
//! sibling finds its write by the key.

use std::collections::HashSet;

use diesel::prelude::*;

use super::schema::record_writes;
use super::{AnyConnection, DbResult, per_backend, records::CHUNK};

/// One write as the flush keeps it.
#[derive(Clone, Debug, Queryable, Insertable)]
#[diesel(table_name = record_writes)]
pub struct WriteRow {
    /// The record.
    pub record_id: String,
    /// The dot the write was issued: the record's version after it.
    pub version: i64,
    /// Its collection.
    pub collection: String,
    /// The writing device.
    pub device_id: String,
    /// The device's sequence number of the operation.
    pub seq: i64,
    /// The device's owner when it wrote.
    pub user_id: String,
    /// When the server applied it, ms.
    pub applied_at: i64,
    /// The device's stamp, JSON (`{"wall_ms":..,"counter":..}`).
    pub hlc: String,
    /// `put`, `patch` or `delete`.
    pub kind: String,
    /// The context it carried, JSON.
    pub ctx: String,
    /// The fields it carried, JSON; none for a delete.
    pub fields: Option<String>,
    /// `applied` or `conflict`.
    pub status: String,
}

const COLUMNS: (
    record_writes::record_id,
    record_writes::version,
    record_writes::collection,
    record_writes::device_id,
    record_writes::seq,
    record_writes::user_id,
    record_writes::applied_at,
    record_writes::hlc,
    record_writes::kind,
    record_writes::ctx,
    record_writes::fields,
    record_writes::status,
) = (
    record_writes::record_id,
    record_writes::version,
    record_writes::collection,
    record_writes::device_id,
    record_writes::seq,
    record_writes::user_id,
    record_writes::applied_at,
    record_writes::hlc,
    record_writes::kind,
    record_writes::ctx,
    record_writes::fields,
    record_writes::status,
);

/// Stores a batch's writes, one multi-row insert per [`CHUNK`] (twelve columns a row stay
/// far below either backend's limit of bind parameters).
pub fn insert_many(conn: &mut AnyConnection, rows: &[WriteRow]) -> DbResult<()> {
    for chunk in rows.chunks(CHUNK) {
        per_backend!(&mut *conn, c => diesel::insert_into(record_writes::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// Up to `limit` writes of `record`, newest first, below version `before` when given.
pub fn history(
    conn: &mut AnyConnection,
    record: &str,
    before: Option<i64>,
    limit: i64,
) -> DbResult<Vec<WriteRow>> {
    let mut q = record_writes::table
        .filter(record_writes::record_id.eq(record))
        .select(COLUMNS)
        // A version issued twice (a purged record created anew) lists the later write first.
        .order((
            record_writes::version.desc(),
            record_writes::applied_at.desc(),
        ))
        .limit(limit)
        .into_boxed();
    if let Some(v) = before {
        q = q.filter(record_writes::version.lt(v));
    }
    Ok(q.load(conn)?)
}

/// A sibling's write: the record, and the dot's version, device and sequence number.
pub type Dot = (String, i64, String, i64);

/// The writes the `wanted` dots name (siblings'); dots with no row (written before writes
/// were kept) are left out.
pub fn at(conn: &mut AnyConnection, wanted: &[Dot]) -> DbResult<Vec<WriteRow>> {
    let mut found = Vec::with_capacity(wanted.len());
    let dots: HashSet<(&str, i64, &str, i64)> = wanted
        .iter()
        .map(|(r, v, d, s)| (r.as_str(), *v, d.as_str(), *s))
        .collect();
    for chunk in wanted.chunks(CHUNK) {
        let ids: HashSet<&str> = chunk.iter().map(|(r, ..)| r.as_str()).collect();
        let versions: HashSet<i64> = chunk.iter().map(|(_, v, ..)| *v).collect();
        let rows: Vec<WriteRow> = record_writes::table
            .filter(record_writes::record_id.eq_any(ids))
            .filter(record_writes::version.eq_any(versions))
            .select(COLUMNS)
            .load(conn)?;
        found.extend(rows.into_iter().filter(|r| {
            dots.contains(&(r.record_id.as_str(), r.version, r.device_id.as_str(), r.seq))
        }));
    }
    Ok(found)
}
