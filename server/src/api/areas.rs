//! Areas: the kecamatan and desa households are in.

use serde::{Deserialize, Serialize};

use super::stored;
use crate::db::areas::AreaRow;
use crate::error::ApiError;

/// An area's level, from the province down.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::Display,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum AreaLevel {
    /// The province (Jawa Timur).
    Provinsi,
    /// The regency (Kabupaten Banyuwangi).
    Kabupaten,
    /// A district.
    Kecamatan,
    /// A village.
    Desa,
    /// An urban village: a desa for every rule here.
    Kelurahan,
}

impl AreaLevel {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// An area.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AreaView {
    /// BPS code.
    pub code: String,
    /// The area it lies in; `null` for the province.
    pub parent_code: Option<String>,
    /// Level.
    pub level: AreaLevel,
    /// Name.
    pub name: String,
    /// `seed` (the list kept with the server) or `admin` (added since).
    pub source: String,
}

impl TryFrom<AreaRow> for AreaView {
    type Error = ApiError;
    fn try_from(a: AreaRow) -> Result<Self, ApiError> {
        Ok(AreaView {
            level: stored("area level", &a.level)?,
            code: a.code,
            parent_code: a.parent_code,
            name: a.name,
            source: a.source,
        })
    }
}

/// A new area.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewArea {
    /// BPS code: the parent's code and 3 more digits.
    #[serde(deserialize_with = "super::text::plain")]
    pub code: String,
    /// The kabupaten of a kecamatan, the kecamatan of a desa or kelurahan.
    #[serde(deserialize_with = "super::text::plain")]
    pub parent_code: String,
    /// `kecamatan`, `desa` or `kelurahan`.
    pub level: AreaLevel,
    /// Name.
    #[serde(deserialize_with = "super::text::plain")]
    pub name: String,
}

/// Filters of the area list.
#[derive(Clone, Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AreaQuery {
    /// Only this level.
    pub level: Option<AreaLevel>,
    /// Only the areas directly under this code.
    #[serde(deserialize_with = "super::text::plain_opt", default)]
    pub parent: Option<String>,
}
