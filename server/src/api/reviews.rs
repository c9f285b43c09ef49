//! A supervisor's review of a visit: the request and the view.

use serde::{Deserialize, Serialize};
use sync_protocol::review::ReviewState;
use sync_protocol::wire::RecordView;
use sync_protocol::{Context, RecordId, Status};

use crate::ids::UserId;

/// `POST /v1/admin/visits/{id}/review`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// The decision; `received` takes a decision back.
    pub state: ReviewState,
    /// Why, for the officer; absent or `null` for none.
    #[serde(default)]
    pub comment: Option<String>,
    /// The `ctx` of the review as read (`GET .../review`); absent for a first review. A
    /// re-review without it stands beside the current decision as a conflict.
    #[serde(default)]
    pub ctx: Context,
}

/// A visit's review as it stands.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReviewView {
    /// The visit.
    pub visit_id: RecordId,
    /// Its review record (in the `reviews` collection), whether written yet or not.
    pub review_id: RecordId,
    /// `received` until a supervisor decides.
    pub state: ReviewState,
    /// The supervisor's comment.
    pub comment: Option<String>,
    /// Who wrote the decision.
    pub reviewed_by: Option<UserId>,
    /// Their sign-in name.
    pub reviewed_by_username: Option<String>,
    /// When, UTC.
    pub reviewed_at: Option<String>,
    /// Two decisions were written concurrently: `record` shows both; re-review with `ctx`.
    pub conflicted: bool,
    /// The review record, as a device pulls it (siblings included); `null` before the first
    /// review.
    pub record: Option<RecordView>,
    /// Send this back as `ctx` to supersede the decision read.
    pub ctx: Context,
}

/// What a review did: the console operation's status, and the review as it now stands.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReviewDone {
    /// `applied`, or `conflict` when another decision was written that the `ctx` did not
    /// cover: both are kept.
    pub status: Status,
    /// The review.
    #[serde(flatten)]
    pub review: ReviewView,
}
