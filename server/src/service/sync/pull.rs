//! Pull: one page of the changes in the caller's scope since their cursor.

use super::REGENCY_SCOPE;
use super::cursor::{cursor_not_issued, format_cursor, parse_cursor};
use crate::api::sync::PullPage;
use crate::auth::Caller;
use crate::config::Limits;
use crate::db::changes::{self, Position};
use crate::db::{self, AnyConnection, meta};
use crate::error::ApiError;
use crate::service::authorize::authorize;
use crate::service::page_limit;

/// One page of changes since `cursor`.
pub fn pull(
    conn: &mut AnyConnection,
    limits: &Limits,
    caller: &Caller,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<PullPage, ApiError> {
    let limit = page_limit(limit, limits.pull_page_size, limits.pull_page_size)?;
    db::read_tx(conn, |c| {
        authorize(c, caller)?;
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
        let scopes = vec![REGENCY_SCOPE.to_owned()];
        let page = changes::changed_since(c, &scopes, after, limit)?;
        Ok(PullPage {
            epoch,
            changes: page.records,
            removals: Vec::new(),
            cursor: format_cursor(epoch, page.next),
            has_more: page.has_more,
        })
    })
}
