//! Pull: one page of the changes in the caller's scope since their cursor, and of the
//! removals of records that left it, in one change order.

use sync_protocol::wire::Removal;

use super::cursor::{cursor_not_issued, format_cursor, parse_cursor};
use super::history_window;
use super::scope_of;
use crate::api::sync::PullPage;
use crate::auth::{Caller, Role};
use crate::config::Limits;
use crate::db::changes::{self, Position};
use crate::db::{self, AnyConnection, meta, removals};
use crate::error::ApiError;
use crate::service::authorize::authorize;
use crate::service::pull_limit;

/// One page of changes since `cursor`.
pub fn pull(
    conn: &mut AnyConnection,
    limits: &Limits,
    caller: &Caller,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<PullPage, ApiError> {
    let limit = pull_limit(limit, limits.pull_page_size)?;
    db::read_tx(conn, |c| {
        let p = authorize(c, caller)?;
        let epoch = meta::epoch(c)?;
        let after = match cursor {
            None | Some("") => Position::default(),
            Some(s) => {
                let after = parse_cursor(s, epoch)?;
                let highest = changes::highest_issuable(c)?;
                if after.xid > highest.xid || after.seq > highest.seq {
                    return Err(cursor_not_issued());
                }
                after
            }
        };
        let user = p.user_id.to_string();
        let agency = p.agency_id.map(|a| a.to_string());
        let scope = scope_of(c, p.role, &user, agency.as_deref(), false)?;
        let page = changes::changed_since(c, &scope, after, limit)?;
        let gone = removals::since(c, &user, after, page.horizon, limit + 1)?;
        let older = match p.role {
            Role::Officer => Some(history_window::cutoff(
                chrono::Utc::now(),
                limits.history_months,
            )),
            Role::AgencyAdmin | Role::RegencyAdmin => None,
        };
        let (changes, removals, next, has_more) = merge(page, gone, after, limit, older)?;
        Ok(PullPage {
            epoch,
            changes,
            removals,
            cursor: format_cursor(epoch, next),
            has_more,
        })
    })
}

type Merged = (
    Vec<Box<serde_json::value::RawValue>>,
    Vec<Removal>,
    Position,
    bool,
);

/// One page from the changed records and the removals, in change order: both lists are
/// each in that order and their positions come from one counter, so the first `limit` of
/// the two merged leave nothing behind the cursor. Records dated before `older` are
/// passed over (the cursor moves past them) but not sent.
fn merge(
    page: changes::Page,
    gone: Vec<removals::RemovalRow>,
    after: Position,
    limit: i64,
    older: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<Merged, ApiError> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let sent =
        |r: &serde_json::value::RawValue| older.is_none_or(|t| !history_window::is_older(r, t));
    if gone.is_empty() {
        return Ok((
            page.records
                .into_iter()
                .map(|(r, _)| r)
                .filter(|r| sent(r))
                .collect(),
            Vec::new(),
            page.next,
            page.has_more,
        ));
    }
    let removals_more = gone.len() > limit;
    let mut records = page.records.into_iter().peekable();
    let mut removed = gone.into_iter().peekable();
    let (mut out_changes, mut out_removals) = (Vec::new(), Vec::new());
    let mut last = after;
    let mut taken = 0;
    while taken < limit {
        let take_record = match (records.peek(), removed.peek()) {
            (Some((_, rp)), Some(g)) => *rp < g.position(),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        if take_record {
            let Some((r, at)) = records.next() else { break };
            last = at;
            if sent(&r) {
                out_changes.push((r, taken));
            }
        } else {
            let Some(g) = removed.next() else { break };
            last = g.position();
            out_removals.push((
                Removal {
                    id: g.record_id.parse().map_err(|_| {
                        ApiError::internal(format!("removal of `{}`: not a record id", g.record_id))
                    })?,
                    collection: g.collection,
                },
                taken,
            ));
        }
        taken += 1;
    }
    let (out_changes, out_removals) = latest_only(out_changes, out_removals);
    let left = records.peek().is_some() || removed.peek().is_some();
    let has_more = left || page.has_more || removals_more;
    // With nothing left of either, the cursor may move up to where the records' page ended
    // (the horizon, on PostgreSQL), but not past a removal it has not delivered: none is
    // left here, and removals below the horizon were all read.
    let next = if has_more { last } else { page.next.max(last) };
    Ok((out_changes, out_removals, next, has_more))
}

/// A record both changed and removed within one page (a household that left the scope and
/// came back between two pulls, or came and left) keeps only its later event, by its place
/// in the change order: the page's two lists do not tell a client which came first.
fn latest_only(
    changes: Vec<(Box<serde_json::value::RawValue>, usize)>,
    removals: Vec<(Removal, usize)>,
) -> (Vec<Box<serde_json::value::RawValue>>, Vec<Removal>) {
    use std::collections::BTreeMap;
    #[derive(serde::Deserialize)]
    struct Id {
        id: sync_protocol::RecordId,
    }
    let id_of =
        |r: &serde_json::value::RawValue| serde_json::from_str::<Id>(r.get()).ok().map(|i| i.id);
    let mut last: BTreeMap<sync_protocol::RecordId, usize> = BTreeMap::new();
    for (r, at) in &changes {
        if let Some(id) = id_of(r) {
            last.insert(id, (*at).max(last.get(&id).copied().unwrap_or(0)));
        }
    }
    for (g, at) in &removals {
        last.insert(g.id, (*at).max(last.get(&g.id).copied().unwrap_or(0)));
    }
    let changes = changes
        .into_iter()
        .filter(|(r, at)| id_of(r).is_none_or(|id| last.get(&id) == Some(at)))
        .map(|(r, _)| r)
        .collect();
    let removals = removals
        .into_iter()
        .filter(|(g, at)| last.get(&g.id) == Some(at))
        .map(|(g, _)| g)
        .collect();
    (changes, removals)
}
