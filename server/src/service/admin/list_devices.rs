//! `GET /v1/admin/devices`: devices with their owners, filtered, sorted and paged.

use crate::api::admin::DeviceView;
use crate::api::lists::DeviceListQuery;
use crate::auth::Caller;
use crate::db::AnyConnection;
use crate::db::devices::DeviceWithOwner;
use crate::db::listing::{After, Bind, Filter, Source};
use crate::db::lists::DEVICES;
use crate::error::ApiError;
use crate::service::authorize;
use crate::service::csv_export::{Cell, CsvRecord};
use crate::service::listing::{self, List, Listed, Query, SortKey};

const KEYS: [SortKey; 3] = [
    SortKey::int("registered_at", "d.created_at", false),
    SortKey::int("last_push_at", "d.last_push_at", true),
    SortKey::ID,
];

/// The devices list.
pub struct Devices;

/// The devices the caller may see: all for a regency admin, those of their agency's users
/// for an agency admin.
pub fn list_devices(
    conn: &mut AnyConnection,
    caller: &Caller,
    q: DeviceListQuery,
) -> Result<Listed<Devices>, ApiError> {
    let p = authorize::admin(conn, caller)?;
    let paging = q.paging();
    let mut f = Filter::default();
    if let Some(a) = listing::agency_scope(&p, q.agency)? {
        f.and("u.agency_id = ?", [Bind::Text(a)]);
    }
    if let Some(u) = listing::officer_in_scope(conn, &p, "user", q.user)? {
        f.and("d.user_id = ?", [Bind::Text(u)]);
    }
    if let Some(r) = q.revoked {
        f.and("d.revoked = ?", [Bind::Bool(r)]);
    }
    if let Some(k) = q.kind {
        f.and("d.kind = ?", [Bind::Text(k)]);
    }
    Query::new(Devices, f, &paging, &KEYS, "registered_at")?.answer(conn, paging.format)
}

impl List for Devices {
    type Row = DeviceWithOwner;
    type Item = DeviceView;
    const SOURCE: Source = DEVICES;

    fn position(row: &DeviceWithOwner, key: &SortKey) -> After {
        let value = match key.name {
            "registered_at" => Some(Bind::Int(row.created_at)),
            "last_push_at" => row.last_push_at.map(Bind::Int),
            _ => Some(Bind::Text(row.id.clone())),
        };
        After {
            key: value,
            id: row.id.clone(),
        }
    }

    fn items(
        &self,
        _: &mut AnyConnection,
        rows: Vec<DeviceWithOwner>,
    ) -> Result<Vec<DeviceView>, ApiError> {
        rows.into_iter().map(DeviceView::try_from).collect()
    }
}

impl CsvRecord for DeviceView {
    fn header() -> Vec<&'static str> {
        vec![
            "id",
            "user_id",
            "username",
            "agency_id",
            "kind",
            "last_seq",
            "revoked",
            "revoked_at",
            "revoked_reason",
            "seq_reuse_count",
            "registered_at",
            "last_push_at",
        ]
    }

    fn cells(&self) -> Vec<Cell> {
        vec![
            Cell::Plain(self.id.to_string()),
            Cell::Plain(self.user_id.to_string()),
            Cell::Text(self.username.clone()),
            Cell::plain(self.agency_id),
            Cell::Plain(self.kind.clone()),
            Cell::plain(Some(self.last_seq)),
            Cell::plain(Some(self.revoked)),
            Cell::plain(self.revoked_at),
            Cell::text(&self.revoked_reason),
            Cell::plain(Some(self.seq_reuse_count)),
            Cell::plain(Some(self.registered_at)),
            Cell::plain(self.last_push_at),
        ]
    }
}
