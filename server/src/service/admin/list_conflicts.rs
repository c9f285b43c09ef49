//! The conflict inbox: the open conflicts within the caller's scope, each with every
//! conflicted register's values side by side and the `ctx` to resolve it with.

use sync_protocol::scope::household_of;
use sync_protocol::{Collection, Context, RecordId};

use crate::api::conflicts::{ConflictItem, ConflictQuery, Page};
use crate::auth::Caller;
use crate::db::conflicts::{self, Filter};
use crate::db::{self, AnyConnection, meta, records};
use crate::error::{ApiError, ErrorCode};
use crate::ids::AgencyId;
use crate::service::authorize;

use super::conflict_values::conflict_values;
use super::page_limit::{bad_cursor, page_limit};
use super::read_record::other_agency;

/// A page of open conflicts, ordered by collection (households, visits, aid, reviews) and then
/// record id; the cursor is the last one listed (`visits:<id>`). Agency admins see the
/// records of households assigned to their agency only, and may not ask for another's.
pub fn list_conflicts(
    conn: &mut AnyConnection,
    caller: &Caller,
    q: ConflictQuery,
) -> Result<Page<ConflictItem>, ApiError> {
    let p = authorize::admin(conn, caller)?;
    let limit = page_limit(q.limit)?;
    let only = q
        .collection
        .as_deref()
        .map(|c| {
            Collection::from_name(c).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidQuery,
                    format!("`collection`: no collection `{c}`"),
                )
            })
        })
        .transpose()?;
    let asked: Option<AgencyId> = q
        .agency
        .as_deref()
        .map(|a| {
            a.parse().map_err(|_| {
                ApiError::new(
                    ErrorCode::InvalidQuery,
                    format!("`agency`: `{a}` is not an id"),
                )
            })
        })
        .transpose()?;
    let agency = match (p.agency_limit()?, asked) {
        (Some(own), Some(a)) if a != own => return Err(other_agency()),
        (Some(own), _) => Some(own),
        (None, a) => a,
    };
    let after = q.cursor.as_deref().map(parse_cursor).transpose()?;
    let filter = Filter {
        kecamatan: q.kecamatan,
        desa: q.desa,
        agency: agency.map(|a| a.to_string()),
    };
    db::read_tx(conn, |c| {
        let wanted = usize::try_from(limit).unwrap_or(usize::MAX);
        let mut found: Vec<RecordId> = Vec::with_capacity(wanted + 1);
        for collection in Collection::ALL {
            if only.is_some_and(|o| o != collection) {
                continue;
            }
            let from = match &after {
                Some((at, _)) if *at > collection => continue,
                Some((at, id)) if *at == collection => Some(id.to_string()),
                _ => None,
            };
            // One more than asked tells whether another page follows.
            let room = i64::try_from(wanted + 1 - found.len()).unwrap_or(i64::MAX);
            for id in conflicts::conflicted_ids(c, collection, &filter, from.as_deref(), room)? {
                let id = id
                    .parse()
                    .map_err(|_| ApiError::internal(format!("stored record id `{id}`")))?;
                found.push(id);
            }
            if found.len() > wanted {
                break;
            }
        }
        let more = found.len() > wanted;
        found.truncate(wanted);
        let mut states = records::load_many(c, &found)?;
        let ordered: Vec<_> = found.iter().filter_map(|id| states.remove(id)).collect();
        let refs: Vec<_> = ordered.iter().collect();
        let mut values = conflict_values(c, &refs)?;
        let epoch = meta::epoch(c)?;
        let next_cursor = more
            .then(|| {
                ordered
                    .last()
                    .map(|s| format!("{}:{}", s.collection.name(), s.id))
            })
            .flatten();
        let items = ordered
            .iter()
            .map(|s| ConflictItem {
                collection: s.collection.name().to_owned(),
                id: s.id,
                household_id: household_of(s),
                version: s.version,
                fields: s.fields(),
                conflicts: values.remove(&s.id).unwrap_or_default(),
                ctx: Context::seen(epoch, s.version),
            })
            .collect();
        Ok(Page { items, next_cursor })
    })
}

fn parse_cursor(cursor: &str) -> Result<(Collection, RecordId), ApiError> {
    let (collection, id) = cursor.split_once(':').ok_or_else(|| bad_cursor(cursor))?;
    let collection = Collection::from_name(collection).ok_or_else(|| bad_cursor(cursor))?;
    let id = id.parse().map_err(|_| bad_cursor(cursor))?;
    Ok((collection, id))
}
