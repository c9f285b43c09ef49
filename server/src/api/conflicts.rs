//! A record's history of writes, its conflicting values side by side, the conflict inbox
//! and a resolution.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sync_protocol::{Context, DeviceId, RecordId};

/// A page of a keyset-paginated list: send `next_cursor` back as `cursor` for the next
/// page; `null` on the last.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// This page's items.
    pub items: Vec<T>,
    /// The cursor of the next page, `null` when this is the last.
    pub next_cursor: Option<String>,
}

/// One value of a conflicted field (register), with the write that made it.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SiblingValue {
    /// Its position as listed: what a resolution's `pick` names.
    pub index: usize,
    /// The register's value: an object of the group's fields (`{"head_name": "Sutrisno"}`,
    /// or every field of `address`), or a bool for `_exists`.
    #[schema(value_type = Object)]
    pub value: Value,
    /// The dot the write was issued (the record's version after it).
    pub dot: u64,
    /// The writing device.
    pub device_id: DeviceId,
    /// `field` (a phone) or `console` (an administrator's edit); `null` if unknown.
    pub device_kind: Option<String>,
    /// The device's sequence number of the write.
    pub seq: u64,
    /// Who wrote it: the device's owner.
    pub user_id: Option<String>,
    /// Their sign-in name.
    pub username: Option<String>,
    /// When: the time the server applied the write, RFC 3339; for a write made before the
    /// server kept its writes, the device's stamp.
    pub written_at: Option<String>,
    /// `server` (applied at) or `device` (the device's stamp).
    pub written_at_source: String,
}

/// Every conflicted register's values, by register name, side by side.
pub type ConflictValues = BTreeMap<String, Vec<SiblingValue>>;

/// Query of a record's history.
#[derive(Clone, Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// At most this many (default 50, at most 500).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[serde(deserialize_with = "super::text::plain_opt", default)]
    pub cursor: Option<String>,
}

/// One write of a record, as its history lists it.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WriteView {
    /// The dot the write was issued: the record's version after it.
    pub version: u64,
    /// When the server applied it, RFC 3339.
    pub at: String,
    /// The writing device.
    pub device_id: String,
    /// Its sequence number of the operation.
    pub seq: u64,
    /// Who: the device's owner.
    pub user_id: String,
    /// Their sign-in name.
    pub username: Option<String>,
    /// `put`, `patch` or `delete`.
    pub kind: String,
    /// `applied`, or `conflict` when it was kept beside a concurrent value.
    pub status: String,
    /// The context it carried: what the writer had seen.
    #[schema(value_type = Object)]
    pub ctx: Value,
    /// The fields it wrote; `null` for a delete.
    #[schema(value_type = Option<Object>)]
    pub fields: Option<Value>,
    /// The device's stamp.
    #[schema(value_type = Object)]
    pub hlc: Value,
}

/// Query of the conflict inbox.
#[derive(Clone, Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConflictQuery {
    /// Only this collection's records.
    #[serde(deserialize_with = "super::text::plain_opt", default)]
    pub collection: Option<String>,
    /// Only the records of households in this kecamatan (its code).
    #[serde(deserialize_with = "super::text::plain_opt", default)]
    pub kecamatan: Option<String>,
    /// Only the records of households in this desa (its code).
    #[serde(deserialize_with = "super::text::plain_opt", default)]
    pub desa: Option<String>,
    /// Only the records of households assigned to this agency's officers.
    #[serde(deserialize_with = "super::text::plain_opt", default)]
    pub agency: Option<String>,
    /// At most this many (default 50, at most 500).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[serde(deserialize_with = "super::text::plain_opt", default)]
    pub cursor: Option<String>,
}

/// One open conflict.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConflictItem {
    /// `households`, `visits` or `aid`.
    pub collection: String,
    /// The record.
    pub id: RecordId,
    /// Its household.
    pub household_id: Option<String>,
    /// The record's version.
    pub version: u64,
    /// The provisional value of every field.
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
    /// Every conflicted register's values side by side.
    pub conflicts: ConflictValues,
    /// Send this back as the resolution's `ctx`.
    pub ctx: Context,
}

/// `POST /v1/admin/conflicts/{collection}/{id}/resolve`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resolution {
    /// The `ctx` of the read the resolution is based on.
    pub ctx: Context,
    /// Per conflicted register, the `index` of the value to keep.
    #[serde(default)]
    pub pick: BTreeMap<String, usize>,
    /// Per conflicted register, a merged value: an object of the register's fields.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub fields: BTreeMap<String, Value>,
}
