//! Pull: one page of the changes in the caller's scope since their cursor.

use super::REGENCY_SCOPE;
use super::cursor::{format_cursor, parse_cursor};
use crate::api::sync::PullPage;
use crate::auth::Caller;
use crate::config::Limits;
use crate::db::changes::{self, Position};
use crate::db::{self, AnyConnection, meta};
use crate::error::ApiError;
use crate::service::authorize::authorize;

/// One page of changes since `cursor`.
pub fn pull(
    conn: &mut AnyConnection,
    limits: &Limits,
    caller: &Caller,
    cursor: Option<&str>,
    limit: Option<u32>,
) -> Result<PullPage, ApiError> {
    let limit = i64::from(
        limit
            .unwrap_or(limits.pull_page_size)
            .clamp(1, limits.pull_page_size),
    );
    db::read_tx(conn, |c| {
        authorize(c, caller)?;
        let epoch = meta::epoch(c)?;
        let after = match cursor {
            None | Some("") => Position::default(),
            Some(s) => parse_cursor(s, epoch)?,
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
