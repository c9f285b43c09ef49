//! A supervisor reads a visit's review: its decision, comment, who and when, and the `ctx`
//! a re-review sends back.

use sync_protocol::review::{ReviewState, review_id};
use sync_protocol::wire::RecordView;
use sync_protocol::{Context, RecordId};

use crate::api::reviews::ReviewView;
use crate::api::stored;
use crate::auth::Caller;
use crate::db::{self, AnyConnection, meta, records, reviews};
use crate::error::ApiError;
use crate::service::authorize;

use super::read_record::load_in_scope;

/// The review of visit `visit`, for an administrator who may see the visit (an agency
/// admin: their agency's households only, as [`super::read_record`]).
pub fn read_visit_review(
    conn: &mut AnyConnection,
    caller: &Caller,
    visit: RecordId,
) -> Result<ReviewView, ApiError> {
    let p = authorize::admin(conn, caller)?;
    db::read_tx(conn, |c| {
        load_in_scope(c, &p, "visits", visit)?;
        review_view(c, visit)
    })
}

/// The review of `visit` as it stands, from its record and its visit's row.
pub(super) fn review_view(c: &mut AnyConnection, visit: RecordId) -> Result<ReviewView, ApiError> {
    let id = review_id(visit);
    let state = records::load_many(c, &[id])?
        .remove(&id)
        .filter(|s| s.version > 0);
    let (columns, username) = reviews::of_visit(c, &visit.to_string())?.unzip();
    let columns = columns.unwrap_or_default();
    let decision = match columns.state.as_deref() {
        None => ReviewState::Received,
        Some(s) => stored("review state", s)?,
    };
    Ok(ReviewView {
        visit_id: visit,
        review_id: id,
        state: decision,
        comment: columns.comment,
        reviewed_by: columns
            .reviewed_by
            .map(|u| stored("user id", &u))
            .transpose()?,
        reviewed_by_username: username.flatten(),
        reviewed_at: columns.reviewed_at,
        conflicted: state.as_ref().is_some_and(|s| s.conflicted()),
        ctx: match &state {
            Some(s) => Context::seen(meta::epoch(c)?, s.version),
            None => Context::default(),
        },
        record: state.as_ref().map(RecordView::from),
    })
}
