//! Visit review: a supervisor's decision on one visit (`received`, `approved`, `has_issues`,
//! `rejected`, with a comment). Visits are append-only, so the decision is a record of its
//! own in `reviews`, whose id is derived from the visit's: a visit has exactly one review
//! record, and two supervisors reviewing it at once write the same record, which makes
//! their decisions a conflict like any other instead of two records that both claim to be
//! the review.

use serde_json::{Map, Value};
use uuid::{Uuid, uuid};

use crate::ids::RecordId;
use crate::outcome::{RejectCode, Rejection};
use crate::scope::{HOUSEHOLD_FIELD, household_of};
use crate::state::RecordState;

/// The namespace of review ids (docs/sync-protocol.md, the `reviews` collection). Fixed
/// forever: a changed namespace would give every visit a second review record.
pub const REVIEW_NAMESPACE: Uuid = uuid!("092a85be-fde5-4998-9655-e4e1bf50813c");

/// The field of a review that names its visit.
pub const VISIT_FIELD: &str = "visit_id";

/// The state of a visit nobody has reviewed yet, and the one a supervisor may reset to.
pub const RECEIVED: &str = "received";

/// A review's state: the values of the `state` field (`crate::schema::REVIEW_STATES`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ReviewState {
    /// Not reviewed yet, or a decision taken back.
    Received,
    /// Accepted as it is.
    Approved,
    /// The officer should answer with an amending visit.
    HasIssues,
    /// Not accepted.
    Rejected,
}

impl ReviewState {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The id of the review record of `visit`: UUID v5 of the visit id's lower-case hyphenated
/// text under [`REVIEW_NAMESPACE`].
pub fn review_id(visit: RecordId) -> RecordId {
    RecordId(Uuid::new_v5(
        &REVIEW_NAMESPACE,
        visit.to_string().as_bytes(),
    ))
}

/// Checks a put or patch of review `id` (fields already checked against the schema): its
/// `visit_id` must be the visit the id is derived from, and its household stays the one it
/// was created with (the household is the record's scope: moving it would hand the review
/// to devices the visit never reached).
pub fn check_write(
    id: RecordId,
    existing: Option<&RecordState>,
    fields: &Map<String, Value>,
) -> Result<(), Rejection> {
    if let Some(visit) = fields.get(VISIT_FIELD).and_then(Value::as_str) {
        let derived = visit.parse::<RecordId>().ok().map(review_id);
        if derived != Some(id) {
            return Err(Rejection::new(
                RejectCode::InvalidValue,
                format!(
                    "`{VISIT_FIELD}` must name the visit this review belongs to: a review's id is \
                     UUID v5 of the visit id under namespace {REVIEW_NAMESPACE}, and {id} is not \
                     that of {visit}"
                ),
            ));
        }
    }
    let stored = existing.filter(|s| s.version > 0).and_then(household_of);
    if let (Some(stored), Some(given)) =
        (stored, fields.get(HOUSEHOLD_FIELD).and_then(Value::as_str))
        && !given.eq_ignore_ascii_case(&stored)
    {
        return Err(Rejection::new(
            RejectCode::InvalidValue,
            format!(
                "`{HOUSEHOLD_FIELD}` of a review is its visit's household ({stored}) and cannot change"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator;

    use super::*;

    #[test]
    fn the_states_are_the_schema_s() {
        let names: Vec<&str> = ReviewState::iter().map(ReviewState::as_str).collect();
        assert_eq!(names, crate::schema::REVIEW_STATES);
        assert_eq!(ReviewState::Received.as_str(), RECEIVED);
    }

    #[test]
    fn a_review_id_is_uuid_v5_of_the_visit_id() {
        let visit: RecordId = "01936a8e-5c2e-7b3d-9f00-00000000000a"
            .parse()
            .unwrap_or_else(|_| panic!("a uuid"));
        let id = review_id(visit);
        assert_eq!(id.0.get_version_num(), 5);
        assert_eq!(id, review_id(visit), "derived, not random");
        assert_ne!(id, visit);
        // The documented value (docs/sync-protocol.md), so that other clients can check
        // their derivation against it.
        assert_eq!(id.to_string(), "1ef6e3a6-01e3-54b0-9e00-6347b500dac2");
    }
}
