//! The values of a record's conflicted registers side by side, each with who wrote it, from
//! which device and when: the siblings' dots name their writes in `record_writes`, and their
//! devices name the users.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, SecondsFormat, Utc};
use sync_protocol::{RecordId, RecordState};

use crate::api::conflicts::{ConflictValues, SiblingValue};
use crate::db::{AnyConnection, devices, record_writes, to_i64};
use crate::error::ApiError;

/// Milliseconds since 1970 as RFC 3339 (UTC, milliseconds).
pub(super) fn rfc3339(ms: i64) -> Option<String> {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// For each of `states`, its conflicted registers' values, in display order (the
/// provisional winner first), in a few queries whatever the number of records.
pub(super) fn conflict_values(
    conn: &mut AnyConnection,
    states: &[&RecordState],
) -> Result<HashMap<RecordId, ConflictValues>, ApiError> {
    let mut dots = Vec::new();
    let mut devices_seen = HashSet::new();
    for s in states {
        for r in s.registers.values().filter(|r| r.is_conflicted()) {
            for sib in &r.siblings {
                dots.push((
                    s.id.to_string(),
                    to_i64(sib.dot.server)?,
                    sib.dot.device.to_string(),
                    to_i64(sib.dot.seq)?,
                ));
                devices_seen.insert(sib.dot.device.to_string());
            }
        }
    }
    if dots.is_empty() {
        return Ok(HashMap::new());
    }
    let applied: HashMap<record_writes::Dot, i64> = record_writes::at(conn, &dots)?
        .into_iter()
        .map(|w| ((w.record_id, w.version, w.device_id, w.seq), w.applied_at))
        .collect();
    let ids: Vec<String> = devices_seen.into_iter().collect();
    let owners: HashMap<String, (String, String, String)> = devices::owners_of(conn, &ids)?
        .into_iter()
        .map(|(d, u, name, kind)| (d, (u, name, kind)))
        .collect();
    let mut out = HashMap::with_capacity(states.len());
    for s in states {
        let id = s.id.to_string();
        let mut values = ConflictValues::new();
        for (name, r) in s.registers.iter().filter(|(_, r)| r.is_conflicted()) {
            let listed = r
                .siblings
                .iter()
                .enumerate()
                .map(|(index, sib)| {
                    let owner = owners.get(&sib.dot.device.to_string());
                    let dot = (
                        id.clone(),
                        to_i64(sib.dot.server)?,
                        sib.dot.device.to_string(),
                        to_i64(sib.dot.seq)?,
                    );
                    let at = applied.get(&dot);
                    let (written_at, source) = match at {
                        Some(ms) => (rfc3339(*ms), "server"),
                        None => (
                            i64::try_from(sib.hlc.wall_ms).ok().and_then(rfc3339),
                            "device",
                        ),
                    };
                    Ok(SiblingValue {
                        index,
                        value: sib.value.clone(),
                        dot: sib.dot.server,
                        device_id: sib.dot.device,
                        device_kind: owner.map(|o| o.2.clone()),
                        seq: sib.dot.seq,
                        user_id: owner.map(|o| o.0.clone()),
                        username: owner.map(|o| o.1.clone()),
                        written_at,
                        written_at_source: source.to_owned(),
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            values.insert(name.clone(), listed);
        }
        out.insert(s.id, values);
    }
    Ok(out)
}
