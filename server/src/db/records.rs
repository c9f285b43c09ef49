//! Records: one row each, holding the whole merge state (see [`super::state_codec`]), read
//! and written whole; a batch's records are locked, loaded and written in a few statements
//! whatever its length.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::upsert::excluded;
use serde_json::value::RawValue;
use sync_protocol::scope::household_of;
use sync_protocol::wire::RecordView;
use sync_protocol::{Collection, RecordId, RecordState};

use super::schema::records;
use super::{AnyConnection, DbError, DbResult, meta, now_ms, per_backend, state_codec, to_i64};

/// Rows per multi-row statement: far below SQLite's 32,766 and PostgreSQL's 65,535 bind
/// parameters at ten columns a row.
pub(crate) const CHUNK: usize = 1000;

/// A record's row as far as its merge state goes.
#[derive(Queryable)]
pub(crate) struct StateRow {
    pub(crate) id: String,
    pub(crate) collection: String,
    pub(crate) version: i64,
    pub(crate) state: String,
}

impl StateRow {
    /// The columns a [`StateRow`] is read from.
    pub(crate) const COLUMNS: (
        records::id,
        records::collection,
        records::version,
        records::state,
    ) = (
        records::id,
        records::collection,
        records::version,
        records::state,
    );

    pub(crate) fn into_state(self) -> DbResult<RecordState> {
        let id: RecordId = self
            .id
            .parse()
            .map_err(|_| corrupt("record id", &self.id))?;
        let collection = Collection::from_name(&self.collection)
            .ok_or_else(|| corrupt("collection", &self.collection))?;
        Ok(RecordState {
            id,
            collection,
            version: super::to_u64(self.version)?,
            registers: state_codec::decode(&self.state)?,
        })
    }
}

fn keys(ids: &[RecordId]) -> Vec<String> {
    ids.iter().map(ToString::to_string).collect()
}

/// Loads the merge state of the given records; absent ones (and PostgreSQL lock
/// placeholders that were never written) are left out.
pub fn load_many(
    conn: &mut AnyConnection,
    ids: &[RecordId],
) -> DbResult<HashMap<RecordId, RecordState>> {
    let mut states = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<StateRow> = records::table
            .filter(records::id.eq_any(keys(chunk)))
            .filter(records::version.gt(0))
            .select(StateRow::COLUMNS)
            .load(conn)?;
        for row in rows {
            let state = row.into_state()?;
            states.insert(state.id, state);
        }
    }
    Ok(states)
}

/// Locks the given records (ascending ids) for the rest of the transaction and loads their
/// states. On PostgreSQL a record that does not exist yet gets a placeholder row first, so
/// two devices creating the same record (a deterministic id) queue on its lock instead of
/// failing on the key; the lock and the read are one statement. On SQLite `BEGIN IMMEDIATE`
/// already holds the whole database's write lock, so this is a plain read.
pub fn lock_and_load(
    conn: &mut AnyConnection,
    ids: &[RecordId],
) -> DbResult<HashMap<RecordId, RecordState>> {
    let AnyConnection::Postgresql(c) = conn else {
        return load_many(conn, ids);
    };
    let mut states = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let keys = keys(chunk);
        let now = now_ms();
        let placeholders: Vec<_> = keys
            .iter()
            .map(|key| {
                (
                    records::id.eq(key),
                    records::collection.eq(""),
                    records::scope_key.eq(""),
                    records::version.eq(0),
                    records::deleted.eq(false),
                    records::conflicted.eq(false),
                    records::updated_at.eq(now),
                )
            })
            .collect();
        // A placeholder seen by the insert can be dropped by its batch before this lock
        // reaches it (see `drop_placeholders`): then the row is gone and not locked, so go
        // round again.
        loop {
            diesel::insert_into(records::table)
                .values(&placeholders)
                .on_conflict_do_nothing()
                .execute(c)?;
            let rows: Vec<StateRow> = records::table
                .filter(records::id.eq_any(&keys))
                .order(records::id)
                .select(StateRow::COLUMNS)
                .for_update()
                .load(c)?;
            if rows.len() == keys.len() {
                for row in rows.into_iter().filter(|r| r.version > 0) {
                    let state = row.into_state()?;
                    states.insert(state.id, state);
                }
                break;
            }
        }
    }
    Ok(states)
}

/// Stores the new states of a batch's records, each stamped as changed for pulls, in one
/// multi-row upsert per [`CHUNK`]. On SQLite the change numbers are reserved as one block
/// inside the write transaction, in the order given; on PostgreSQL the trigger stamps each
/// row with the transaction id and a sequence value.
pub fn save_many(conn: &mut AnyConnection, states: &[&RecordState]) -> DbResult<()> {
    if states.is_empty() {
        return Ok(());
    }
    let first_seq = meta::reserve_change_seqs(conn, to_i64(states.len() as u64)?)?;
    let now = now_ms();
    let encoded = states
        .iter()
        .map(|s| Ok((state_codec::encode(&s.registers)?, view_json(s)?)))
        .collect::<DbResult<Vec<_>>>()?;
    let mut rows = Vec::with_capacity(states.len());
    for (i, (s, (state, view))) in states.iter().zip(&encoded).enumerate() {
        rows.push((
            records::id.eq(s.id.to_string()),
            records::collection.eq(s.collection.name()),
            records::scope_key.eq(household_of(s).unwrap_or_default()),
            records::version.eq(to_i64(s.version)?),
            records::deleted.eq(s.deleted()),
            records::conflicted.eq(s.conflicted()),
            records::change_seq.eq(first_seq.map_or(0, |f| f + to_i64(i as u64).unwrap_or(0))),
            records::updated_at.eq(now),
            records::state.eq(state.as_str()),
            records::view.eq(Some(view.as_str())),
        ));
    }
    for chunk in rows.chunks(CHUNK) {
        per_backend!(conn, c => diesel::insert_into(records::table)
            .values(chunk)
            .on_conflict(records::id)
            .do_update()
            .set((
                records::collection.eq(excluded(records::collection)),
                records::scope_key.eq(excluded(records::scope_key)),
                records::version.eq(excluded(records::version)),
                records::deleted.eq(excluded(records::deleted)),
                records::conflicted.eq(excluded(records::conflicted)),
                records::change_seq.eq(excluded(records::change_seq)),
                records::updated_at.eq(excluded(records::updated_at)),
                records::state.eq(excluded(records::state)),
                records::view.eq(excluded(records::view)),
            ))
            .execute(c))?;
    }
    super::typed_tables::save(conn, states)
}

/// The record as a pull sends it.
fn view_json(s: &RecordState) -> DbResult<String> {
    serde_json::to_string(&RecordView::from(s))
        .map_err(|e| DbError::Corrupt(format!("cannot encode a record view: {e}")))
}

/// A record's row as a pull reads it: the stored view, or the state to build it from when
/// the record was last written before views were stored.
#[derive(Queryable)]
pub(crate) struct ViewRow {
    pub(crate) id: String,
    pub(crate) collection: String,
    pub(crate) version: i64,
    pub(crate) state: Option<String>,
    pub(crate) view: Option<String>,
}

impl ViewRow {
    /// The record's view as JSON text, ready to be sent.
    pub(crate) fn into_view(self) -> DbResult<Box<RawValue>> {
        let text = match self.view {
            Some(v) => v,
            None => view_json(
                &StateRow {
                    state: self.state.unwrap_or_default(),
                    id: self.id,
                    collection: self.collection,
                    version: self.version,
                }
                .into_state()?,
            )?,
        };
        RawValue::from_string(text)
            .map_err(|e| DbError::Corrupt(format!("unreadable record view: {e}")))
    }
}

/// Deletes the PostgreSQL lock placeholders among `ids` that were never written (version 0),
/// still under the batch's locks. A batch waiting on one of them then inserts its own.
pub fn drop_placeholders(conn: &mut AnyConnection, ids: &[RecordId]) -> DbResult<()> {
    let AnyConnection::Postgresql(c) = conn else {
        return Ok(());
    };
    for chunk in ids.chunks(CHUNK) {
        diesel::delete(
            records::table
                .filter(records::id.eq_any(keys(chunk)))
                .filter(records::version.eq(0)),
        )
        .execute(c)?;
    }
    Ok(())
}

fn corrupt(what: &str, value: &str) -> DbError {
    DbError::Corrupt(format!("stored {what} `{value}` cannot be read"))
}

/// The records of household `household` (its own and its visits and aid): id and collection.
pub fn of_household(conn: &mut AnyConnection, household: &str) -> DbResult<Vec<(String, String)>> {
    Ok(records::table
        .filter(records::scope_key.eq(household))
        .filter(records::version.gt(0))
        .order(records::id)
        .select((records::id, records::collection))
        .load(conn)?)
}

/// Stamps every record of `household` as changed now, without changing it: a household that
/// enters a scope is then pulled with its whole history by the devices of that scope, through
/// the one change order, though its records changed before their cursors. Devices that had
/// the records already get them once more, unchanged.
pub fn restamp_household(conn: &mut AnyConnection, household: &str) -> DbResult<()> {
    match conn {
        // The trigger stamps every updated row with this transaction and a new number.
        AnyConnection::Postgresql(c) => {
            diesel::update(records::table.filter(records::scope_key.eq(household)))
                .set(records::updated_at.eq(records::updated_at))
                .execute(c)?;
        }
        AnyConnection::Sqlite(_) => {
            let ids: Vec<String> = records::table
                .filter(records::scope_key.eq(household))
                .order(records::change_seq)
                .select(records::id)
                .load(conn)?;
            let Some(first) = meta::reserve_change_seqs(conn, to_i64(ids.len() as u64)?)? else {
                return Ok(());
            };
            for (i, id) in ids.iter().enumerate() {
                diesel::update(records::table.find(id))
                    .set(records::change_seq.eq(first + to_i64(i as u64)?))
                    .execute(conn)?;
            }
        }
    }
    Ok(())
}

/// Whether a household record exists and is not deleted.
pub fn household_exists(conn: &mut AnyConnection, id: RecordId) -> DbResult<bool> {
    Ok(load_many(conn, &[id])?
        .remove(&id)
        .is_some_and(|s| s.collection == Collection::Households && !s.deleted()))
}

/// How many records have been written to (placeholders left out).
pub fn count_written(conn: &mut AnyConnection) -> DbResult<i64> {
    Ok(records::table
        .filter(records::version.gt(0))
        .count()
        .get_result(conn)?)
}
