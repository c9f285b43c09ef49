//! `GET /v1/admin/aid`: aid records filtered, sorted and paged, or exported as CSV.

use crate::api::lists::{AidItem, AidListQuery};
use crate::auth::Caller;
use crate::db::AnyConnection;
use crate::db::listing::{After, Bind, Filter, Source};
use crate::db::lists::{AID, AidRow};
use crate::error::ApiError;
use crate::service::authorize;
use crate::service::csv_export::{Cell, CsvRecord};
use crate::service::listing::{self, List, Listed, Query, SortKey, text_key};

const KEYS: [SortKey; 2] = [
    SortKey::text("given_at", "x.given_at_utc", true),
    SortKey::ID,
];

/// The aid list.
pub struct Aid;

/// Aid in the caller's scope: a regency admin's all, an agency admin's that of the
/// households actively assigned to their agency.
pub fn list_aid(
    conn: &mut AnyConnection,
    caller: &Caller,
    q: AidListQuery,
) -> Result<Listed<Aid>, ApiError> {
    let p = authorize::admin(conn, caller)?;
    let paging = q.paging();
    let mut f = Filter::default();
    let agency = listing::agency_scope(&p, q.agency)?;
    listing::household_conditions(&mut f, "x.household_id", q.kecamatan, q.desa, agency);
    if let Some(o) = listing::officer_in_scope(conn, &p, "officer", q.officer)? {
        f.and("x.user_id = ?", [Bind::Text(o)]);
    }
    if let Some(h) = q.household {
        f.and("x.household_id = ?", [Bind::Text(h.to_string())]);
    }
    listing::time_conditions(&mut f, "x.given_at_utc", q.from.as_deref(), q.to.as_deref())?;
    if let Some(k) = q.kind {
        f.and("x.kind = ?", [Bind::Text(k)]);
    }
    if let Some(s) = q.source {
        f.and("x.source = ?", [Bind::Text(s)]);
    }
    if let Some(c) = q.conflicted {
        f.and("x.conflicted = ?", [Bind::Bool(c)]);
    }
    if let Some(v) = q.voided {
        f.and("x.voided = ?", [Bind::Bool(v)]);
    }
    Query::new(Aid, f, &paging, &KEYS, "-given_at")?.answer(conn, paging.format)
}

impl List for Aid {
    type Row = AidRow;
    type Item = AidItem;
    const SOURCE: Source = AID;

    fn position(row: &AidRow, key: &SortKey) -> After {
        let value = match key.name {
            "given_at" => text_key(&row.given_at_utc),
            _ => Some(Bind::Text(row.id.clone())),
        };
        After {
            key: value,
            id: row.id.clone(),
        }
    }

    fn items(&self, _: &mut AnyConnection, rows: Vec<AidRow>) -> Result<Vec<AidItem>, ApiError> {
        Ok(rows
            .into_iter()
            .map(|a| AidItem {
                id: a.id,
                household_id: a.household_id,
                given_at: a.given_at,
                given_at_utc: a.given_at_utc,
                kind: a.kind,
                quantity: a.quantity,
                unit: a.unit,
                value_rupiah: a.value_rupiah,
                source: a.source,
                voided: a.voided,
                conflicted: a.conflicted,
                user_id: a.user_id,
                device_id: a.device_id,
                agency_id: a.agency_id,
            })
            .collect())
    }
}

impl CsvRecord for AidItem {
    fn header() -> Vec<&'static str> {
        vec![
            "id",
            "household_id",
            "given_at",
            "given_at_utc",
            "kind",
            "quantity",
            "unit",
            "value_rupiah",
            "source",
            "voided",
            "conflicted",
            "user_id",
            "device_id",
            "agency_id",
        ]
    }

    fn cells(&self) -> Vec<Cell> {
        vec![
            Cell::Plain(self.id.clone()),
            Cell::Plain(self.household_id.clone()),
            Cell::text(&self.given_at),
            Cell::text(&self.given_at_utc),
            Cell::text(&self.kind),
            Cell::plain(self.quantity),
            Cell::text(&self.unit),
            Cell::plain(self.value_rupiah),
            Cell::text(&self.source),
            Cell::plain(Some(self.voided)),
            Cell::plain(Some(self.conflicted)),
            Cell::text(&self.user_id),
            Cell::text(&self.device_id),
            Cell::text(&self.agency_id),
        ]
    }
}
