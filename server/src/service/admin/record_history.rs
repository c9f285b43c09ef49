//! An administrator reads a record's history: every write that changed it, newest first,
//! with who, when, from which device, the kind and what it wrote.

use std::collections::HashMap;

use serde_json::Value;
use sync_protocol::RecordId;

use crate::api::conflicts::{HistoryQuery, Page, WriteView};
use crate::auth::Caller;
use crate::db::record_writes::WriteRow;
use crate::db::{self, AnyConnection, record_writes, to_u64, users};
use crate::error::ApiError;
use crate::service::authorize;

use super::conflict_values::rfc3339;
use super::page_limit::{bad_cursor, page_limit};
use super::read_record::load_in_scope;

/// A page of record `id`'s writes, newest first; the cursor is the version of the last
/// write listed. Within the scope of the record read: another agency's record answers as
/// the read does.
pub fn record_history(
    conn: &mut AnyConnection,
    caller: &Caller,
    collection: &str,
    id: RecordId,
    q: HistoryQuery,
) -> Result<Page<WriteView>, ApiError> {
    let p = authorize::admin(conn, caller)?;
    let limit = page_limit(q.limit)?;
    let before = match q.cursor.as_deref() {
        None => None,
        Some(c) => Some(
            c.parse::<i64>()
                .ok()
                .filter(|v| *v > 0)
                .ok_or_else(|| bad_cursor(c))?,
        ),
    };
    db::read_tx(conn, |c| {
        load_in_scope(c, &p, collection, id)?;
        // One more than asked tells whether another page follows.
        let mut rows = record_writes::history(c, &id.to_string(), before, limit + 1)?;
        let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let mut ids: Vec<String> = rows.iter().map(|r| r.user_id.clone()).collect();
        ids.sort_unstable();
        ids.dedup();
        let names = users::names_of(c, &ids)?;
        let next_cursor = more
            .then(|| rows.last().map(|r| r.version.to_string()))
            .flatten();
        let items = rows
            .into_iter()
            .map(|r| view(r, &names))
            .collect::<Result<_, _>>()?;
        Ok(Page { items, next_cursor })
    })
}

fn view(r: WriteRow, names: &HashMap<String, String>) -> Result<WriteView, ApiError> {
    let parse = |what: &str, s: &str| {
        serde_json::from_str::<Value>(s).map_err(|_| {
            ApiError::internal(format!(
                "record write {}@{} has an unreadable {what}",
                r.record_id, r.version
            ))
        })
    };
    Ok(WriteView {
        version: to_u64(r.version)?,
        at: rfc3339(r.applied_at).unwrap_or_default(),
        seq: to_u64(r.seq)?,
        username: names.get(&r.user_id).cloned(),
        ctx: parse("ctx", &r.ctx)?,
        fields: r
            .fields
            .as_deref()
            .map(|f| parse("fields", f))
            .transpose()?,
        hlc: parse("hlc", &r.hlc)?,
        device_id: r.device_id.clone(),
        user_id: r.user_id.clone(),
        kind: r.kind.clone(),
        status: r.status.clone(),
    })
}
