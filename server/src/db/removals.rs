//! Removals: records a user's devices must drop because they left the user's scope, each at
//! a position of the one change order.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::changes::Position;
use super::schema::removals;
use super::{AnyConnection, DbResult, meta, per_backend, to_i64};

/// One removal as a pull reads it.
#[derive(Clone, Debug, QueryableByName)]
pub struct RemovalRow {
    /// The record.
    #[diesel(sql_type = Text)]
    pub record_id: String,
    /// Its collection.
    #[diesel(sql_type = Text)]
    pub collection: String,
    /// Position, transaction part (0 on SQLite).
    #[diesel(sql_type = BigInt)]
    pub change_xid: i64,
    /// Position, sequence part.
    #[diesel(sql_type = BigInt)]
    pub change_seq: i64,
}

impl RemovalRow {
    /// Its position in the change order.
    pub fn position(&self) -> Position {
        Position {
            xid: self.change_xid,
            seq: self.change_seq,
        }
    }
}

/// Records that each of `users` must drop, stamped as changes now: `(id, collection)`.
pub fn insert_for(
    conn: &mut AnyConnection,
    users: &[String],
    records: &[(String, String)],
) -> DbResult<()> {
    let n = users.len() * records.len();
    if n == 0 {
        return Ok(());
    }
    let first = meta::reserve_change_seqs(conn, to_i64(n as u64)?)?;
    let mut rows = Vec::with_capacity(n);
    for user in users {
        for (id, collection) in records {
            // On PostgreSQL the trigger overwrites both parts; the key only needs them
            // distinct until it does.
            let seq = first.map_or(to_i64(rows.len() as u64)?, |f| {
                f + to_i64(rows.len() as u64).unwrap_or(0)
            });
            rows.push((
                removals::user_id.eq(user.as_str()),
                removals::record_id.eq(id.as_str()),
                removals::collection.eq(collection.as_str()),
                removals::change_xid.eq(0),
                removals::change_seq.eq(seq),
            ));
        }
    }
    for chunk in rows.chunks(super::records::CHUNK) {
        per_backend!(conn, c => diesel::insert_into(removals::table).values(chunk).execute(c))?;
    }
    Ok(())
}

/// `user`'s removals after `after`, in change order, at most `limit`; on PostgreSQL only
/// below `horizon`, the one the records of the same page were read below (one snapshot,
/// one horizon: a removal is never passed by a cursor that did not deliver it).
pub fn since(
    conn: &mut AnyConnection,
    user: &str,
    after: Position,
    horizon: Option<i64>,
    limit: i64,
) -> DbResult<Vec<RemovalRow>> {
    Ok(match conn {
        AnyConnection::Sqlite(c) => diesel::sql_query(
            "SELECT record_id, collection, change_xid, change_seq FROM removals \
             WHERE user_id = ? AND change_seq > ? ORDER BY change_seq LIMIT ?",
        )
        .bind::<Text, _>(user)
        .bind::<BigInt, _>(after.seq)
        .bind::<BigInt, _>(limit)
        .load(c)?,
        AnyConnection::Postgresql(c) => diesel::sql_query(
            "SELECT record_id, collection, change_xid, change_seq FROM removals \
             WHERE user_id = $1 AND (change_xid, change_seq) > ($2, $3) AND change_xid < $4 \
             ORDER BY change_xid, change_seq LIMIT $5",
        )
        .bind::<Text, _>(user)
        .bind::<BigInt, _>(after.xid)
        .bind::<BigInt, _>(after.seq)
        .bind::<BigInt, _>(horizon.unwrap_or(i64::MAX))
        .bind::<BigInt, _>(limit)
        .load(c)?,
    })
}
