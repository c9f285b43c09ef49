//! `GET /v1/admin/reports/officers`: each officer's visits and aid in a period, and per
//! device its last sync, its backlog and its clock skew.
//!
//! What the server can know of a device: the last push it received (`devices.last_push_at`;
//! pulls carry their cursor with them and are not recorded, so a device that only pulls
//! looks idle), its backlog as the server holds it (writes refused as out of scope and kept
//! for review, `held_writes`: the officer's work that is in neither the records nor the
//! reports until someone decides), and its clock skew as the operations of the period whose
//! clock was too far ahead (`clock_skew` in their stored result, ordered by the server's
//! clock instead). What a device has not yet pushed is only on the device.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::api::admin_reports::{OfficerDevice, OfficerRow, OfficersQuery, Report};
use crate::api::stored;
use crate::auth::{Caller, Role};
use crate::db::admin_reports as sql;
use crate::db::{self, AnyConnection, agencies};
use crate::error::{ApiError, ErrorCode};
use crate::ids::AgencyId;
use crate::service::authorize;

/// The agency whose officers are reported: the one asked for, which an agency admin may
/// only ask for as their own; an agency admin's own by default; every agency for a regency
/// admin who asks for none.
fn agency_of(
    conn: &mut AnyConnection,
    p: &authorize::Principal,
    asked: Option<&str>,
) -> Result<Option<AgencyId>, ApiError> {
    let own = p.agency_limit()?;
    let Some(asked) = asked else {
        return Ok(own);
    };
    let id: AgencyId = asked.parse().map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidQuery,
            format!("`agency`: `{asked}` is not an agency id"),
        )
    })?;
    match own {
        Some(own) if own != id => Err(ApiError::new(
            ErrorCode::OtherAgency,
            format!("agency {id} is not yours: agency admins see their own agency's officers"),
        )),
        Some(_) => Ok(Some(id)),
        None if p.role == Role::RegencyAdmin && !agencies::exists(conn, id)? => Err(ApiError::new(
            ErrorCode::UnknownAgency,
            format!("no agency {id}"),
        )),
        None => Ok(Some(id)),
    }
}

fn rfc3339(ms: Option<i64>) -> Option<String> {
    ms.and_then(DateTime::<Utc>::from_timestamp_millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// Officer activity within the caller's scope. Visits and aid count for the officer who
/// wrote them, whatever households they belong to now.
pub fn officers_report(
    conn: &mut AnyConnection,
    caller: &Caller,
    q: OfficersQuery,
    now: DateTime<Utc>,
) -> Result<super::Answer<Report<OfficerRow>>, ApiError> {
    let p = authorize::admin(conn, caller)?;
    let csv = super::wants_csv(q.format.as_deref())?;
    let period = super::period(q.from.as_deref(), q.to.as_deref(), now)?;
    let agency = agency_of(conn, &p, q.agency.as_deref())?.map(|a| a.to_string());
    let (from, to) = period.texts();
    let s = sql::officer_statements(
        agency.as_deref(),
        &from,
        &to,
        period.from.timestamp_millis(),
        period.to.timestamp_millis(),
    );
    let (officers, visits, aid, devices) = db::read_tx(conn, |c| {
        Ok::<_, ApiError>((
            sql::officers(c, &s.officers)?,
            sql::activity(c, &s.visits)?,
            sql::activity(c, &s.aid)?,
            sql::officer_devices(c, &s.devices)?,
        ))
    })?;
    let by_user = |rows: Vec<sql::Activity>| -> HashMap<String, (i64, i64)> {
        rows.into_iter()
            .filter_map(|r| Some((r.k?, (r.n, r.m))))
            .collect()
    };
    let (visits, aid) = (by_user(visits), by_user(aid));
    let mut devices_of: HashMap<String, Vec<OfficerDevice>> = HashMap::new();
    for d in devices {
        devices_of
            .entry(d.user_id)
            .or_default()
            .push(OfficerDevice {
                id: stored("device id", &d.id)?,
                last_sync_at: rfc3339(d.last_push_at),
                held_writes: d.held,
                clock_skew_writes: d.skewed,
                revoked: d.revoked,
            });
    }
    let rows = officers
        .into_iter()
        .map(|o| {
            let (v, completed) = visits.get(&o.id).copied().unwrap_or_default();
            let (a, value) = aid.get(&o.id).copied().unwrap_or_default();
            let devices = devices_of.remove(&o.id).unwrap_or_default();
            let last = devices.iter().filter_map(|d| d.last_sync_at.clone()).max();
            Ok(OfficerRow {
                user_id: stored("user id", &o.id)?,
                agency_id: o
                    .agency_id
                    .as_deref()
                    .map(|a| stored("agency id", a))
                    .transpose()?,
                username: o.username,
                display_name: o.display_name,
                active: o.active,
                visits: v,
                completed_visits: completed,
                aid: a,
                aid_value_rupiah: value,
                last_sync_at: last,
                held_writes: devices.iter().map(|d| d.held_writes).sum(),
                clock_skew_writes: devices.iter().map(|d| d.clock_skew_writes).sum(),
                devices,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(super::answer(csv, "officers.csv", &rows, || Report {
        group_by: None,
        from: Some(from),
        to: Some(to),
        rows: rows.clone(),
    }))
}
