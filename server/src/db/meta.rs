//! The database epoch and SQLite's change counter.

use diesel::prelude::*;
use sync_protocol::Epoch;
use uuid::Uuid;

use super::schema::sync_meta;
use super::{AnyConnection, DbError, DbResult, per_backend};

/// Creates the epoch row on a fresh database. Safe when several instances start at once.
pub fn ensure_epoch(conn: &mut AnyConnection) -> DbResult<()> {
    let fresh = Uuid::new_v4().to_string();
    per_backend!(conn, c => diesel::insert_into(sync_meta::table)
        .values((sync_meta::id.eq(1), sync_meta::epoch.eq(&fresh), sync_meta::change_seq.eq(0)))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

/// The current epoch.
pub fn epoch(conn: &mut AnyConnection) -> DbResult<Epoch> {
    let s: String = sync_meta::table.select(sync_meta::epoch).first(conn)?;
    s.parse()
        .map_err(|_| DbError::Corrupt(format!("epoch `{s}` is not a UUID")))
}

/// Starts a new epoch, as after a restore: every context and cursor issued before now is
/// treated as from another database. Returns the new epoch.
pub fn bump_epoch(conn: &mut AnyConnection) -> DbResult<Epoch> {
    let fresh = Uuid::new_v4();
    diesel::update(sync_meta::table)
        .set(sync_meta::epoch.eq(fresh.to_string()))
        .execute(conn)?;
    Ok(Epoch(fresh))
}

/// Reserves `n` change sequence numbers for a batch's record writes and returns the first.
/// On SQLite they come from the counter row, inside the write transaction, so sequence
/// order is commit order. On PostgreSQL the trigger stamps the transaction id and a
/// sequence value on each row, and this returns `None`.
pub fn reserve_change_seqs(conn: &mut AnyConnection, n: i64) -> DbResult<Option<i64>> {
    match conn {
        AnyConnection::Sqlite(c) => {
            let last: i64 = diesel::update(sync_meta::table)
                .set(sync_meta::change_seq.eq(sync_meta::change_seq + n))
                .returning(sync_meta::change_seq)
                .get_result(c)?;
            Ok(Some(last - n + 1))
        }
        AnyConnection::Postgresql(_) => Ok(None),
    }
}

/// On PostgreSQL, notices that the database is not where it was last time (restored from a
/// backup, promoted after a failover, dumped and loaded elsewhere) and starts a new epoch, in
/// case the operator forgot `kampung-sync epoch bump`. The identity is the cluster's system
/// identifier, its timeline and the database's oid. Returns the new epoch when it bumped.
/// SQLite files carry no such identity: there the operator's bump is the only guard.
pub fn check_identity(conn: &mut AnyConnection) -> DbResult<Option<Epoch>> {
    #[derive(diesel::QueryableByName)]
    struct Identity {
        #[diesel(sql_type = diesel::sql_types::Text)]
        identity: String,
    }
    let AnyConnection::Postgresql(c) = conn else {
        return Ok(None);
    };
    let current = diesel::sql_query(
        "SELECT (SELECT system_identifier::text FROM pg_control_system()) || '/' || \
                (SELECT timeline_id::text FROM pg_control_checkpoint()) || '/' || \
                (SELECT oid::text FROM pg_database WHERE datname = current_database()) AS identity",
    )
    .get_result::<Identity>(c);
    let current = match current {
        Ok(i) => i.identity,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the cluster identity; restores are not detected");
            return Ok(None);
        }
    };
    let stored: Option<String> = sync_meta::table
        .select(sync_meta::cluster_identity)
        .first(conn)?;
    let bumped = match &stored {
        Some(s) if *s != current => {
            let epoch = bump_epoch(conn)?;
            tracing::warn!(was = %s, now = %current, %epoch, "the database moved (restore, failover or copy): started a new epoch");
            Some(epoch)
        }
        _ => None,
    };
    if stored.as_deref() != Some(current.as_str()) {
        diesel::update(sync_meta::table)
            .set(sync_meta::cluster_identity.eq(Some(current)))
            .execute(conn)?;
    }
    Ok(bumped)
}
