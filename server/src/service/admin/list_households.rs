//! `GET /v1/admin/households`: households with their totals and their officer, filtered,
//! sorted and paged, or exported as CSV (with the KK and NIK numbers only for a regency
//! admin who gives a reason, audited).

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sync_protocol::rows;

use super::assign_household::checked_reason;
use crate::api::lists::{Format, HouseholdItem, HouseholdListQuery};
use crate::auth::{Caller, Role};
use crate::config::ReportingArgs;
use crate::db::listing::{After, Bind, Filter, Source};
use crate::db::lists::{HOUSEHOLDS, HouseholdRow};
use crate::db::{self, AnyConnection};
use crate::error::{ApiError, ErrorCode};
use crate::pii::PiiKeys;
use crate::service::csv_export::{Cell, CsvRecord};
use crate::service::listing::{self, List, Listed, Query, SortKey, text_key};
use crate::service::{audit, authorize, identity};

const KEYS: [SortKey; 3] = [
    SortKey::text("head_name", "h.head_name", true),
    SortKey::text("last_completed_visit_at", "h.last_completed_visit_at", true),
    SortKey::ID,
];

/// The households list; with `identity`, the export adds the numbers.
pub struct Households {
    overdue_days: u32,
    now: DateTime<Utc>,
    identity: Option<PiiKeys>,
}

/// Households in the caller's scope: a regency admin's all, an agency admin's those
/// actively assigned to their agency's officers (the scope of `GET /v1/admin/households/{id}`).
pub fn list_households(
    conn: &mut AnyConnection,
    caller: &Caller,
    keys: &PiiKeys,
    q: HouseholdListQuery,
    reporting: ReportingArgs,
    now: DateTime<Utc>,
) -> Result<Listed<Households>, ApiError> {
    let p = authorize::admin(conn, caller)?;
    let paging = q.paging();
    let mut f = Filter::default();
    if let Some(a) = listing::agency_scope(&p, q.agency)? {
        f.and("a.agency_id = ?", [Bind::Text(a)]);
    }
    if let Some(o) = listing::officer_in_scope(conn, &p, "officer", q.officer)? {
        f.and("a.officer_id = ?", [Bind::Text(o)]);
    }
    if let Some(k) = &q.kecamatan {
        f.and("h.kecamatan_code = ?", [Bind::Text(k.clone())]);
    }
    if let Some(d) = &q.desa {
        f.and("h.desa_code = ?", [Bind::Text(d.clone())]);
    }
    let cutoff = rows::utc_text(now - Duration::days(i64::from(reporting.overdue_days)));
    match q.overdue {
        Some(true) => f.and(
            "h.last_completed_visit_at IS NULL OR h.last_completed_visit_at < ?",
            [Bind::Text(cutoff)],
        ),
        Some(false) => f.and("h.last_completed_visit_at >= ?", [Bind::Text(cutoff)]),
        None => {}
    }
    if let Some(c) = q.conflicted {
        f.and("h.conflicted = ?", [Bind::Bool(c)]);
    }
    if let Some(s) = &q.status {
        f.and("h.status = ?", [Bind::Text(s.clone())]);
    }
    f.and("h.deleted = ?", [Bind::Bool(q.deleted.unwrap_or(false))]);
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let pattern = format!("%{}%", like_escaped(&text.to_lowercase()));
        f.and(
            "LOWER(h.head_name) LIKE ? ESCAPE '\\' OR h.registry_id = ?",
            [Bind::Text(pattern), Bind::Text(text.to_owned())],
        );
    }
    let list = Households {
        overdue_days: reporting.overdue_days,
        now,
        identity: None,
    };
    let mut query = Query::new(list, f, &paging, &KEYS, "head_name")?;
    // Last, once everything else is checked: the audit entry says an export happened.
    query.list.identity = identity_export(conn, &p, &q, paging.format, keys)?;
    query.answer(conn, paging.format)
}

/// Whether the export carries the numbers: only asked for, in CSV, by a regency admin with
/// a reason; the audit entry is written before any number is read.
fn identity_export(
    conn: &mut AnyConnection,
    p: &authorize::Principal,
    q: &HouseholdListQuery,
    format: Format,
    keys: &PiiKeys,
) -> Result<Option<PiiKeys>, ApiError> {
    if !q.include_identity.unwrap_or(false) {
        if q.reason.is_some() {
            return Err(ApiError::new(
                ErrorCode::InvalidQuery,
                "`reason`: only with `include_identity=true`",
            ));
        }
        return Ok(None);
    }
    if format != Format::Csv {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "`include_identity`: only with `format=csv`; one household's numbers are at \
             /v1/admin/households/{id}/identity",
        ));
    }
    if p.role != Role::RegencyAdmin {
        return Err(ApiError::forbidden_role());
    }
    let reason = checked_reason(q.reason.as_deref().unwrap_or(""))?.to_owned();
    db::write_tx(conn, |c| {
        audit::append_required(
            c,
            p.actor().action(
                "household_identity_export",
                None,
                serde_json::json!({
                    "reason": reason,
                    "filters": {
                        "kecamatan": q.kecamatan, "desa": q.desa, "agency": q.agency,
                        "officer": q.officer, "overdue": q.overdue, "conflicted": q.conflicted,
                        "status": q.status, "deleted": q.deleted, "q": q.q,
                    },
                }),
            ),
        )
    })?;
    Ok(Some(keys.clone()))
}

/// `%`, `_` and `\` taken literally by `LIKE ... ESCAPE '\'`.
fn like_escaped(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// A household, with its numbers in an export that carries them.
pub struct HouseholdExport {
    item: HouseholdItem,
    numbers: Option<(Option<String>, Option<String>)>,
}

impl serde::Serialize for HouseholdExport {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.item.serialize(s)
    }
}

impl List for Households {
    type Row = HouseholdRow;
    type Item = HouseholdExport;
    const SOURCE: Source = HOUSEHOLDS;

    fn header(&self) -> Vec<&'static str> {
        let mut h = HEADER.to_vec();
        if self.identity.is_some() {
            h.extend(["kk_number", "nik_number"]);
        }
        h
    }

    fn position(row: &HouseholdRow, key: &SortKey) -> After {
        let value = match key.name {
            "head_name" => text_key(&row.head_name),
            "last_completed_visit_at" => text_key(&row.last_completed_visit_at),
            _ => Some(Bind::Text(row.id.clone())),
        };
        After {
            key: value,
            id: row.id.clone(),
        }
    }

    fn items(
        &self,
        conn: &mut AnyConnection,
        rows: Vec<HouseholdRow>,
    ) -> Result<Vec<HouseholdExport>, ApiError> {
        let mut numbers = match &self.identity {
            None => HashMap::new(),
            Some(keys) => {
                let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
                identity::numbers_of_many(conn, keys, &ids)?
            }
        };
        Ok(rows
            .into_iter()
            .map(|h| {
                let n = self.identity.as_ref().map(|_| {
                    numbers
                        .remove(&h.id)
                        .map(|n| {
                            (
                                n.kk.map(|k| k.expose().to_owned()),
                                n.nik.map(|k| k.expose().to_owned()),
                            )
                        })
                        .unwrap_or_default()
                });
                HouseholdExport {
                    numbers: n,
                    item: self.item(h),
                }
            })
            .collect())
    }
}

impl Households {
    fn item(&self, h: HouseholdRow) -> HouseholdItem {
        HouseholdItem {
            overdue: rows::overdue(
                h.last_completed_visit_at.as_deref(),
                self.now,
                self.overdue_days,
            ),
            id: h.id,
            registry_id: h.registry_id,
            registry_source: h.registry_source,
            head_name: h.head_name,
            desa_code: h.desa_code,
            kecamatan_code: h.kecamatan_code,
            welfare_decile: h.welfare_decile,
            home_lat: h.home_lat,
            home_lon: h.home_lon,
            status: h.status,
            deleted: h.deleted,
            conflicted: h.conflicted,
            last_completed_visit_at: h.last_completed_visit_at,
            visit_count: h.visit_count,
            aid_count: h.aid_count,
            aid_value_rupiah: h.aid_value_rupiah,
            officer_id: h.officer_id,
            agency_id: h.agency_id,
        }
    }
}

impl HouseholdExport {
    /// The JSON item.
    pub fn into_item(self) -> HouseholdItem {
        self.item
    }
}

const HEADER: [&str; 19] = [
    "id",
    "registry_id",
    "registry_source",
    "head_name",
    "desa_code",
    "kecamatan_code",
    "welfare_decile",
    "home_lat",
    "home_lon",
    "status",
    "deleted",
    "conflicted",
    "last_completed_visit_at",
    "overdue",
    "visit_count",
    "aid_count",
    "aid_value_rupiah",
    "officer_id",
    "agency_id",
];

impl CsvRecord for HouseholdExport {
    fn header() -> Vec<&'static str> {
        HEADER.to_vec()
    }

    fn cells(&self) -> Vec<Cell> {
        let h = &self.item;
        let mut cells = vec![
            Cell::Plain(h.id.clone()),
            Cell::text(&h.registry_id),
            Cell::text(&h.registry_source),
            Cell::text(&h.head_name),
            Cell::text(&h.desa_code),
            Cell::text(&h.kecamatan_code),
            Cell::plain(h.welfare_decile),
            Cell::plain(h.home_lat),
            Cell::plain(h.home_lon),
            Cell::text(&h.status),
            Cell::plain(Some(h.deleted)),
            Cell::plain(Some(h.conflicted)),
            Cell::text(&h.last_completed_visit_at),
            Cell::plain(Some(h.overdue)),
            Cell::plain(Some(h.visit_count)),
            Cell::plain(Some(h.aid_count)),
            Cell::plain(Some(h.aid_value_rupiah)),
            Cell::text(&h.officer_id),
            Cell::text(&h.agency_id),
        ];
        if let Some((kk, nik)) = &self.numbers {
            cells.push(Cell::text(kk));
            cells.push(Cell::text(nik));
        }
        cells
    }
}
