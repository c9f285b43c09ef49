//! Adding an area: a kecamatan or desa the seed list lacks, such as one split off later.

use crate::api::areas::{AreaLevel, AreaView, NewArea};
use crate::auth::Caller;
use crate::db::areas::{self, AreaRow, Inserted};
use crate::db::{AnyConnection, now_ms};
use crate::error::{ApiError, ErrorCode};
use crate::service::audit;
use crate::service::authorize;
use crate::service::names::visible_name;

/// Adds an area (regency admins).
pub fn add_area(
    conn: &mut AnyConnection,
    caller: &Caller,
    req: NewArea,
) -> Result<AreaView, ApiError> {
    let p = authorize::regency_admin(conn, caller)?;
    let area = insert_area(conn, req)?;
    audit::append(
        conn,
        p.actor().action(
            "area_added",
            Some(&area.code),
            serde_json::json!({"level": area.level, "parent_code": area.parent_code, "name": area.name}),
        ),
    );
    Ok(area)
}

/// BPS codes grow by level: 2 digits for the province, 4 the regency, 7 a kecamatan, 10 a
/// desa, each starting with its parent's.
fn code_len(level: AreaLevel) -> usize {
    match level {
        AreaLevel::Provinsi => 2,
        AreaLevel::Kabupaten => 4,
        AreaLevel::Kecamatan => 7,
        AreaLevel::Desa | AreaLevel::Kelurahan => 10,
    }
}

/// Checks and stores a new area; the caller decides who may.
pub fn insert_area(conn: &mut AnyConnection, req: NewArea) -> Result<AreaView, ApiError> {
    let invalid = |why: String| ApiError::new(ErrorCode::InvalidArea, why);
    // The province and the regency are the seed's: this server serves one regency.
    let parent_level = match req.level {
        AreaLevel::Kecamatan => AreaLevel::Kabupaten,
        AreaLevel::Desa | AreaLevel::Kelurahan => AreaLevel::Kecamatan,
        AreaLevel::Provinsi | AreaLevel::Kabupaten => {
            return Err(invalid(format!(
                "a {} cannot be added: only a kecamatan, desa or kelurahan",
                req.level
            )));
        }
    };
    let len = code_len(req.level);
    if req.code.len() != len || !req.code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(format!(
            "`code` of a {} is {len} digits, not `{}`",
            req.level, req.code
        )));
    }
    if req.parent_code.len() != code_len(parent_level) || !req.code.starts_with(&req.parent_code) {
        return Err(invalid(format!(
            "`code` {} must start with its {parent_level}'s code, the {} digits of `parent_code` (`{}`)",
            req.code,
            code_len(parent_level),
            req.parent_code
        )));
    }
    let name =
        visible_name(&req.name, 200).map_err(|why| invalid(format!("the area's name {why}")))?;
    let row = AreaRow {
        code: req.code,
        parent_code: Some(req.parent_code),
        level: req.level.as_str().to_owned(),
        name: name.to_owned(),
        source: "admin".into(),
        created_at: now_ms(),
    };
    match areas::insert(conn, &row, parent_level.as_str())? {
        Inserted::Added => {}
        Inserted::CodeTaken => {
            return Err(ApiError::new(
                ErrorCode::AreaExists,
                format!("an area with code {} exists", row.code),
            ));
        }
        Inserted::ParentIs(None) => {
            return Err(ApiError::new(
                ErrorCode::UnknownArea,
                format!(
                    "`parent_code` {} names no area",
                    row.parent_code.unwrap_or_default()
                ),
            ));
        }
        Inserted::ParentIs(Some(level)) => {
            return Err(invalid(format!(
                "`parent_code` {} is a {level}; a {} lies in a {parent_level}",
                row.parent_code.unwrap_or_default(),
                req.level
            )));
        }
    }
    Ok(AreaView {
        code: row.code,
        parent_code: row.parent_code,
        level: req.level,
        name: row.name,
        source: row.source,
    })
}
