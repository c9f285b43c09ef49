//! An administrator's view and edits of one synced record.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sync_protocol::Context;
use sync_protocol::wire::{ErrorBody, OpResult, RecordView};

/// A record as it stands, and the context an edit on top of it sends back.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordRead {
    /// The winning value of every field, the siblings of conflicted registers, and the
    /// version.
    pub record: RecordView,
    /// Send this back as `ctx` to supersede what was read.
    pub ctx: Context,
    /// For each conflicted register, its values side by side with who wrote each, from
    /// which device and when.
    #[serde(default)]
    pub conflicts: super::conflicts::ConflictValues,
}

/// A `PUT`, `PATCH` or `DELETE` of a record by an administrator.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordEdit {
    /// The `ctx` of the read the edit is based on; absent or `{}` for "nothing seen": then
    /// the edit becomes a sibling of every current value.
    #[serde(default)]
    pub ctx: Context,
    /// For put (every field) and patch (whole field groups); none for a delete.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub fields: Option<Map<String, Value>>,
}

/// What an accepted edit did: the push result of the console device's operation (`applied`
/// or `conflict`, with the record as it now stands), and the context for the next edit.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EditDone {
    /// The operation's result, as a push answers it.
    pub result: OpResult,
    /// The context that supersedes the record as it now stands.
    pub ctx: Option<Context>,
}

/// The `422 edit_rejected` answer: the error, and beside it the operation's result, whose
/// `error.code` is the push's reject code (`invalid_value`, `missing_field`, ...).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RejectedEdit {
    /// `{"code": "edit_rejected", "message": ...}`.
    #[serde(flatten)]
    pub error: ErrorBody,
    /// The result.
    pub result: OpResult,
}
