//! One household as a supervisor sees it: its typed row, totals, visits and aid.

use chrono::{DateTime, Utc};
use sync_protocol::RecordId;
use sync_protocol::review::ReviewState;
use sync_protocol::rows;

use crate::api::reports::{AidReport, HouseholdReport, VisitReport};
use crate::api::stored;
use crate::auth::Caller;
use crate::config::ReportingArgs;
use crate::db::reports::{AidFacts, HouseholdFacts, VisitFacts};
use crate::db::{self, AnyConnection, reports};
use crate::error::{ApiError, ErrorCode};
use crate::ids::{AgencyId, DeviceId, UserId};
use crate::service::authorize;
use crate::service::sync::scope_of;

/// Household `id` for an administrator whose scope holds it: a regency admin any, an
/// agency admin those assigned to their agency's officers. Outside the scope it is
/// answered as missing, so that ids cannot be probed across agencies. Whether it is overdue
/// and whether a visit's location is suspect follow `reporting` as of `now`.
pub fn read_household(
    conn: &mut AnyConnection,
    caller: &Caller,
    id: RecordId,
    reporting: ReportingArgs,
    now: DateTime<Utc>,
) -> Result<HouseholdReport, ApiError> {
    let p = authorize::admin(conn, caller)?;
    let id = id.to_string();
    let missing = || {
        ApiError::new(
            ErrorCode::HouseholdNotFound,
            format!("no household {id} you may see"),
        )
    };
    let agency = p.agency_id.map(|a| a.to_string());
    let found = db::read_tx(conn, |c| {
        let scope = scope_of(c, p.role, &p.user_id.to_string(), agency.as_deref(), false)?;
        if !scope.contains(&id) {
            return Ok(None);
        }
        Ok::<_, ApiError>(reports::household(c, &id)?)
    })?
    .ok_or_else(missing)?;
    let mut report = household(found.household, reporting, now);
    report.visits = found
        .visits
        .into_iter()
        .map(|v| visit(v, reporting))
        .collect::<Result<_, _>>()?;
    let mut aid = found
        .aid
        .into_iter()
        .map(|a| {
            let at = a.given_at.as_deref().and_then(rows::utc_instant);
            Ok((at, aid_report(a)?))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    // Offsets differ between devices, so the stored text does not order by time.
    aid.sort_by(|(a, _), (b, _)| b.cmp(a));
    report.aid = aid.into_iter().map(|(_, a)| a).collect();
    Ok(report)
}

fn household(h: HouseholdFacts, reporting: ReportingArgs, now: DateTime<Utc>) -> HouseholdReport {
    HouseholdReport {
        overdue: rows::overdue(
            h.last_completed_visit_at.as_deref(),
            now,
            reporting.overdue_days,
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
        visits: Vec::new(),
        aid: Vec::new(),
    }
}

fn visit(v: VisitFacts, reporting: ReportingArgs) -> Result<VisitReport, ApiError> {
    let (kesehatan_score, pendidikan_score, pangan_score, papan_score, ekonomi_score) = v.scores;
    let (review_state, review_comment, reviewed_at, reviewed_by) = v.review;
    Ok(VisitReport {
        review_state: match review_state {
            None => ReviewState::Received,
            Some(s) => stored("review state", &s)?,
        },
        review_comment,
        reviewed_at,
        reviewed_by: writer::<UserId>("user id", reviewed_by)?,
        amends: v.amends,
        location_suspect: rows::location_suspect(
            v.gps_mock,
            v.distance_m,
            f64::from(reporting.implausible_distance_m),
        ),
        user_id: writer::<UserId>("user id", v.user_id)?,
        device_id: writer::<DeviceId>("device id", v.device_id)?,
        agency_id: writer::<AgencyId>("agency id", v.agency_id)?,
        id: v.id,
        visited_at: v.visited_at,
        outcome: v.outcome,
        kesehatan_score,
        pendidikan_score,
        pangan_score,
        papan_score,
        ekonomi_score,
        gps_lat: v.gps_lat,
        gps_lon: v.gps_lon,
        gps_accuracy_m: v.gps_accuracy_m,
        gps_mock: v.gps_mock,
        // Decimetres: GPS on a phone is good to metres at best, and more digits only suggest
        // a precision the point never had. The flag above uses the stored value.
        distance_m: v.distance_m.map(|d| (d * 10.0).round() / 10.0),
        deleted: v.deleted,
        conflicted: v.conflicted,
    })
}

fn aid_report(a: AidFacts) -> Result<AidReport, ApiError> {
    Ok(AidReport {
        user_id: writer::<UserId>("user id", a.user_id)?,
        device_id: writer::<DeviceId>("device id", a.device_id)?,
        agency_id: writer::<AgencyId>("agency id", a.agency_id)?,
        id: a.id,
        given_at: a.given_at,
        kind: a.kind,
        quantity: a.quantity,
        unit: a.unit,
        value_rupiah: a.value_rupiah,
        source: a.source,
        voided: a.voided,
        conflicted: a.conflicted,
    })
}

fn writer<T: std::str::FromStr>(what: &str, v: Option<String>) -> Result<Option<T>, ApiError> {
    v.map(|v| stored(what, &v)).transpose()
}
