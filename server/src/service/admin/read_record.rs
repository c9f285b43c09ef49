//! An administrator reads one synced record, with the context an edit sends back.

use sync_protocol::scope::household_of;
use sync_protocol::wire::RecordView;
use sync_protocol::{Collection, Context, RecordId, RecordState};

use crate::api::records::RecordRead;
use crate::auth::Caller;
use crate::db::{self, AnyConnection, meta, records};
use crate::error::{ApiError, ErrorCode};
use crate::service::authorize::{self, Principal};
use crate::service::sync::scope_of;

use super::conflict_values::conflict_values;

/// The record `id` of `collection` as it stands: winning values, the siblings of
/// conflicted registers (with who wrote each, from which device and when), and the `ctx`
/// an edit on top of it sends. Agency admins read the
/// records of their agency's households only.
pub fn read_record(
    conn: &mut AnyConnection,
    caller: &Caller,
    collection: &str,
    id: RecordId,
) -> Result<RecordRead, ApiError> {
    let p = authorize::admin(conn, caller)?;
    db::read_tx(conn, |c| {
        let state = load_in_scope(c, &p, collection, id)?;
        let conflicts = conflict_values(c, &[&state])?
            .remove(&id)
            .unwrap_or_default();
        Ok(RecordRead {
            ctx: Context::seen(meta::epoch(c)?, state.version),
            record: RecordView::from(&state),
            conflicts,
        })
    })
}

/// The record, when it exists in `collection` and the administrator may see it.
pub(super) fn load_in_scope(
    conn: &mut AnyConnection,
    p: &Principal,
    collection: &str,
    id: RecordId,
) -> Result<RecordState, ApiError> {
    let not_found = || {
        ApiError::new(
            ErrorCode::RecordNotFound,
            format!("no record {id} in {collection}"),
        )
    };
    let wanted = Collection::from_name(collection).ok_or_else(not_found)?;
    let state = records::load_many(conn, &[id])?
        .remove(&id)
        .filter(|s| s.collection == wanted)
        .ok_or_else(not_found)?;
    if p.agency_limit()?.is_some() {
        let scope = scope_of(
            conn,
            p.role,
            &p.user_id.to_string(),
            p.agency_id.map(|a| a.to_string()).as_deref(),
            false,
        )?;
        if !household_of(&state).is_some_and(|h| scope.contains(&h)) {
            return Err(other_agency());
        }
    }
    Ok(state)
}

pub(super) fn other_agency() -> ApiError {
    ApiError::new(
        ErrorCode::OtherAgency,
        "agency admins see and edit the households assigned to their agency's officers only",
    )
}
