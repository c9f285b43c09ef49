//! `household_identity`: the sealed KK and NIK numbers of households and their blind
//! indexes. This layer stores and finds rows; sealing and opening are `crate::pii`'s.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::upsert::excluded;

use super::schema::household_identity as hi;
use super::{AnyConnection, DbResult, per_backend};

/// One household's row.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Insertable)]
#[diesel(table_name = hi)]
pub struct IdentityRow {
    /// The household (a record id, lower case).
    pub household_id: String,
    /// The sealed KK number.
    pub kk_cipher: Option<String>,
    /// The KK number's blind index.
    pub kk_index: Option<String>,
    /// The sealed NIK number.
    pub nik_cipher: Option<String>,
    /// The NIK number's blind index.
    pub nik_index: Option<String>,
    /// The fingerprint of the key both were made with.
    pub key_id: String,
    /// Last change, ms since the Unix epoch.
    pub updated_at: i64,
}

/// Which blind index to search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexColumn {
    /// `kk_index`.
    Kk,
    /// `nik_index`.
    Nik,
}

/// Serialises writers of identities for the rest of the caller's write transaction on
/// PostgreSQL (SQLite's write transaction already excludes other writers): two
/// administrators giving one KK number to two households at once cannot both pass the
/// duplicate check. Readers are not blocked.
pub fn lock_for_write(conn: &mut AnyConnection) -> DbResult<()> {
    if let AnyConnection::Postgresql(c) = conn {
        c.batch_execute("LOCK TABLE household_identity IN SHARE ROW EXCLUSIVE MODE")?;
    }
    Ok(())
}

/// The row of `household`, if any.
pub fn get(conn: &mut AnyConnection, household: &str) -> DbResult<Option<IdentityRow>> {
    Ok(hi::table.find(household).first(conn).optional()?)
}

/// The rows of `households` that have one, a thousand ids a statement.
pub fn get_many(conn: &mut AnyConnection, households: &[String]) -> DbResult<Vec<IdentityRow>> {
    let mut out = Vec::new();
    for chunk in households.chunks(super::records::CHUNK) {
        out.extend(
            hi::table
                .filter(hi::household_id.eq_any(chunk))
                .load::<IdentityRow>(conn)?,
        );
    }
    Ok(out)
}

/// Inserts `row`, or replaces the household's row with it.
pub fn upsert(conn: &mut AnyConnection, row: &IdentityRow) -> DbResult<()> {
    per_backend!(conn, c => diesel::insert_into(hi::table)
        .values(row)
        .on_conflict(hi::household_id)
        .do_update()
        .set((
            hi::kk_cipher.eq(excluded(hi::kk_cipher)),
            hi::kk_index.eq(excluded(hi::kk_index)),
            hi::nik_cipher.eq(excluded(hi::nik_cipher)),
            hi::nik_index.eq(excluded(hi::nik_index)),
            hi::key_id.eq(excluded(hi::key_id)),
            hi::updated_at.eq(excluded(hi::updated_at)),
        ))
        .execute(c))?;
    Ok(())
}

/// Deletes the household's row; whether there was one.
pub fn delete(conn: &mut AnyConnection, household: &str) -> DbResult<bool> {
    Ok(diesel::delete(hi::table.find(household)).execute(conn)? > 0)
}

/// The households whose `column` is one of `indexes`, in id order.
pub fn households_by_index(
    conn: &mut AnyConnection,
    column: IndexColumn,
    indexes: &[String],
) -> DbResult<Vec<String>> {
    let q = hi::table
        .select(hi::household_id)
        .order(hi::household_id)
        .into_boxed();
    let q = match column {
        IndexColumn::Kk => q.filter(hi::kk_index.eq_any(indexes)),
        IndexColumn::Nik => q.filter(hi::nik_index.eq_any(indexes)),
    };
    Ok(q.load(conn)?)
}

/// The key ids of the stored rows, each once, with how many rows each has.
pub fn key_ids_in_use(conn: &mut AnyConnection) -> DbResult<Vec<(String, i64)>> {
    Ok(hi::table
        .group_by(hi::key_id)
        .select((hi::key_id, diesel::dsl::count_star()))
        .order(hi::key_id)
        .load(conn)?)
}

/// Every row not under `key_id`, for a rotation.
pub fn not_under_key(conn: &mut AnyConnection, key_id: &str) -> DbResult<Vec<IdentityRow>> {
    Ok(hi::table
        .filter(hi::key_id.ne(key_id))
        .order(hi::household_id)
        .load(conn)?)
}

/// `(index, household)` for every row whose `column` is one of `indexes`: one query per
/// thousand, for an import's whole file.
pub fn holders_of(
    conn: &mut AnyConnection,
    column: IndexColumn,
    indexes: &[String],
) -> DbResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    for chunk in indexes.chunks(super::records::CHUNK) {
        let found: Vec<(Option<String>, String)> = match column {
            IndexColumn::Kk => hi::table
                .filter(hi::kk_index.eq_any(chunk))
                .select((hi::kk_index, hi::household_id))
                .load(conn)?,
            IndexColumn::Nik => hi::table
                .filter(hi::nik_index.eq_any(chunk))
                .select((hi::nik_index, hi::household_id))
                .load(conn)?,
        };
        out.extend(found.into_iter().filter_map(|(i, h)| Some((i?, h))));
    }
    Ok(out)
}

/// Inserts rows of households that have none, a multi-row insert per thousand.
pub fn insert_many(conn: &mut AnyConnection, rows: &[IdentityRow]) -> DbResult<()> {
    for chunk in rows.chunks(super::records::CHUNK) {
        per_backend!(conn, c => diesel::insert_into(hi::table).values(chunk).execute(c))?;
    }
    Ok(())
}
