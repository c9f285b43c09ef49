//! Wire types. Field names are part of the protocol: never rename or reorder their meaning;
//! add optional fields only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::clock::Context;
use crate::hlc::Hlc;
use crate::ids::{DeviceId, Epoch, RecordId};
use crate::outcome::{Rejection, Status};
use crate::state::{EXISTS, RecordState};

/// What an operation does to its record.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    /// Write the whole record (every field group); creates it if absent.
    Put,
    /// Write the given fields (whole field groups) of an existing record.
    Patch,
    /// Write a tombstone. The record row and its history stay.
    Delete,
}

/// One queued device operation.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    /// The device's sequence number: contiguous from 1, never reused.
    pub seq: u64,
    /// An optional id for tracing; the idempotency key is `(device_id, seq)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = "uuid"))]
    pub op_id: Option<Uuid>,
    /// `households`, `visits` or `aid`.
    pub collection: String,
    /// The record, id made on the device.
    pub record_id: RecordId,
    /// Put, patch or delete.
    pub kind: OpKind,
    /// What the device had seen of the record when the edit was made.
    #[serde(default, deserialize_with = "crate::wire::null_as_default")]
    pub ctx: Context,
    /// The device's hybrid clock when the edit was made.
    pub hlc: Hlc,
    /// Field values for put and patch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub fields: Option<Map<String, Value>>,
}

/// Reads `null` as the key's default, as if the key were absent: a client whose serialiser
/// writes every optional key, `null` or not, means nothing else by it.
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}

/// The largest integer a JavaScript number holds exactly: the bound on sequence numbers and
/// clock milliseconds, so that any client can keep them as plain numbers.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A push: a batch of one device's operations, in sequence order.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// The pushing device; must be the device named by the access token.
    pub device_id: DeviceId,
    /// The operations. Each is parsed on its own so one malformed operation cannot block
    /// the rest.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Operation>))]
    pub ops: Vec<Value>,
    /// Which results carry the record's state.
    #[serde(default, skip_serializing_if = "ResultRecords::is_all")]
    pub result_records: ResultRecords,
}

/// Which results of a push carry the record's current state.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultRecords {
    /// Every result that names a record the server holds.
    #[default]
    All,
    /// Only those where the device cannot know the state from what it sent: conflicts,
    /// rejections, duplicates, stale contexts and clock skew. An `applied` result without
    /// those flags leaves `record` out; the pull after the push brings what others merged.
    Needed,
}

impl ResultRecords {
    fn is_all(&self) -> bool {
        *self == ResultRecords::All
    }
}

impl PushResponse {
    /// Leaves out the records `form` does not ask for.
    pub fn keep_records(mut self, form: ResultRecords) -> Self {
        if form == ResultRecords::Needed {
            for r in &mut self.results {
                if r.status == Status::Applied && !r.stale_context && !r.clock_skew {
                    r.record = None;
                }
            }
        }
        self
    }
}

/// An operation as received: its sequence number, its fingerprint, and the parsed operation
/// or why it could not be parsed.
#[derive(Clone, Debug)]
pub struct ReceivedOp {
    /// The sequence number.
    pub seq: u64,
    /// Hex SHA-256 of the operation's canonical JSON: tells a retry from a reused number.
    pub fingerprint: String,
    /// The operation, or the parse error.
    pub op: Result<Operation, String>,
}

impl ReceivedOp {
    /// Reads one element of `ops`. Fails only when it has no usable `seq`, since without one
    /// the operation cannot be placed in the device's sequence.
    pub fn parse(index: usize, raw: Value) -> Result<ReceivedOp, String> {
        let seq = raw
            .get("seq")
            .and_then(Value::as_u64)
            .filter(|s| (1..=MAX_SAFE_INTEGER).contains(s))
            .ok_or_else(|| {
                format!("ops[{index}] has no usable `seq` (a whole number from 1 to 2^53-1)")
            })?;
        match serde_json::from_value::<Operation>(raw.clone()) {
            // Fingerprint the operation as understood, so that a retry re-encoded by the
            // client (keys reordered, defaults spelled out) is still a retry.
            Ok(op) => Ok(ReceivedOp::from_operation(op)),
            Err(e) => Ok(ReceivedOp {
                seq,
                fingerprint: fingerprint(&raw),
                op: Err(e.to_string()),
            }),
        }
    }

    /// Wraps an already parsed operation (clients and tests).
    pub fn from_operation(op: Operation) -> ReceivedOp {
        let raw = serde_json::to_value(&op).unwrap_or(Value::Null);
        ReceivedOp {
            seq: op.seq,
            fingerprint: fingerprint(&raw),
            op: Ok(op),
        }
    }
}

/// Hex SHA-256 of `value` serialized with object keys sorted at every level, so that the
/// same operation re-serialized by a client in another key order has the same fingerprint.
pub fn fingerprint(value: &Value) -> String {
    fn canonical(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    canonical(&m[k], out);
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    canonical(x, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut s = String::new();
    canonical(value, &mut s);
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// One value of a conflicted register, for review.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiblingView {
    /// The dot (record version) of the write.
    pub dot: u64,
    /// The device that wrote it.
    pub device: DeviceId,
    /// That device's sequence number for the write.
    pub seq: u64,
    /// The device's stamp, as sent.
    pub hlc: Hlc,
    /// The device's clock was too far ahead.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub clock_skew: bool,
    /// The value: an object of the group's fields, or a bool for `_exists`.
    pub value: Value,
}

/// A record as devices and admins see it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordView {
    /// Record id.
    pub id: RecordId,
    /// Collection name.
    pub collection: String,
    /// The version to send as `ctx.vv.server` when editing on top of this state.
    pub version: u64,
    /// All live existence values are tombstones.
    pub deleted: bool,
    /// Some register holds concurrent, different values.
    pub conflicted: bool,
    /// The provisional value of every field (the winner of each register).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub fields: Map<String, Value>,
    /// For each conflicted register, every live value, provisional winner first.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub conflicts: BTreeMap<String, Vec<SiblingView>>,
}

impl From<&RecordState> for RecordView {
    fn from(s: &RecordState) -> Self {
        let conflicts = s
            .registers
            .iter()
            .filter(|(_, r)| r.is_conflicted())
            .map(|(name, r)| {
                let values = r
                    .siblings
                    .iter()
                    .map(|sib| SiblingView {
                        dot: sib.dot.server,
                        device: sib.dot.device,
                        seq: sib.dot.seq,
                        hlc: sib.hlc,
                        clock_skew: sib.clock_skew,
                        value: sib.value.clone(),
                    })
                    .collect();
                (name.clone(), values)
            })
            .collect();
        RecordView {
            id: s.id,
            collection: s.collection.name().to_owned(),
            version: s.version,
            deleted: s.deleted(),
            conflicted: s.conflicted(),
            fields: s.fields(),
            conflicts,
        }
    }
}

/// The result of one operation of a push.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpResult {
    /// The operation's sequence number.
    pub seq: u64,
    /// What happened.
    pub status: Status,
    /// For `duplicate`: the status the operation got when it was first processed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_status: Option<Status>,
    /// The record version this operation's write received (its dot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dot: Option<u64>,
    /// For `conflict`: the registers now holding concurrent values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
    /// The context was from another epoch or ahead of the record and counted as empty.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stale_context: bool,
    /// The device clock was too far ahead; the write is ordered by the server's clock.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub clock_skew: bool,
    /// Why, for `rejected`, `seq_reuse` and `gap`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<WireError>,
    /// The record's current state, when the operation named a record the server holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<RecordView>,
}

/// A code and a message.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireError {
    /// snake_case code.
    pub code: String,
    /// Human-readable text.
    pub message: String,
}

impl From<&Rejection> for WireError {
    fn from(r: &Rejection) -> Self {
        WireError {
            code: r.code.as_str().to_owned(),
            message: r.message.clone(),
        }
    }
}

/// The answer to a push.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    /// The database epoch; contexts and cursors are only meaningful within it.
    pub epoch: Epoch,
    /// Every operation up to this sequence number is processed: drop them from the outbox.
    pub acked_seq: u64,
    /// Set when an earlier operation is missing: resend starting from this number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resend_from: Option<u64>,
    /// One result per operation sent, in sequence order.
    pub results: Vec<OpResult>,
}

/// A record that left the device's scope: drop it locally (it was not deleted).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removal {
    /// Record id.
    pub id: RecordId,
    /// Collection name.
    pub collection: String,
}

/// One page of a pull.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    /// The database epoch.
    pub epoch: Epoch,
    /// Records changed since the cursor, each in its current state (deleted ones included).
    pub changes: Vec<RecordView>,
    /// Records that left the device's scope since the cursor.
    pub removals: Vec<Removal>,
    /// Opaque; send it back as `cursor` on the next pull.
    pub cursor: String,
    /// More changes are ready: pull again at once.
    pub has_more: bool,
}

/// The body of every request-level error: `{"error": {"code": ..., "message": ...}}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: WireError,
}

impl ErrorBody {
    /// An error body.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorBody {
            error: WireError {
                code: code.into(),
                message: message.into(),
            },
        }
    }
}

/// The key of a register holding the record's existence.
pub const EXISTS_REGISTER: &str = EXISTS;
