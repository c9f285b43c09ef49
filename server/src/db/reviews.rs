//! A visit's review as the typed tables keep it: the `review_*` columns of its `q_visits`
//! row (written by [`super::typed_tables::save`] from the visit's review record).

use diesel::prelude::*;

use super::schema::{q_visits, users};
use super::{AnyConnection, DbResult};

/// What `q_visits` holds of a visit's review.
#[derive(Clone, Debug, Default, Queryable)]
pub struct StoredReview {
    /// `approved`, `has_issues`, `rejected`; `None` for `received`.
    pub state: Option<String>,
    /// The comment.
    pub comment: Option<String>,
    /// When the decision was written, UTC.
    pub reviewed_at: Option<String>,
    /// Who wrote it (a user id).
    pub reviewed_by: Option<String>,
}

/// The review columns of visit `id`, `None` when it has no row; with the reviewer's name.
pub fn of_visit(
    conn: &mut AnyConnection,
    id: &str,
) -> DbResult<Option<(StoredReview, Option<String>)>> {
    let Some(review) = q_visits::table
        .find(id)
        .select((
            q_visits::review_state,
            q_visits::review_comment,
            q_visits::reviewed_at,
            q_visits::reviewed_by,
        ))
        .first::<StoredReview>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let name = match &review.reviewed_by {
        Some(user) => users::table
            .find(user)
            .select(users::username)
            .first::<String>(conn)
            .optional()?,
        None => None,
    };
    Ok(Some((review, name)))
}
