//! The pull cursor: which records changed after a position, without ever skipping one.

use diesel::connection::SimpleConnection;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text};
use serde_json::value::RawValue;

use super::records::ViewRow;
use super::schema::records;
use super::scope::Scope;
use super::{AnyConnection, DbError, DbResult};

/// A position in the change order: `(xid, seq)` on PostgreSQL, `(0, seq)` on SQLite.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// Top-level transaction id of the change (PostgreSQL), 0 on SQLite.
    pub xid: i64,
    /// Change sequence number.
    pub seq: i64,
}

/// One page of changed records.
#[derive(Debug)]
pub struct Page {
    /// Changed records as pulls send them (`RecordView` JSON), in change order, each with
    /// its position.
    pub records: Vec<(Box<RawValue>, Position)>,
    /// PostgreSQL: the horizon the page was read below (no change at or above it was read).
    pub horizon: Option<i64>,
    /// Where the next page starts.
    pub next: Position,
    /// Whether more changes are ready now.
    pub has_more: bool,
}

/// The state is read only for a record without a stored view (written before views were).
const STATE_IF_NO_VIEW: &str = "CASE WHEN view IS NULL THEN state END";

/// The pull horizon on PostgreSQL: the oldest transaction of this snapshot that may still
/// commit rows here. It is the snapshot's xmin, except that transactions positively seen
/// running in *other* databases are passed over: xids are cluster-wide, and a long
/// transaction next door must not stall this database's pulls. An xid that cannot be placed
/// (finished since the snapshot, no permission to see it) still counts: a stall, never a
/// skip. `backend_xid` is 32-bit, hence the modulo.
const HORIZON: &str = "\
    SELECT COALESCE(min(x::text::bigint), pg_snapshot_xmax(pg_current_snapshot())::text::bigint) AS horizon \
    FROM pg_snapshot_xip(pg_current_snapshot()) AS x \
    WHERE (x::text::bigint % 4294967296) NOT IN ( \
        SELECT backend_xid::text::bigint FROM pg_stat_activity \
        WHERE backend_xid IS NOT NULL AND datid IS DISTINCT FROM \
            (SELECT oid FROM pg_database WHERE datname = current_database()))";

/// The horizon, repeated on every row, and one changed record; with no changed record, one
/// row with the horizon alone.
#[derive(QueryableByName)]
struct PgRow {
    #[diesel(sql_type = BigInt)]
    horizon: i64,
    #[diesel(sql_type = Nullable<Text>)]
    id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    collection: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    version: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    state: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    view: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    change_xid: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    change_seq: Option<i64>,
}

/// Records in `scopes` changed after `after`, at most `limit`. Run inside
/// [`super::read_tx`]: on PostgreSQL the horizon and the rows must share one snapshot.
pub fn changed_since(
    conn: &mut AnyConnection,
    scope: &Scope,
    after: Position,
    limit: i64,
) -> DbResult<Page> {
    let scopes: Vec<String> = match scope {
        Scope::All => Vec::new(),
        Scope::Households(h) => h.iter().cloned().collect(),
    };
    match conn {
        AnyConnection::Sqlite(c) => {
            // One writer, and change_seq is taken inside its write transaction: every
            // number below the highest committed one is committed too.
            let mut q = records::table
                .filter(records::version.gt(0))
                .filter(records::change_seq.gt(after.seq))
                .into_boxed();
            if let Scope::Households(_) = scope {
                q = q.filter(records::scope_key.eq_any(scopes));
            }
            let rows: Vec<(ViewRow, i64)> = q
                .order(records::change_seq)
                .limit(limit + 1)
                .select((
                    (
                        records::id,
                        records::collection,
                        records::version,
                        sql::<Nullable<Text>>(STATE_IF_NO_VIEW),
                        records::view,
                    ),
                    records::change_seq,
                ))
                .load(c)?;
            let has_more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
            let mut next = after;
            let mut states = Vec::with_capacity(rows.len());
            for (row, seq) in rows.into_iter().take(usize::try_from(limit).unwrap_or(0)) {
                next = Position { xid: 0, seq };
                states.push((row.into_view()?, next));
            }
            if !has_more {
                // Every change up to the counter is committed and none left in the scope:
                // the cursor passes the changes of other scopes too, as the horizon does
                // on PostgreSQL, instead of staying behind them for ever.
                next = next.max(highest_issuable(conn)?);
            }
            Ok(Page {
                records: states,
                horizon: None,
                next,
                has_more,
            })
        }
        AnyConnection::Postgresql(c) => {
            // Only transactions below the oldest running one are all settled, so read only
            // there, in (xid, seq) order: a seq cursor with an xid filter would step past a
            // lower seq whose transaction commits later. Horizon and rows come from one
            // statement, so from one snapshot whatever the isolation level.
            // Right after a burst of writes (an import, a day of pushes) the statistics are
            // stale, and the planner chose a bitmap scan and sorted every later row of the
            // scope for each page: a first sync cost the square of its records. An index
            // scan of records_pull gives the order without a sort, but only for one scope
            // named by `=`: `= ANY` of one element still sorts.
            c.batch_execute("SET LOCAL enable_bitmapscan = off")?;
            let scope_match = match scope {
                // The array is bound and ignored: one statement text for both cases.
                Scope::All => "cardinality($1) >= 0",
                Scope::Households(h) if h.len() == 1 => "scope_key = ($1)[1]",
                Scope::Households(_) => "scope_key = ANY($1)",
            };
            let rows: Vec<PgRow> = diesel::sql_query(format!(
                "WITH h AS ({HORIZON}) \
                 SELECT h.horizon, r.id, r.collection, r.version, r.state, r.view, \
                        r.change_xid, r.change_seq FROM h \
                 LEFT JOIN LATERAL ( \
                     SELECT id, collection, version, {STATE_IF_NO_VIEW} AS state, view, \
                            change_xid, change_seq FROM records \
                     WHERE version > 0 AND {scope_match} \
                       AND (change_xid, change_seq) > ($2, $3) \
                       AND change_xid < h.horizon \
                     ORDER BY change_xid, change_seq LIMIT $4) r ON true \
                 ORDER BY r.change_xid, r.change_seq"
            ))
            .bind::<Array<Text>, _>(&scopes)
            .bind::<BigInt, _>(after.xid)
            .bind::<BigInt, _>(after.seq)
            .bind::<BigInt, _>(limit + 1)
            .load(c)?;
            let horizon = rows
                .first()
                .map(|r| r.horizon)
                .ok_or_else(|| DbError::Corrupt("the pull query returned no horizon".into()))?;
            let mut changed: Vec<(ViewRow, Position)> = rows
                .into_iter()
                .filter_map(|r| {
                    Some((
                        ViewRow {
                            id: r.id?,
                            collection: r.collection?,
                            version: r.version?,
                            state: r.state,
                            view: r.view,
                        },
                        Position {
                            xid: r.change_xid?,
                            seq: r.change_seq?,
                        },
                    ))
                })
                .collect();
            let has_more = changed.len() > usize::try_from(limit).unwrap_or(usize::MAX);
            changed.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            let next = if has_more {
                changed.last().map_or(after, |(_, p)| *p)
            } else {
                // Everything below the horizon in scope has been read: the cursor may move
                // up to it.
                after.max(Position {
                    xid: horizon,
                    seq: 0,
                })
            };
            Ok(Page {
                records: changed
                    .into_iter()
                    .map(|(row, at)| Ok((row.into_view()?, at)))
                    .collect::<DbResult<_>>()?,
                horizon: Some(horizon),
                next,
                has_more,
            })
        }
    }
}

/// How far pulls lag behind writes: the number of committed changes not yet below the
/// horizon because an older transaction is still running (PostgreSQL); 0 on SQLite.
pub fn horizon_lag(conn: &mut AnyConnection) -> DbResult<i64> {
    #[derive(QueryableByName)]
    struct Lag {
        #[diesel(sql_type = BigInt)]
        lag: i64,
    }
    match conn {
        AnyConnection::Sqlite(_) => Ok(0),
        AnyConnection::Postgresql(c) => {
            let lag: Lag = diesel::sql_query(format!(
                "WITH h AS ({HORIZON}) \
                 SELECT count(*)::bigint AS lag FROM records CROSS JOIN h \
                 WHERE change_xid >= h.horizon"
            ))
            .get_result(c)?;
            Ok(lag.lag)
        }
    }
}

/// The highest position a pull could have issued so far. A cursor past it was made up (or
/// comes from another database of the same epoch): a client holding it would silently miss
/// every change until the counters caught up. On PostgreSQL the xid part is at most the
/// snapshot's xmax (a cursor's xid is a horizon, never above it) and the seq part at most the
/// sequence's last value; on SQLite the xid is 0 and the seq at most the counter.
pub fn highest_issuable(conn: &mut AnyConnection) -> DbResult<Position> {
    #[derive(QueryableByName)]
    struct Highest {
        #[diesel(sql_type = BigInt)]
        xid: i64,
        #[diesel(sql_type = BigInt)]
        seq: i64,
    }
    let query = match conn {
        AnyConnection::Sqlite(_) => "SELECT 0 AS xid, change_seq AS seq FROM sync_meta",
        AnyConnection::Postgresql(_) => {
            "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xid, \
                    last_value AS seq FROM records_change_seq"
        }
    };
    let h: Highest = super::per_backend!(conn, c => diesel::sql_query(query).get_result(c))?;
    Ok(Position {
        xid: h.xid,
        seq: h.seq,
    })
}
