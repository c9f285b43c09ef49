//! What became of an operation, and the machine-readable codes for refusals.

use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr};

/// Why an operation was refused. Serialized as a snake_case code that clients may match on.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    IntoStaticStr,
    Display,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RejectCode {
    /// The operation is not valid JSON of the operation shape.
    MalformedOperation,
    /// No such collection.
    UnknownCollection,
    /// The collection has no such field.
    UnknownField,
    /// A field's value has the wrong JSON type.
    WrongType,
    /// A field's value is out of range or badly formatted.
    InvalidValue,
    /// A required field is missing or null.
    MissingField,
    /// A patch touched part of a field group without sending the whole group.
    IncompleteGroup,
    /// A patch with no fields.
    EmptyPatch,
    /// A delete that carries fields.
    UnexpectedFields,
    /// A modification of an append-only record (send an amendment instead).
    Immutable,
    /// A patch or delete of a record the server does not have.
    RecordNotFound,
    /// The record id exists in another collection.
    CollectionMismatch,
    /// The context names another device: devices only sync through the server.
    ForeignClockEntry,
    /// The context claims the device had seen its own later operations.
    DeviceEntryAhead,
    /// A household's `desa_code` names no desa or kelurahan the server knows.
    UnknownDesa,
    /// The record's household is not in the writer's scope (not assigned to the officer,
    /// or no longer): nothing was written, and the server holds the operation for review.
    OutOfScope,
    /// A review written from an officer's device: visits are reviewed by supervisors, from
    /// the admin console; the officer answers a review with an amending visit.
    ReviewNotAllowed,
}

impl RejectCode {
    /// The wire code, as serde writes it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A refusal: a code for programs and a message for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// Machine-readable code.
    pub code: RejectCode,
    /// Human-readable explanation.
    pub message: String,
}

impl Rejection {
    /// A rejection with `code` and `message`.
    pub fn new(code: RejectCode, message: impl Into<String>) -> Self {
        Rejection {
            code,
            message: message.into(),
        }
    }
}

/// What applying one operation to a record did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Written; every register it wrote holds one value (or several equal ones).
    Applied,
    /// Written, and these registers now hold concurrent, different values. All are kept.
    Conflict {
        /// The registers (field names or group names, `_exists` for delete vs update).
        fields: Vec<String>,
    },
    /// Not written.
    Rejected(Rejection),
}

/// The status of one operation in a push response.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    IntoStaticStr,
    EnumString,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Status {
    /// Written without conflict.
    Applied,
    /// Written; concurrent values kept as siblings for review.
    Conflict,
    /// Refused; the sequence number is used up and the operation will not be retried.
    Rejected,
    /// Already processed; `original_status` tells how.
    Duplicate,
    /// The sequence number was already used for different content (a reinstalled or cloned
    /// device). Nothing was written: the device must register a new installation id.
    SeqReuse,
    /// Not processed: an earlier sequence number is missing; resend from `resend_from`.
    Gap,
}

impl Status {
    /// The wire name, as serde writes it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Status> {
        s.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use strum::IntoEnumIterator;

    use super::*;

    /// The codes clients match on, as docs/sync-protocol.md (sections 5.3 and 5.4) lists
    /// them: the derived names must stay these, and equal to what serde sends.
    #[test]
    fn wire_names_are_the_documented_ones_for_strum_and_serde_alike() {
        let codes: Vec<&str> = RejectCode::iter().map(RejectCode::as_str).collect();
        assert_eq!(
            codes,
            [
                "malformed_operation",
                "unknown_collection",
                "unknown_field",
                "wrong_type",
                "invalid_value",
                "missing_field",
                "incomplete_group",
                "empty_patch",
                "unexpected_fields",
                "immutable",
                "record_not_found",
                "collection_mismatch",
                "foreign_clock_entry",
                "device_entry_ahead",
                "unknown_desa",
                "out_of_scope",
                "review_not_allowed",
            ]
        );
        for code in RejectCode::iter() {
            assert_eq!(serde_json::to_value(code).ok(), Some(json!(code.as_str())));
            assert_eq!(code.to_string(), code.as_str());
        }

        let statuses: Vec<&str> = Status::iter().map(Status::as_str).collect();
        assert_eq!(
            statuses,
            [
                "applied",
                "conflict",
                "rejected",
                "duplicate",
                "seq_reuse",
                "gap"
            ]
        );
        for status in Status::iter() {
            assert_eq!(
                serde_json::to_value(status).ok(),
                Some(json!(status.as_str()))
            );
            assert_eq!(Status::parse(status.as_str()), Some(status));
            assert_eq!(
                serde_json::from_value::<Status>(Value::from(status.as_str())).ok(),
                Some(status)
            );
        }
        for not_a_status in ["", "Applied", "seqReuse", "seq-reuse", "applied "] {
            assert_eq!(Status::parse(not_a_status), None, "{not_a_status:?}");
        }
    }
}
