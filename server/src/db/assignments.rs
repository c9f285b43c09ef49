//! Assignments: which officer fosters which household, from when to when. Rows are ended,
//! never overwritten, so the history stays.

use diesel::prelude::*;

use super::schema::assignments;
use super::{AnyConnection, DbResult, per_backend};

/// An assignment row.
#[derive(Clone, Debug, Queryable, diesel::QueryableByName)]
pub struct AssignmentRow {
    /// Id (UUID v7).
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub id: String,
    /// The household (a record id).
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub household_id: String,
    /// The officer.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub officer_id: String,
    /// The officer's agency when assigned.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub agency_id: Option<String>,
    /// From, ms.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub starts_at: i64,
    /// To, ms; `None` while active.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    pub ends_at: Option<i64>,
    /// Why it was made.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub reason: String,
    /// Why it ended.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub end_reason: Option<String>,
    /// Who made it (a user id; `None` from the command line).
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub assigned_by: Option<String>,
    /// Who ended it.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub ended_by: Option<String>,
}

/// A new, active assignment.
pub struct NewAssignment<'a> {
    /// Id.
    pub id: &'a str,
    /// Household.
    pub household_id: &'a str,
    /// Officer.
    pub officer_id: &'a str,
    /// The officer's agency.
    pub agency_id: Option<&'a str>,
    /// From, ms.
    pub starts_at: i64,
    /// Why.
    pub reason: &'a str,
    /// By whom.
    pub assigned_by: Option<&'a str>,
}

/// Inserts an active assignment. The household must have none (the unique index refuses a
/// second): end the current one first, in the same transaction.
pub fn insert(conn: &mut AnyConnection, a: &NewAssignment<'_>) -> DbResult<()> {
    diesel::insert_into(assignments::table)
        .values((
            assignments::id.eq(a.id),
            assignments::household_id.eq(a.household_id),
            assignments::officer_id.eq(a.officer_id),
            assignments::agency_id.eq(a.agency_id),
            assignments::starts_at.eq(a.starts_at),
            assignments::reason.eq(a.reason),
            assignments::assigned_by.eq(a.assigned_by),
        ))
        .execute(conn)?;
    Ok(())
}

/// Inserts active assignments of households that have none (new ones), a thousand rows a
/// statement.
pub fn insert_many(conn: &mut AnyConnection, rows: &[NewAssignment<'_>]) -> DbResult<()> {
    let values: Vec<_> = rows
        .iter()
        .map(|a| {
            (
                assignments::id.eq(a.id),
                assignments::household_id.eq(a.household_id),
                assignments::officer_id.eq(a.officer_id),
                assignments::agency_id.eq(a.agency_id),
                assignments::starts_at.eq(a.starts_at),
                assignments::reason.eq(a.reason),
                assignments::assigned_by.eq(a.assigned_by),
            )
        })
        .collect();
    for chunk in values.chunks(super::records::CHUNK) {
        per_backend!(&mut *conn, c => diesel::insert_into(assignments::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// The household's active assignment, locked for the rest of the transaction on PostgreSQL
/// (SQLite's write transaction already excludes other writers): a push of the old officer
/// that reads it `FOR SHARE` waits for a reassignment, or the reassignment for the push.
pub fn active_for_household(
    conn: &mut AnyConnection,
    household: &str,
) -> DbResult<Option<AssignmentRow>> {
    let q = assignments::table
        .filter(assignments::household_id.eq(household))
        .filter(assignments::ends_at.is_null())
        .select(assignments::all_columns);
    Ok(match conn {
        AnyConnection::Postgresql(c) => q.for_update().first(c).optional()?,
        AnyConnection::Sqlite(c) => q.first(c).optional()?,
    })
}

/// One assignment by id.
pub fn by_id(conn: &mut AnyConnection, id: &str) -> DbResult<Option<AssignmentRow>> {
    Ok(assignments::table
        .find(id)
        .select(assignments::all_columns)
        .first(conn)
        .optional()?)
}

/// Ends an active assignment; returns whether it was active.
pub fn end(
    conn: &mut AnyConnection,
    id: &str,
    at: i64,
    reason: &str,
    by: Option<&str>,
) -> DbResult<bool> {
    let n = diesel::update(
        assignments::table
            .find(id)
            .filter(assignments::ends_at.is_null()),
    )
    .set((
        assignments::ends_at.eq(Some(at)),
        assignments::end_reason.eq(Some(reason)),
        assignments::ended_by.eq(by),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// The households actively assigned to `officer`. With `lock`, on PostgreSQL the rows are
/// locked `FOR SHARE` until the transaction ends, so that no reassignment of them commits
/// between this read and the writes it allows.
pub fn households_of_officer(
    conn: &mut AnyConnection,
    officer: &str,
    lock: bool,
) -> DbResult<Vec<String>> {
    let q = assignments::table
        .filter(assignments::officer_id.eq(officer))
        .filter(assignments::ends_at.is_null())
        .select(assignments::household_id);
    Ok(match conn {
        AnyConnection::Postgresql(c) if lock => q.for_share().load(c)?,
        AnyConnection::Postgresql(c) => q.load(c)?,
        AnyConnection::Sqlite(c) => q.load(c)?,
    })
}

/// The households actively assigned to officers of `agency`.
pub fn households_of_agency(conn: &mut AnyConnection, agency: &str) -> DbResult<Vec<String>> {
    Ok(assignments::table
        .filter(assignments::agency_id.eq(agency))
        .filter(assignments::ends_at.is_null())
        .select(assignments::household_id)
        .load(conn)?)
}

/// What to list.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// One household's.
    pub household: Option<String>,
    /// One officer's.
    pub officer: Option<String>,
    /// One agency's.
    pub agency: Option<String>,
    /// Only active ones.
    pub active_only: bool,
}

/// Assignments matching `f`, newest first, at most `limit`.
pub fn list(conn: &mut AnyConnection, f: &Filter, limit: i64) -> DbResult<Vec<AssignmentRow>> {
    let mut q = assignments::table
        .select(assignments::all_columns)
        .order((assignments::starts_at.desc(), assignments::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some(h) = &f.household {
        q = q.filter(assignments::household_id.eq(h.clone()));
    }
    if let Some(o) = &f.officer {
        q = q.filter(assignments::officer_id.eq(o.clone()));
    }
    if let Some(a) = &f.agency {
        q = q.filter(assignments::agency_id.eq(a.clone()));
    }
    if f.active_only {
        q = q.filter(assignments::ends_at.is_null());
    }
    Ok(q.load(conn)?)
}
