//! An administrator resolves a conflict: picks one listed value per conflicted register or
//! writes a merged one. The resolution is an ordinary console write (see
//! [`super::console_writes`]) whose context is the version read, which covers every
//! sibling, so it supersedes them all and syncs to the devices like any edit. Conflicted
//! registers it does not name are not written and stay conflicted (listed in the inbox);
//! registers that hold no conflict are never written by it.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use sync_protocol::clock::Actor;
use sync_protocol::state::EXISTS;
use sync_protocol::wire::OpKind;
use sync_protocol::{Context, RecordId, RecordState, Status};

use crate::api::conflicts::Resolution;
use crate::api::records::EditDone;
use crate::auth::Caller;
use crate::db::{self, AnyConnection, meta, records};
use crate::error::{ApiError, ErrorCode};
use crate::service::audit;
use crate::service::authorize;

use super::console_writes::{ConsoleEdit, ConsoleWriter};
use super::read_record::{load_in_scope, other_agency};

/// Resolves the conflicts `r` names on record `id` of `collection`, in one transaction with
/// the record locked: `409 not_conflicted` when it holds none, `409 stale_context` when it
/// changed since `r.ctx` was read, `400 invalid_resolution` for a name or index not listed;
/// a merged value the schema refuses comes back as a rejected result (`422 edit_rejected`).
/// Nothing is written in any of these cases. Within the scope of the record read.
pub fn resolve_conflict(
    conn: &mut AnyConnection,
    caller: &Caller,
    collection: &str,
    id: RecordId,
    r: Resolution,
) -> Result<EditDone, ApiError> {
    let p = authorize::admin(conn, caller)?;
    db::write_tx(conn, |c| {
        let mut writer = ConsoleWriter::open(c, p.user_id)?;
        // Held to the commit, so nothing lands between the check and the write.
        records::lock_and_load(c, &[id])?;
        let state = load_in_scope(c, &p, collection, id)?;
        if !state.conflicted() {
            return Err(ApiError::new(
                ErrorCode::NotConflicted,
                format!("record {id} holds no conflict (any more): nothing was written"),
            ));
        }
        let epoch = meta::epoch(c)?;
        if !covers(&r.ctx, epoch, state.version) {
            return Err(ApiError::new(
                ErrorCode::StaleContext,
                format!(
                    "record {id} changed since it was read (it is at version {}): read it \
                     again and resolve on what it holds now; nothing was written",
                    state.version
                ),
            ));
        }
        let (kind, fields) = plan(&state, &r)?;
        let household = sync_protocol::scope::household_of(&state);
        if !household.as_deref().is_some_and(|h| writer.may_write(h)) {
            return Err(other_agency());
        }
        let result = writer
            .write(
                c,
                vec![ConsoleEdit {
                    collection: collection.to_owned(),
                    record_id: id,
                    kind,
                    ctx: Context::seen(epoch, state.version),
                    fields,
                }],
            )?
            .pop()
            .ok_or_else(|| ApiError::internal("a console batch of one answered nothing"))?;
        if result.status == Status::Rejected {
            return Ok(EditDone { result, ctx: None });
        }
        let ctx = result
            .record
            .as_ref()
            .map(|rec| Context::seen(epoch, rec.version));
        audit::append_required(
            c,
            p.actor().action(
                "conflict_resolved",
                Some(&id.to_string()),
                serde_json::json!({
                    "collection": collection,
                    "read_version": state.version,
                    "picked": r.pick,
                    "merged": r.fields.keys().collect::<Vec<_>>(),
                    "kind": kind,
                    "status": result.status,
                    "dot": result.dot,
                    "console_device": writer.device(),
                }),
            ),
        )?;
        Ok(EditDone { result, ctx })
    })
}

/// Whether `ctx` is the read of the record as it stands: this epoch, and the version now
/// (an older one misses a write; a newer one is no read of this database).
fn covers(ctx: &Context, epoch: sync_protocol::Epoch, version: u64) -> bool {
    ctx.epoch == Some(epoch)
        && ctx.vv.get(Actor::Server) == version
        && ctx.vv.0.keys().all(|a| *a == Actor::Server)
}

/// The write that resolves what `r` names: a delete when it picks the tombstone of
/// `_exists`, a patch of the picked and merged registers otherwise.
fn plan(
    state: &RecordState,
    r: &Resolution,
) -> Result<(OpKind, Option<Map<String, Value>>), ApiError> {
    let conflicted = state.conflicted_registers();
    let listed = || conflicted.join(", ");
    if r.pick.is_empty() && r.fields.is_empty() {
        return Err(invalid(format!(
            "name at least one conflicted field in `pick` or `fields` (conflicted: {})",
            listed()
        )));
    }
    for name in r.pick.keys().chain(r.fields.keys()) {
        if !conflicted.contains(name) {
            return Err(invalid(format!(
                "`{name}` is not a conflicted field of this record (conflicted: {})",
                listed()
            )));
        }
        if r.pick.contains_key(name) && r.fields.contains_key(name) {
            return Err(invalid(format!(
                "`{name}` is both picked and merged: give one"
            )));
        }
    }
    let mut chosen: BTreeMap<&str, &Value> = BTreeMap::new();
    for (name, index) in &r.pick {
        let siblings = &state.registers[name].siblings;
        let sib = siblings.get(*index).ok_or_else(|| {
            invalid(format!(
                "`{name}` lists {} values (index 0 to {}): there is no value {index}",
                siblings.len(),
                siblings.len() - 1
            ))
        })?;
        chosen.insert(name, &sib.value);
    }
    let schema = state.collection.schema();
    for (name, value) in &r.fields {
        if name == EXISTS {
            return Err(invalid(
                "`_exists` (a delete concurrent with an edit) is resolved by `pick`".to_owned(),
            ));
        }
        let Some(obj) = value.as_object() else {
            return Err(invalid(format!(
                "the merged value of `{name}` must be an object of its fields, as the values \
                 are listed"
            )));
        };
        if let Some(stray) = obj.keys().find(|k| {
            !schema
                .fields
                .iter()
                .any(|d| d.name == k.as_str() && d.register() == name)
        }) {
            return Err(invalid(format!("`{stray}` is not a field of `{name}`")));
        }
        chosen.insert(name, value);
    }
    let keep = match chosen.remove(EXISTS) {
        Some(Value::Bool(false)) => {
            if !chosen.is_empty() {
                return Err(invalid(
                    "picking the delete of `_exists` deletes the record: name no other field"
                        .to_owned(),
                ));
            }
            return Ok((OpKind::Delete, None));
        }
        Some(_) => true,
        None => false,
    };
    let mut fields = Map::new();
    for value in chosen.values() {
        if let Some(obj) = value.as_object() {
            fields.extend(obj.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
    if fields.is_empty() && keep {
        return Err(invalid(
            "keeping the record (`_exists` true) is written with its fields: resolve another \
             conflicted field with it, or patch the record"
                .to_owned(),
        ));
    }
    Ok((OpKind::Patch, Some(fields)))
}

fn invalid(message: String) -> ApiError {
    ApiError::new(ErrorCode::InvalidResolution, message)
}
