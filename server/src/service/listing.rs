//! What every admin list shares: the sort keys, the opaque cursor, the page size, dates in
//! filters, the agency rule for agency admins, and reading one page.
//!
//! A cursor is base64url (no padding) of `{"s": sort, "k": key, "i": id}`: the sort it was
//! issued for and the last row's key and id. It is checked, not trusted: one that does not
//! decode, or was issued for another sort, is refused `invalid_cursor`; it is only ever
//! bound as a value, so a forged one can only move the position.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::QueryableByName;
use diesel::pg::Pg;
use diesel::sqlite::Sqlite;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::lists::{Format, Page, Paging};
use crate::db::listing::{self, After, Bind, Filter, Order, Source};
use crate::db::{AnyConnection, users};
use crate::error::{ApiError, ErrorCode};
use crate::ids::{AgencyId, UserId};
use crate::service::authorize::Principal;
use crate::service::csv_export::CsvRecord;
use crate::service::page_limit;

/// Rows per JSON page when `limit` is absent.
pub const DEFAULT_LIMIT: u32 = 50;
/// The largest `limit`.
pub const MAX_LIMIT: u32 = 500;

/// A key a list may be sorted on.
#[derive(Clone, Copy, Debug)]
pub struct SortKey {
    /// Its name in `sort`.
    pub name: &'static str,
    /// Its column; `None` for the id.
    pub column: Option<&'static str>,
    /// Whether rows may lack it.
    pub nullable: bool,
    /// A whole number (else text).
    pub int: bool,
}

impl SortKey {
    /// A text key.
    pub const fn text(name: &'static str, column: &'static str, nullable: bool) -> SortKey {
        SortKey {
            name,
            column: Some(column),
            nullable,
            int: false,
        }
    }
    /// A whole-number key.
    pub const fn int(name: &'static str, column: &'static str, nullable: bool) -> SortKey {
        SortKey {
            name,
            column: Some(column),
            nullable,
            int: true,
        }
    }
    /// The id.
    pub const ID: SortKey = SortKey {
        name: "id",
        column: None,
        nullable: false,
        int: false,
    };
}

/// The asked order.
#[derive(Clone, Copy, Debug)]
pub struct Sort {
    /// The key.
    pub key: SortKey,
    /// Descending.
    pub desc: bool,
}

impl Sort {
    /// As written in `sort`.
    pub fn spec(&self) -> String {
        format!("{}{}", if self.desc { "-" } else { "" }, self.key.name)
    }

    fn order(&self) -> Order {
        Order {
            key: self.key.column,
            nullable: self.key.nullable,
            desc: self.desc,
        }
    }
}

/// `asked` (`key` or `-key`) among `keys`, or `default`.
pub fn sort(asked: Option<&str>, keys: &[SortKey], default: &str) -> Result<Sort, ApiError> {
    let spec = asked.unwrap_or(default);
    let (desc, name) = match spec.strip_prefix('-') {
        Some(n) => (true, n),
        None => (false, spec),
    };
    let key = keys.iter().find(|k| k.name == name).ok_or_else(|| {
        let names: Vec<&str> = keys.iter().map(|k| k.name).collect();
        ApiError::new(
            ErrorCode::InvalidQuery,
            format!(
                "`sort`: no key `{name}`; sort on one of {} (a leading `-` for descending)",
                names.join(", ")
            ),
        )
    })?;
    Ok(Sort { key: *key, desc })
}

#[derive(Serialize, Deserialize)]
struct CursorBody {
    s: String,
    k: Value,
    i: String,
}

/// The cursor that continues after `after` in `sort`.
pub fn encode_cursor(sort: &Sort, after: &After) -> String {
    let k = match &after.key {
        None => Value::Null,
        Some(Bind::Text(t)) => Value::String(t.clone()),
        Some(Bind::Int(n)) => Value::from(*n),
        Some(Bind::Real(r)) => Value::from(*r),
        Some(Bind::Bool(b)) => Value::Bool(*b),
    };
    let body = CursorBody {
        s: sort.spec(),
        k,
        i: after.id.clone(),
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&body).unwrap_or_default())
}

/// The position a cursor names, checked against the sort it is used with.
pub fn decode_cursor(raw: Option<&str>, sort: &Sort) -> Result<Option<After>, ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    let bad = |why: &str| {
        ApiError::new(
            ErrorCode::InvalidCursor,
            format!("`cursor`: {why}; start again without one"),
        )
    };
    let body: CursorBody = URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| bad("not a cursor this list issued"))?;
    if body.s != sort.spec() {
        return Err(bad(&format!(
            "it was issued for `sort={}`, not `sort={}`",
            body.s,
            sort.spec()
        )));
    }
    let key = match (&body.k, sort.key.column.is_some(), sort.key.int) {
        (_, false, _) => Some(Bind::Text(body.i.clone())),
        (Value::Null, true, _) if sort.key.nullable => None,
        (Value::String(s), true, false) => Some(Bind::Text(s.clone())),
        (Value::Number(n), true, true) => Some(Bind::Int(
            n.as_i64()
                .ok_or_else(|| bad("not a cursor this list issued"))?,
        )),
        _ => return Err(bad("not a cursor this list issued")),
    };
    Ok(Some(After { key, id: body.i }))
}

/// The page size of a JSON page: 50 when absent, refused over 500.
pub fn limit(asked: Option<i64>) -> Result<i64, ApiError> {
    page_limit(asked, DEFAULT_LIMIT, MAX_LIMIT)
}

/// A `from` or `to` filter as stored UTC text: RFC 3339, or a date (`YYYY-MM-DD`, a day in
/// UTC). `from` is inclusive; `to` is exclusive for an instant and takes in the whole day
/// for a date.
pub fn time_bound(param: &str, raw: &str, end: bool) -> Result<String, ApiError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(sync_protocol::rows::utc_text(t.with_timezone(&Utc)));
    }
    let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidQuery,
            format!("`{param}`: `{raw}` is neither an RFC 3339 time nor a date YYYY-MM-DD"),
        )
    })?;
    let day = if end {
        day.succ_opt().unwrap_or(day)
    } else {
        day
    };
    let start = day
        .and_hms_opt(0, 0, 0)
        .ok_or_else(|| ApiError::internal("midnight"))?
        .and_utc();
    Ok(sync_protocol::rows::utc_text(start))
}

/// The agency whose records the caller may see (`None`: all), with an asked `agency`
/// filter: an agency admin asking for another agency is refused `other_agency`.
pub fn agency_scope(p: &Principal, asked: Option<AgencyId>) -> Result<Option<String>, ApiError> {
    match (p.agency_limit()?, asked) {
        (Some(own), Some(a)) if a != own => Err(ApiError::new(
            ErrorCode::OtherAgency,
            format!("`agency`: {a} is not your agency"),
        )),
        (Some(own), _) => Ok(Some(own.to_string())),
        (None, a) => Ok(a.map(|a| a.to_string())),
    }
}

/// An asked `officer` (or user) filter: an agency admin may name only users of their own
/// agency; any other id, existing or not, is `other_agency`, so ids cannot be probed.
pub fn officer_in_scope(
    conn: &mut AnyConnection,
    p: &Principal,
    param: &str,
    asked: Option<UserId>,
) -> Result<Option<String>, ApiError> {
    let Some(user) = asked else { return Ok(None) };
    if let Some(own) = p.agency_limit()? {
        let theirs = users::by_id(conn, user)?.and_then(|u| u.agency_id);
        if theirs.as_deref() != Some(own.to_string().as_str()) {
            return Err(ApiError::new(
                ErrorCode::OtherAgency,
                format!("`{param}`: {user} is not a user of your agency"),
            ));
        }
    }
    Ok(Some(user.to_string()))
}

/// A list: its rows, how they become items, where a row's sort key is.
pub trait List: Send + 'static {
    /// The row read.
    type Row: QueryableByName<Sqlite> + QueryableByName<Pg> + Send + 'static;
    /// The item answered.
    type Item: Serialize + CsvRecord + Send + 'static;
    /// Where the rows come from.
    const SOURCE: Source;
    /// The CSV header: the item's, unless this list adds columns.
    fn header(&self) -> Vec<&'static str> {
        <Self::Item as CsvRecord>::header()
    }
    /// The row's id and its value of `key`.
    fn position(row: &Self::Row, key: &SortKey) -> After;
    /// The items of one page's rows (in the page's transaction).
    fn items(
        &self,
        conn: &mut AnyConnection,
        rows: Vec<Self::Row>,
    ) -> Result<Vec<Self::Item>, ApiError>;
}

/// An authorised, checked list query: what to read and from where.
pub struct Query<L: List> {
    /// The list.
    pub list: L,
    /// Its conditions, the caller's scope among them.
    pub filter: Filter,
    /// Its order.
    pub sort: Sort,
    /// Where to start.
    pub after: Option<After>,
    /// Rows per page.
    pub limit: i64,
}

/// A list's answer: one page of JSON, or a query to stream as CSV.
pub enum Listed<L: List> {
    /// One page.
    Page(Page<L::Item>),
    /// Every row, as CSV.
    Csv(Query<L>),
}

impl<L: List> Query<L> {
    /// A query of `list` under `filter`, with the paging the client asked for.
    pub fn new(
        list: L,
        filter: Filter,
        paging: &Paging,
        keys: &[SortKey],
        default_sort: &str,
    ) -> Result<Query<L>, ApiError> {
        let sort = sort(paging.sort.as_deref(), keys, default_sort)?;
        let after = decode_cursor(paging.cursor.as_deref(), &sort)?;
        let limit = match paging.format {
            Format::Json => limit(paging.limit)?,
            Format::Csv if paging.limit.is_some() => {
                return Err(ApiError::new(
                    ErrorCode::InvalidQuery,
                    "`limit`: a CSV export has every matching row; leave `limit` out",
                ));
            }
            Format::Csv => crate::service::csv_export::PAGE_ROWS,
        };
        Ok(Query {
            list,
            filter,
            sort,
            after,
            limit,
        })
    }

    /// Reads the page at the query's position in one read transaction, and moves the
    /// position past it; the position becomes `None` after the last page.
    pub fn next_page(&mut self, conn: &mut AnyConnection) -> Result<Vec<L::Item>, ApiError> {
        let (items, next) = crate::db::read_tx(conn, |c| {
            let mut rows: Vec<L::Row> = listing::page(
                c,
                L::SOURCE,
                &self.filter,
                self.sort.order(),
                self.after.as_ref(),
                self.limit + 1,
            )?;
            let more = rows.len() > usize::try_from(self.limit).unwrap_or(usize::MAX);
            rows.truncate(usize::try_from(self.limit).unwrap_or(0));
            let next = if more {
                rows.last().map(|r| L::position(r, &self.sort.key))
            } else {
                None
            };
            Ok::<_, ApiError>((self.list.items(c, rows)?, next))
        })?;
        self.after = next;
        Ok(items)
    }

    /// Whether a page was read and more follow.
    pub fn has_more(&self) -> bool {
        self.after.is_some()
    }

    /// The answer: one page of JSON now, or the query for the CSV stream.
    pub fn answer(
        mut self,
        conn: &mut AnyConnection,
        format: Format,
    ) -> Result<Listed<L>, ApiError> {
        match format {
            Format::Csv => Ok(Listed::Csv(self)),
            Format::Json => {
                let items = self.next_page(conn)?;
                let next_cursor = self.after.as_ref().map(|a| encode_cursor(&self.sort, a));
                Ok(Listed::Page(Page { items, next_cursor }))
            }
        }
    }
}

/// A text value as a sort position.
pub fn text_key(v: &Option<String>) -> Option<Bind> {
    v.clone().map(Bind::Text)
}

/// The conditions a visit or aid list puts on its records' household (`column` holds the
/// household id): its kecamatan and desa, and the agency its active assignment is with.
/// The agency is the caller's scope for an agency admin, as for the household itself and
/// for sync: every record of a household their agency fosters now, whoever wrote it.
pub fn household_conditions(
    f: &mut Filter,
    column: &str,
    kecamatan: Option<String>,
    desa: Option<String>,
    agency: Option<String>,
) {
    if let Some(a) = agency {
        f.and(
            &format!(
                "{column} IN (SELECT asg.household_id FROM assignments asg \
                 WHERE asg.ends_at IS NULL AND asg.agency_id = ?)"
            ),
            [Bind::Text(a)],
        );
    }
    if let Some(k) = kecamatan {
        f.and(
            &format!("{column} IN (SELECT hk.id FROM q_households hk WHERE hk.kecamatan_code = ?)"),
            [Bind::Text(k)],
        );
    }
    if let Some(d) = desa {
        f.and(
            &format!("{column} IN (SELECT hd.id FROM q_households hd WHERE hd.desa_code = ?)"),
            [Bind::Text(d)],
        );
    }
}

/// `from` and `to` on a UTC text `column`.
pub fn time_conditions(
    f: &mut Filter,
    column: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(), ApiError> {
    if let Some(from) = from {
        f.and(
            &format!("{column} >= ?"),
            [Bind::Text(time_bound("from", from, false)?)],
        );
    }
    if let Some(to) = to {
        f.and(
            &format!("{column} < ?"),
            [Bind::Text(time_bound("to", to, true)?)],
        );
    }
    Ok(())
}
