//! Areas: the regency's kecamatan and desa, seeded by a migration and extended by
//! administrators.

use std::collections::HashSet;

use diesel::prelude::*;

use super::schema::areas;
use super::{AnyConnection, DbResult, per_backend, records, write_tx};

/// The levels a household's `desa_code` may name.
pub const DESA_LEVELS: [&str; 2] = ["desa", "kelurahan"];

/// An area row.
#[derive(Clone, Debug, Queryable)]
pub struct AreaRow {
    /// BPS code: 2 digits for the province, 4 the regency, 7 a kecamatan, 10 a desa.
    pub code: String,
    /// The area it lies in; `None` for the province.
    pub parent_code: Option<String>,
    /// `provinsi`, `kabupaten`, `kecamatan`, `desa` or `kelurahan`.
    pub level: String,
    /// Name.
    pub name: String,
    /// `seed` (the migration) or `admin`.
    pub source: String,
    /// Creation time, ms.
    pub created_at: i64,
}

/// Areas by code, all or only those of one level or under one parent.
pub fn list(
    conn: &mut AnyConnection,
    level: Option<&str>,
    parent: Option<&str>,
) -> DbResult<Vec<AreaRow>> {
    let mut q = areas::table
        .select(areas::all_columns)
        .order(areas::code)
        .into_boxed();
    if let Some(level) = level {
        q = q.filter(areas::level.eq(level.to_owned()));
    }
    if let Some(parent) = parent {
        q = q.filter(areas::parent_code.eq(parent.to_owned()));
    }
    Ok(q.load(conn)?)
}

/// The level of the area `code`, if there is one.
pub fn level_of(conn: &mut AnyConnection, code: &str) -> DbResult<Option<String>> {
    Ok(areas::table
        .find(code)
        .select(areas::level)
        .first(conn)
        .optional()?)
}

/// What became of an [`insert`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inserted {
    /// Stored.
    Added,
    /// Another area has the code.
    CodeTaken,
    /// The parent is not of the level asked for: its level, `None` when there is no such area.
    ParentIs(Option<String>),
}

/// Inserts an area, once its parent is of `parent_level`. Areas are never deleted, so a
/// parent seen here is still there when the row commits.
pub fn insert(conn: &mut AnyConnection, row: &AreaRow, parent_level: &str) -> DbResult<Inserted> {
    write_tx(conn, |conn| {
        let parent = match row.parent_code.as_deref() {
            Some(p) => level_of(conn, p)?,
            None => None,
        };
        if parent.as_deref() != Some(parent_level) {
            return Ok(Inserted::ParentIs(parent));
        }
        let values = (
            areas::code.eq(&row.code),
            areas::parent_code.eq(&row.parent_code),
            areas::level.eq(&row.level),
            areas::name.eq(&row.name),
            areas::source.eq(&row.source),
            areas::created_at.eq(row.created_at),
        );
        let n = per_backend!(conn, c => diesel::insert_into(areas::table)
            .values(values)
            .on_conflict_do_nothing()
            .execute(c))?;
        Ok(if n == 1 {
            Inserted::Added
        } else {
            Inserted::CodeTaken
        })
    })
}

/// Of `codes`, those that name a desa or kelurahan: one query for a batch's codes (one per
/// thousand distinct codes, far more than the regency has).
pub fn known_desa(conn: &mut AnyConnection, codes: &[&str]) -> DbResult<HashSet<String>> {
    let mut known = HashSet::new();
    for chunk in codes.chunks(records::CHUNK) {
        let found: Vec<String> = areas::table
            .filter(areas::code.eq_any(chunk))
            .filter(areas::level.eq_any(DESA_LEVELS))
            .select(areas::code)
            .load(conn)?;
        known.extend(found);
    }
    Ok(known)
}
