//! Keyset pages of the admin lists: a filter built as SQL with its binds, an order over
//! `(key, id)` and the position after which a page starts. Never `OFFSET`: every page is an
//! index range from the position, so page 1000 costs what page 1 does.
//!
//! A nullable key is read in two segments so that each is one index range on both
//! databases (which disagree on where `NULL` sorts): ascending, the rows without a key
//! first (by id), then the rest by key; descending is exactly the reverse.

use diesel::QueryableByName;
use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use diesel::pg::Pg;
use diesel::query_builder::BoxedSqlQuery;
use diesel::sql_types::{BigInt, Bool, Double, Text};
use diesel::sqlite::Sqlite;

use super::{AnyConnection, DbResult};

/// A value bound to a placeholder.
#[derive(Clone, Debug, PartialEq)]
pub enum Bind {
    /// Text.
    Text(String),
    /// A whole number.
    Int(i64),
    /// A real number.
    Real(f64),
    /// A boolean.
    Bool(bool),
}

/// SQL conditions joined by `AND`, written with `?` placeholders (none inside literals).
#[derive(Clone, Debug, Default)]
pub struct Filter {
    conditions: Vec<String>,
    binds: Vec<Bind>,
}

impl Filter {
    /// Adds `condition`, whose `?` placeholders take `binds` in order.
    pub fn and(&mut self, condition: &str, binds: impl IntoIterator<Item = Bind>) {
        self.conditions.push(format!("({condition})"));
        self.binds.extend(binds);
    }

    fn sql(&self) -> String {
        if self.conditions.is_empty() {
            "TRUE".into()
        } else {
            self.conditions.join(" AND ")
        }
    }
}

/// The order of a page: a key column (or the id alone) and a direction.
#[derive(Clone, Copy, Debug)]
pub struct Order {
    /// The key, a column of the list's `FROM`; `None` orders by id alone.
    pub key: Option<&'static str>,
    /// Whether the key may be `NULL`.
    pub nullable: bool,
    /// Descending.
    pub desc: bool,
}

/// Where the previous page ended: the last row's key (`None`: it had none) and id.
#[derive(Clone, Debug, PartialEq)]
pub struct After {
    /// The key of the last row sent.
    pub key: Option<Bind>,
    /// Its id.
    pub id: String,
}

/// One list: what it selects and from where, and its id column.
#[derive(Clone, Copy, Debug)]
pub struct Source {
    /// `SELECT ... FROM ...` with any joins, no `WHERE`.
    pub select: &'static str,
    /// The id column, unique over the rows.
    pub id: &'static str,
}

#[derive(Clone, Copy, PartialEq)]
enum Segment {
    Null,
    Keyed,
}

/// At most `limit` rows of `source` matching `filter` in `order`, after `after`.
pub fn page<R>(
    conn: &mut AnyConnection,
    source: Source,
    filter: &Filter,
    order: Order,
    after: Option<&After>,
    limit: i64,
) -> DbResult<Vec<R>>
where
    R: QueryableByName<Sqlite> + QueryableByName<Pg> + 'static,
{
    let segments: &[Segment] = match (order.key.is_some() && order.nullable, order.desc) {
        (false, _) => &[Segment::Keyed],
        (true, false) => &[Segment::Null, Segment::Keyed],
        (true, true) => &[Segment::Keyed, Segment::Null],
    };
    let start = match after {
        None => segments[0],
        Some(After { key: None, .. }) if order.key.is_some() => Segment::Null,
        Some(_) => Segment::Keyed,
    };
    let first = segments.iter().position(|s| *s == start).unwrap_or(0);
    if let AnyConnection::Postgresql(c) = conn {
        // A page is at most 501 rows: starting parallel workers for it cost more than the
        // page (an agency admin's household page: 75 ms with two workers, 23 ms without).
        // `LOCAL`: for the read transaction the page is read in.
        c.batch_execute("SET LOCAL max_parallel_workers_per_gather = 0")?;
    }
    let mut rows = Vec::new();
    for (i, segment) in segments.iter().enumerate().skip(first) {
        let left = limit - i64::try_from(rows.len()).unwrap_or(i64::MAX);
        if left <= 0 {
            break;
        }
        let from = if i == first { after } else { None };
        let (sql, binds) = segment_sql(source, filter, order, *segment, from, left);
        rows.extend(load::<R>(conn, &sql, &binds)?);
    }
    Ok(rows)
}

fn segment_sql(
    source: Source,
    filter: &Filter,
    order: Order,
    segment: Segment,
    after: Option<&After>,
    limit: i64,
) -> (String, Vec<Bind>) {
    let (cmp, dir) = if order.desc {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    let id = source.id;
    let mut binds = filter.binds.clone();
    let mut cond = vec![filter.sql()];
    let order_by = match (order.key, segment) {
        (Some(key), Segment::Null) => {
            cond.push(format!("{key} IS NULL"));
            if let Some(a) = after {
                cond.push(format!("{id} {cmp} ?"));
                binds.push(Bind::Text(a.id.clone()));
            }
            format!("{id} {dir}")
        }
        (Some(key), Segment::Keyed) => {
            if order.nullable {
                cond.push(format!("{key} IS NOT NULL"));
            }
            if let Some(After {
                key: Some(k),
                id: after_id,
            }) = after
            {
                cond.push(format!("({key}, {id}) {cmp} (?, ?)"));
                binds.push(k.clone());
                binds.push(Bind::Text(after_id.clone()));
            }
            format!("{key} {dir}, {id} {dir}")
        }
        (None, _) => {
            if let Some(a) = after {
                cond.push(format!("{id} {cmp} ?"));
                binds.push(Bind::Text(a.id.clone()));
            }
            format!("{id} {dir}")
        }
    };
    let sql = format!(
        "{} WHERE {} ORDER BY {order_by} LIMIT {limit}",
        source.select,
        cond.join(" AND ")
    );
    (sql, binds)
}

/// Runs `sql` (with `?` placeholders) with `binds` on either backend.
pub fn load<R>(conn: &mut AnyConnection, sql: &str, binds: &[Bind]) -> DbResult<Vec<R>>
where
    R: QueryableByName<Sqlite> + QueryableByName<Pg> + 'static,
{
    Ok(match conn {
        AnyConnection::Sqlite(c) => {
            bound(diesel::sql_query(sql).into_boxed::<Sqlite>(), binds).load(c)?
        }
        AnyConnection::Postgresql(c) => {
            let mut n = 0;
            let numbered: String = sql
                .chars()
                .map(|ch| {
                    if ch == '?' {
                        n += 1;
                        format!("${n}")
                    } else {
                        ch.to_string()
                    }
                })
                .collect();
            bound(diesel::sql_query(numbered).into_boxed::<Pg>(), binds).load(c)?
        }
    })
}

fn bound<'f, DB>(
    mut q: BoxedSqlQuery<'f, DB, diesel::query_builder::SqlQuery>,
    binds: &[Bind],
) -> BoxedSqlQuery<'f, DB, diesel::query_builder::SqlQuery>
where
    DB: diesel::backend::Backend + diesel::sql_types::HasSqlType<Text>,
    DB: diesel::sql_types::HasSqlType<BigInt>
        + diesel::sql_types::HasSqlType<Double>
        + diesel::sql_types::HasSqlType<Bool>,
    String: diesel::serialize::ToSql<Text, DB>,
    i64: diesel::serialize::ToSql<BigInt, DB>,
    f64: diesel::serialize::ToSql<Double, DB>,
    bool: diesel::serialize::ToSql<Bool, DB>,
{
    for b in binds {
        q = match b.clone() {
            Bind::Text(v) => q.bind::<Text, _>(v),
            Bind::Int(v) => q.bind::<BigInt, _>(v),
            Bind::Real(v) => q.bind::<Double, _>(v),
            Bind::Bool(v) => q.bind::<Bool, _>(v),
        };
    }
    q
}
