//! What became of an operation, and the machine-readable codes for refusals.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why an operation was refused. Serialized as a snake_case code that clients may match on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
}

impl RejectCode {
    /// The wire code.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectCode::MalformedOperation => "malformed_operation",
            RejectCode::UnknownCollection => "unknown_collection",
            RejectCode::UnknownField => "unknown_field",
            RejectCode::WrongType => "wrong_type",
            RejectCode::InvalidValue => "invalid_value",
            RejectCode::MissingField => "missing_field",
            RejectCode::IncompleteGroup => "incomplete_group",
            RejectCode::EmptyPatch => "empty_patch",
            RejectCode::UnexpectedFields => "unexpected_fields",
            RejectCode::Immutable => "immutable",
            RejectCode::RecordNotFound => "record_not_found",
            RejectCode::CollectionMismatch => "collection_mismatch",
            RejectCode::ForeignClockEntry => "foreign_clock_entry",
            RejectCode::DeviceEntryAhead => "device_entry_ahead",
        }
    }
}

impl fmt::Display for RejectCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Applied => "applied",
            Status::Conflict => "conflict",
            Status::Rejected => "rejected",
            Status::Duplicate => "duplicate",
            Status::SeqReuse => "seq_reuse",
            Status::Gap => "gap",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Status> {
        [
            Status::Applied,
            Status::Conflict,
            Status::Rejected,
            Status::Duplicate,
            Status::SeqReuse,
            Status::Gap,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}
