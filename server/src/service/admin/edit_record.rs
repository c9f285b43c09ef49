//! An administrator edits one synced record: a put, patch or delete of their console
//! device, merged like any device's write (see [`super::console_writes`]).

use serde_json::Value;
use sync_protocol::wire::OpKind;
use sync_protocol::{Collection, Context, RecordId, Status};

use crate::api::records::{EditDone, RecordEdit};
use crate::auth::Caller;
use crate::db::{self, AnyConnection, meta, records};
use crate::error::ApiError;
use crate::service::audit;
use crate::service::authorize;

use super::console_writes::{ConsoleEdit, ConsoleWriter};
use super::read_record::other_agency;

/// Applies `edit` to record `id` of `collection` as the caller's console device. A `ctx`
/// read from [`super::read_record`] supersedes what was read; a write the administrator had
/// not seen stays beside theirs as a sibling (`conflict`). A rejection (a bad field, a
/// patch of a missing record) comes back as the result with a push's reject code and
/// writes nothing. Agency admins edit their agency's households' records only.
pub fn edit_record(
    conn: &mut AnyConnection,
    caller: &Caller,
    collection: &str,
    id: RecordId,
    kind: OpKind,
    edit: RecordEdit,
) -> Result<EditDone, ApiError> {
    let p = authorize::admin(conn, caller)?;
    let done = db::write_tx(conn, |c| {
        let mut writer = ConsoleWriter::open(c, p.user_id)?;
        let current = records::load_many(c, &[id])?.remove(&id);
        let household = match &current {
            Some(state) => sync_protocol::scope::household_of(state),
            // A new record: its own id for a household, the one it names otherwise.
            None => match Collection::from_name(collection) {
                Some(Collection::Households) => Some(id.to_string()),
                _ => edit
                    .fields
                    .as_ref()
                    .and_then(|f| f.get("household_id"))
                    .and_then(Value::as_str)
                    .map(str::to_lowercase),
            },
        };
        if !household.as_deref().is_some_and(|h| writer.may_write(h)) && p.agency_limit()?.is_some()
        {
            return Err(other_agency());
        }
        let mut results = writer.write(
            c,
            vec![ConsoleEdit {
                collection: collection.to_owned(),
                record_id: id,
                kind,
                ctx: edit.ctx,
                fields: edit.fields,
            }],
        )?;
        let result = results
            .pop()
            .ok_or_else(|| ApiError::internal("a console batch of one answered nothing"))?;
        let ctx = match &result.record {
            Some(r) => Some(Context::seen(meta::epoch(c)?, r.version)),
            None => None,
        };
        Ok::<_, ApiError>((EditDone { result, ctx }, writer.device()))
    })?;
    let (done, device) = done;
    if done.result.status != Status::Rejected {
        audit::append(
            conn,
            p.actor().action(
                "record_edited",
                Some(&id.to_string()),
                serde_json::json!({
                    "collection": collection,
                    "kind": kind,
                    "status": done.result.status,
                    "dot": done.result.dot,
                    "conflicts": done.result.conflicts,
                    "console_device": device,
                }),
            ),
        );
    }
    Ok(done)
}
