//! The KK and NIK numbers of a household, as administrators send and (a regency admin,
//! with a reason) read them. Every type holding a number hides it from `Debug`.

use serde::de::{Deserializer, Error};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sync_protocol::RecordId;

/// A number as a client sent it, not yet checked. Only a JSON string is taken, and a value
/// of another type is refused without being repeated: serde's own message would quote it
/// (`invalid type: integer 3510...`).
#[derive(Clone, PartialEq, Eq)]
pub struct NumberText(pub String);

impl std::fmt::Debug for NumberText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NumberText(hidden)")
    }
}

const NOT_A_STRING: &str = "a KK or NIK number is sent as a string of 16 digits";

fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NumberText>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(NumberText(s))),
        _ => Err(D::Error::custom(NOT_A_STRING)),
    }
}

/// Absent: `None`; `null`: `Some(None)`; a string: `Some(Some(..))`.
fn change<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<NumberText>>, D::Error> {
    number(d).map(Some)
}

/// `PUT /v1/admin/households/{id}/identity`: a number given replaces the stored one,
/// `null` removes it, an absent one stays as it is.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityUpdate {
    /// The KK number.
    #[serde(default, deserialize_with = "change")]
    #[schema(value_type = Option<String>)]
    pub kk: Option<Option<NumberText>>,
    /// The NIK number of the head of the household.
    #[serde(default, deserialize_with = "change")]
    #[schema(value_type = Option<String>)]
    pub nik: Option<Option<NumberText>>,
}

/// `POST /v1/admin/households/lookup`: exactly one of the two.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityLookup {
    /// A KK number.
    #[serde(default, deserialize_with = "number")]
    #[schema(value_type = Option<String>)]
    pub kk: Option<NumberText>,
    /// A NIK number.
    #[serde(default, deserialize_with = "number")]
    #[schema(value_type = Option<String>)]
    pub nik: Option<NumberText>,
}

/// What a household has, without the numbers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IdentityStatus {
    /// The household.
    pub household_id: RecordId,
    /// Whether a KK number is stored.
    pub has_kk: bool,
    /// Whether a NIK number is stored.
    pub has_nik: bool,
    /// Last change, ms since the Unix epoch; `None` when nothing is stored.
    pub updated_at: Option<i64>,
}

/// The households a number belongs to, within the caller's scope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HouseholdMatches {
    /// Their ids.
    pub household_ids: Vec<RecordId>,
}

/// `GET /v1/admin/households/{id}/identity?reason=`.
#[derive(Clone, Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct IdentityReadQuery {
    /// Why the numbers are read: 1 to 200 characters, kept in the audit log.
    #[serde(deserialize_with = "super::text::plain")]
    pub reason: String,
}

/// The numbers themselves, for a regency admin who gave a reason.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IdentityView {
    /// The household.
    pub household_id: RecordId,
    /// The KK number, 16 digits.
    pub kk: Option<String>,
    /// The NIK number of the head of the household, 16 digits.
    pub nik: Option<String>,
    /// Last change, ms since the Unix epoch.
    pub updated_at: Option<i64>,
}

impl std::fmt::Debug for IdentityView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityView")
            .field("household_id", &self.household_id)
            .field("kk", &self.kk.as_ref().map(|_| "(hidden)"))
            .field("nik", &self.nik.as_ref().map(|_| "(hidden)"))
            .finish()
    }
}
