//! What makes the seeded data look lived in: households whose phone number the officer and
//! the regency changed at once (open conflicts for the inbox), and households moved to
//! another officer after their history was written (removals, histories that span two
//! officers).

use std::collections::BTreeSet;

use serde_json::{Map, json};
use sync_protocol::{Context, OpKind, Status};

use super::people::People;
use super::records::Home;
use super::writer::{self, Write};
use super::{Built, Plan};
use crate::db::{self, AnyConnection, assignments, meta, users};
use crate::error::ApiError;
use crate::service::admin::hand_over;

/// For `plan.conflicts` households, the officer and the regency admin each set the phone
/// number on top of the same version: the second write becomes a conflict.
pub fn conflicts(
    conn: &mut AnyConnection,
    plan: &Plan,
    people: &People,
    homes: &[Home],
    rng: &mut fastrand::Rng,
    built: &mut Built,
    progress: &mut dyn FnMut(&str),
) -> Result<(), ApiError> {
    let epoch = meta::epoch(conn)?;
    let picked = pick(homes.len(), plan.conflicts, rng);
    let now = u64::try_from(db::now_ms()).unwrap_or(0);
    let phone = |h: &Home, rng: &mut fastrand::Rng| {
        let mut fields = Map::new();
        fields.insert(
            "phone".into(),
            json!(format!("08{:010}", rng.u64(..10_000_000_000))),
        );
        Write {
            collection: "households",
            record_id: h.id,
            kind: OpKind::Patch,
            ctx: Context::seen(epoch, h.version),
            at_ms: now,
            fields,
        }
    };
    let mut by_officer: Vec<Vec<Write>> = (0..people.officers.len()).map(|_| Vec::new()).collect();
    let mut by_admin = Vec::new();
    for &i in &picked {
        let h = &homes[i];
        by_officer[h.officer].push(phone(h, rng));
        by_admin.push(phone(h, rng));
    }
    for (i, writes) in by_officer
        .into_iter()
        .enumerate()
        .filter(|(_, w)| !w.is_empty())
    {
        let scope: BTreeSet<String> = writes.iter().map(|w| w.record_id.to_string()).collect();
        writer::apply(conn, &people.officers[i], Some(&scope), writes)?;
    }
    let results = writer::apply(conn, &people.admin, None, by_admin)?;
    built.conflicts += results
        .iter()
        .filter(|r| r.status == Status::Conflict)
        .count() as u64;
    progress(&format!("conflicts: {} open", built.conflicts));
    Ok(())
}

/// Moves `plan.reassignments` households to the next officer, as an administrator's
/// reassignment does: the old officer's devices get removals, the new one's the history.
pub fn reassignments(
    conn: &mut AnyConnection,
    plan: &Plan,
    people: &People,
    homes: &[Home],
    rng: &mut fastrand::Rng,
    built: &mut Built,
    progress: &mut dyn FnMut(&str),
) -> Result<(), ApiError> {
    if people.officers.len() < 2 {
        return Ok(());
    }
    let admin = people.admin.user_id.to_string();
    let picked = pick(homes.len(), plan.reassignments, rng);
    for chunk in picked.chunks(500) {
        db::write_tx(conn, |c| {
            for &i in chunk {
                let h = &homes[i];
                let next = &people.officers[(h.officer + 1) % people.officers.len()];
                let officer = users::by_id(c, next.user_id)?.ok_or_else(|| {
                    ApiError::internal(format!("officer {} vanished", next.user_id))
                })?;
                let household = h.id.to_string();
                let current = assignments::active_for_household(c, &household)?;
                hand_over(
                    c,
                    &household,
                    current.as_ref(),
                    &officer,
                    "seed: officer moved",
                    Some(&admin),
                )?;
            }
            Ok::<_, ApiError>(())
        })?;
        built.reassignments += chunk.len() as u64;
    }
    progress(&format!("reassignments: {}", built.reassignments));
    Ok(())
}

/// `n` distinct indexes below `len`, in order.
fn pick(len: usize, n: usize, rng: &mut fastrand::Rng) -> Vec<usize> {
    let mut all: Vec<usize> = (0..len).collect();
    rng.shuffle(&mut all);
    all.truncate(n.min(len));
    all.sort_unstable();
    all
}
