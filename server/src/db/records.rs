//! Records and their per-register values: loading a record's merge state and storing it.

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;
use sync_protocol::{Collection, DeviceId, Dot, Hlc, RecordId, RecordState, Sibling};

use super::schema::{record_values, records};
use super::{AnyConnection, DbError, DbResult, meta, now_ms, per_backend, to_i64, to_u64};

/// One stored value of a register: a sibling with its dot and stamps.
#[derive(Queryable)]
struct ValueRow {
    record_id: String,
    register: String,
    dot: i64,
    origin_device: String,
    origin_seq: i64,
    hlc_ms: i64,
    hlc_counter: i64,
    order_ms: i64,
    order_counter: i64,
    clock_skew: bool,
    value: String,
}

/// Loads the merge state of the given records; absent ones (and PostgreSQL lock
/// placeholders that were never written) are left out.
pub fn load_many(
    conn: &mut AnyConnection,
    ids: &[RecordId],
) -> DbResult<HashMap<RecordId, RecordState>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let rows: Vec<(String, String, i64)> = per_backend!(conn, c => records::table
        .filter(records::id.eq_any(&keys))
        .filter(records::version.gt(0))
        .select((records::id, records::collection, records::version))
        .load(c))?;
    let mut states = HashMap::with_capacity(rows.len());
    for (id, collection, version) in rows {
        let id: RecordId = id.parse().map_err(|_| corrupt("record id", &id))?;
        let collection =
            Collection::from_name(&collection).ok_or_else(|| corrupt("collection", &collection))?;
        let mut state = RecordState::empty(id, collection);
        state.version = to_u64(version)?;
        states.insert(id, state);
    }
    if states.is_empty() {
        return Ok(states);
    }
    let values: Vec<ValueRow> = per_backend!(conn, c => record_values::table
        .filter(record_values::record_id.eq_any(&keys))
        .select(record_values::all_columns)
        .load(c))?;
    for row in values {
        let (record_id, register, sibling) = sibling_from_row(row)?;
        if let Some(state) = states.get_mut(&record_id) {
            state
                .registers
                .entry(register)
                .or_default()
                .siblings
                .push(sibling);
        }
    }
    for state in states.values_mut() {
        for reg in state.registers.values_mut() {
            reg.siblings.sort_by(Sibling::display_cmp);
        }
    }
    Ok(states)
}

/// Loads one record's merge state.
pub fn load(conn: &mut AnyConnection, id: RecordId) -> DbResult<Option<RecordState>> {
    Ok(load_many(conn, &[id])?.remove(&id))
}

/// Stores a record's new state, rewriting only the registers that changed, and stamps the
/// change for pulls.
pub fn save(
    conn: &mut AnyConnection,
    old: Option<&RecordState>,
    new: &RecordState,
    scope_key: &str,
) -> DbResult<()> {
    let id = new.id.to_string();
    let change_seq = meta::next_change_seq(conn)?;
    let fields =
        serde_json::to_string(&new.fields()).map_err(|e| DbError::Corrupt(e.to_string()))?;
    let row = (
        records::id.eq(&id),
        records::collection.eq(new.collection.name()),
        records::scope_key.eq(scope_key),
        records::version.eq(to_i64(new.version)?),
        records::deleted.eq(new.deleted()),
        records::conflicted.eq(new.conflicted()),
        records::fields.eq(&fields),
        records::change_seq.eq(change_seq),
        records::updated_at.eq(now_ms()),
    );
    per_backend!(conn, c => diesel::insert_into(records::table)
        .values(row)
        .on_conflict(records::id)
        .do_update()
        .set(row)
        .execute(c))?;

    let empty = BTreeMap::new();
    let old_registers = old.map_or(&empty, |o| &o.registers);
    let changed: Vec<&String> = new
        .registers
        .iter()
        .filter(|(name, reg)| old_registers.get(*name) != Some(*reg))
        .map(|(name, _)| name)
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    per_backend!(conn, c => diesel::delete(
        record_values::table
            .filter(record_values::record_id.eq(&id))
            .filter(record_values::register.eq_any(&changed)),
    )
    .execute(c))?;
    let mut rows = Vec::new();
    for name in changed {
        for s in &new.registers[name].siblings {
            rows.push((
                record_values::record_id.eq(id.clone()),
                record_values::register.eq(name.clone()),
                record_values::dot.eq(to_i64(s.dot.server)?),
                record_values::origin_device.eq(s.dot.device.to_string()),
                record_values::origin_seq.eq(to_i64(s.dot.seq)?),
                record_values::hlc_ms.eq(to_i64(s.hlc.wall_ms)?),
                record_values::hlc_counter.eq(i64::from(s.hlc.counter)),
                record_values::order_ms.eq(to_i64(s.order_hlc.wall_ms)?),
                record_values::order_counter.eq(i64::from(s.order_hlc.counter)),
                record_values::clock_skew.eq(s.clock_skew),
                record_values::value
                    .eq(serde_json::to_string(&s.value)
                        .map_err(|e| DbError::Corrupt(e.to_string()))?),
            ));
        }
    }
    // One statement for the whole record: a round trip per value is what made pushes slow.
    per_backend!(conn, c => diesel::insert_into(record_values::table).values(&rows).execute(c))?;
    Ok(())
}

/// Locks the given records (ascending ids) for the rest of the transaction. On PostgreSQL a
/// record that does not exist yet gets a placeholder row first, so two devices creating the
/// same record (a deterministic id) queue on its lock instead of failing on the key. On
/// SQLite `BEGIN IMMEDIATE` already holds the whole database's write lock.
pub fn lock(conn: &mut AnyConnection, ids: &[RecordId]) -> DbResult<()> {
    let AnyConnection::Postgresql(c) = conn else {
        return Ok(());
    };
    let keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
    // A placeholder seen by the insert can be dropped by its batch before this lock reaches
    // it (see `drop_placeholders`): then the row is gone and not locked, so go round again.
    loop {
        for key in &keys {
            diesel::insert_into(records::table)
                .values((
                    records::id.eq(key),
                    records::collection.eq(""),
                    records::scope_key.eq(""),
                    records::version.eq(0),
                    records::deleted.eq(false),
                    records::conflicted.eq(false),
                    records::fields.eq("{}"),
                    records::updated_at.eq(now_ms()),
                ))
                .on_conflict_do_nothing()
                .execute(c)?;
        }
        let locked: Vec<String> = records::table
            .filter(records::id.eq_any(&keys))
            .order(records::id)
            .select(records::id)
            .for_update()
            .load(c)?;
        if locked.len() == keys.len() {
            return Ok(());
        }
    }
}

/// Deletes the PostgreSQL lock placeholders among `ids` that were never written (version 0),
/// still under the batch's locks. A batch waiting on one of them then inserts its own.
pub fn drop_placeholders(conn: &mut AnyConnection, ids: &[RecordId]) -> DbResult<()> {
    let AnyConnection::Postgresql(c) = conn else {
        return Ok(());
    };
    let keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
    diesel::delete(
        records::table
            .filter(records::id.eq_any(&keys))
            .filter(records::version.eq(0)),
    )
    .execute(c)?;
    Ok(())
}

fn sibling_from_row(row: ValueRow) -> DbResult<(RecordId, String, Sibling)> {
    let record_id: RecordId = row
        .record_id
        .parse()
        .map_err(|_| corrupt("record id", &row.record_id))?;
    let device: DeviceId = row
        .origin_device
        .parse()
        .map_err(|_| corrupt("device id", &row.origin_device))?;
    let counter = |n: i64| u32::try_from(n).map_err(|_| corrupt("hlc counter", &n.to_string()));
    let sibling = Sibling {
        dot: Dot {
            server: to_u64(row.dot)?,
            device,
            seq: to_u64(row.origin_seq)?,
        },
        hlc: Hlc {
            wall_ms: to_u64(row.hlc_ms)?,
            counter: counter(row.hlc_counter)?,
        },
        order_hlc: Hlc {
            wall_ms: to_u64(row.order_ms)?,
            counter: counter(row.order_counter)?,
        },
        clock_skew: row.clock_skew,
        value: serde_json::from_str(&row.value).map_err(|_| corrupt("value", &row.value))?,
    };
    Ok((record_id, row.register, sibling))
}

fn corrupt(what: &str, value: &str) -> DbError {
    DbError::Corrupt(format!("stored {what} `{value}` cannot be read"))
}
