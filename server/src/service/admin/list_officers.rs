//! `GET /v1/admin/officers`: officers with their households and last sync.

use crate::api::lists::{OfficerItem, OfficerListQuery};
use crate::auth::{Caller, Role};
use crate::db::AnyConnection;
use crate::db::listing::{After, Bind, Filter, Source};
use crate::db::lists::{OFFICERS, OfficerRow};
use crate::error::ApiError;
use crate::service::authorize;
use crate::service::csv_export::{Cell, CsvRecord};
use crate::service::listing::{self, List, Listed, Query, SortKey};

const KEYS: [SortKey; 2] = [SortKey::text("username", "u.username", false), SortKey::ID];

/// The officers list.
pub struct Officers;

/// Officers: a regency admin's all, an agency admin's those of their agency.
pub fn list_officers(
    conn: &mut AnyConnection,
    caller: &Caller,
    q: OfficerListQuery,
) -> Result<Listed<Officers>, ApiError> {
    let p = authorize::admin(conn, caller)?;
    let paging = q.paging();
    let mut f = Filter::default();
    f.and("u.role = ?", [Bind::Text(Role::Officer.as_str().into())]);
    if let Some(a) = listing::agency_scope(&p, q.agency)? {
        f.and("u.agency_id = ?", [Bind::Text(a)]);
    }
    if let Some(a) = q.active {
        f.and("u.active = ?", [Bind::Bool(a)]);
    }
    Query::new(Officers, f, &paging, &KEYS, "username")?.answer(conn, paging.format)
}

impl List for Officers {
    type Row = OfficerRow;
    type Item = OfficerItem;
    const SOURCE: Source = OFFICERS;

    fn position(row: &OfficerRow, key: &SortKey) -> After {
        let value = match key.name {
            "username" => row.username.clone(),
            _ => row.id.clone(),
        };
        After {
            key: Some(Bind::Text(value)),
            id: row.id.clone(),
        }
    }

    fn items(
        &self,
        _: &mut AnyConnection,
        rows: Vec<OfficerRow>,
    ) -> Result<Vec<OfficerItem>, ApiError> {
        Ok(rows
            .into_iter()
            .map(|u| OfficerItem {
                id: u.id,
                username: u.username,
                display_name: u.display_name,
                agency_id: u.agency_id,
                active: u.active,
                households_assigned: u.households_assigned,
                last_push_at: u.last_push_at,
            })
            .collect())
    }
}

impl CsvRecord for OfficerItem {
    fn header() -> Vec<&'static str> {
        vec![
            "id",
            "username",
            "display_name",
            "agency_id",
            "active",
            "households_assigned",
            "last_push_at",
        ]
    }

    fn cells(&self) -> Vec<Cell> {
        vec![
            Cell::Plain(self.id.clone()),
            Cell::Text(self.username.clone()),
            Cell::Text(self.display_name.clone()),
            Cell::text(&self.agency_id),
            Cell::plain(Some(self.active)),
            Cell::plain(Some(self.households_assigned)),
            Cell::plain(self.last_push_at),
        ]
    }
}
