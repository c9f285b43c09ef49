//! The seeded households, each assigned to an officer, and their visits and aid over the
//! last two years, written by the officer's device.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, FixedOffset, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use sync_protocol::schema::{AID_KINDS, ASPECTS, VISIT_OUTCOMES};
use sync_protocol::{Context, OpKind, RecordId};
use uuid::Uuid;

use super::people::People;
use super::writer::{self, Write};
use super::{Built, Plan};
use crate::db::assignments::{self, NewAssignment};
use crate::db::{self, AnyConnection, areas};
use crate::error::ApiError;

/// A seeded household.
#[derive(Clone, Debug)]
pub struct Home {
    /// Record id.
    pub id: RecordId,
    /// Index of its officer in [`People::officers`].
    pub officer: usize,
    /// Home point.
    pub lat: f64,
    /// Home point.
    pub lon: f64,
    /// Its version once written.
    pub version: u64,
}

const GIVEN: [&str; 12] = [
    "Siti",
    "Sri",
    "Sumarni",
    "Ahmad",
    "Slamet",
    "Budi",
    "Dewi",
    "Wahyuni",
    "Supriyadi",
    "Nur",
    "Hasan",
    "Kusnadi",
];
const FAMILY: [&str; 10] = [
    "Rahayu",
    "Hidayat",
    "Wibowo",
    "Lestari",
    "Santoso",
    "Susanti",
    "Setiawan",
    "Purnomo",
    "Handayani",
    "Prasetyo",
];

/// Writes `plan.households` households as the regency admin and assigns them round-robin
/// to the officers.
pub fn households(
    conn: &mut AnyConnection,
    plan: &Plan,
    people: &People,
    rng: &mut fastrand::Rng,
    built: &mut Built,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<Home>, ApiError> {
    let mut desa: Vec<String> = areas::list(conn, None, None)?
        .into_iter()
        .filter(|a| a.level == "desa" || a.level == "kelurahan")
        .map(|a| a.code)
        .collect();
    desa.sort();
    if desa.is_empty() {
        return Err(ApiError::internal(
            "no desa to put households in".to_owned(),
        ));
    }
    let now = now_ms();
    let mut homes = Vec::with_capacity(plan.households);
    let mut writes = Vec::with_capacity(plan.households);
    for i in 0..plan.households {
        let id = RecordId(Uuid::now_v7());
        let (lat, lon) = (-8.2 - rng.f64() * 0.5, 114.0 + rng.f64() * 0.4);
        let fields = json!({
            "registry_id": format!("3510{:012}", i + 1),
            "registry_source": if rng.u8(..10) < 8 { "dtks" } else { "p3ke" },
            "head_name": format!("{} {}", GIVEN[rng.usize(..GIVEN.len())], FAMILY[rng.usize(..FAMILY.len())]),
            "desa_code": desa[rng.usize(..desa.len())],
            "dusun": format!("Dusun {}", rng.u8(1..6)),
            "rt": format!("{:03}", rng.u8(1..20)),
            "rw": format!("{:03}", rng.u8(1..8)),
            "address": format!("Jl. Kampung {} No. {}", rng.u8(1..40), rng.u16(1..300)),
            "welfare_decile": rng.u8(1..5),
            "home_lat": lat,
            "home_lon": lon,
            "status": if rng.u8(..100) < 95 { "active" } else { "graduated" },
            "phone": format!("08{:010}", rng.u64(..10_000_000_000)),
        });
        writes.push(Write {
            collection: "households",
            record_id: id,
            kind: OpKind::Put,
            ctx: Context::default(),
            at_ms: now,
            fields: object(fields),
        });
        homes.push(Home {
            id,
            officer: i % people.officers.len().max(1),
            lat,
            lon,
            version: 0,
        });
    }
    let mut writes = writes.into_iter().peekable();
    let mut done = 0;
    while writes.peek().is_some() {
        let chunk: Vec<Write> = writes.by_ref().take(writer::BATCH * 20).collect();
        let results = writer::apply(conn, &people.admin, None, chunk)?;
        for (home, r) in homes[done..].iter_mut().zip(&results) {
            home.version = r.dot.unwrap_or(0);
        }
        done += results.len();
        built.records += results.len() as u64;
        progress(&format!("households: {done} of {}", plan.households));
    }
    let admin = people.admin.user_id.to_string();
    for chunk in homes.chunks(5000) {
        db::write_tx(conn, |c| {
            for h in chunk {
                let officer = &people.officers[h.officer];
                assignments::insert(
                    c,
                    &NewAssignment {
                        id: &Uuid::now_v7().to_string(),
                        household_id: &h.id.to_string(),
                        officer_id: &officer.user_id.to_string(),
                        agency_id: officer.agency.map(|a| a.to_string()).as_deref(),
                        starts_at: i64::try_from(now).unwrap_or(0),
                        reason: "seed: fostered household",
                        assigned_by: Some(&admin),
                    },
                )?;
            }
            Ok::<_, ApiError>(())
        })?;
    }
    progress(&format!("assignments: {}", homes.len()));
    Ok(homes)
}

/// Writes `plan.visits` visits and `plan.aid` aid records over the last two years, each by
/// its household's officer, in date order per device, one officer's at a time.
pub fn reports(
    conn: &mut AnyConnection,
    plan: &Plan,
    people: &People,
    homes: &[Home],
    rng: &mut fastrand::Rng,
    built: &mut Built,
    progress: &mut dyn FnMut(&str),
) -> Result<(), ApiError> {
    if homes.is_empty() {
        return Ok(());
    }
    let now = now_ms();
    let mut homes_of: Vec<Vec<&Home>> = (0..people.officers.len()).map(|_| Vec::new()).collect();
    for h in homes {
        homes_of[h.officer].push(h);
    }
    // Planned an officer at a time, so that memory holds one officer's reports, not the
    // programme's: each officer with households gets an even share.
    let busy: Vec<usize> = (0..homes_of.len())
        .filter(|&i| !homes_of[i].is_empty())
        .collect();
    let share = |total: usize, k: usize| total / busy.len() + usize::from(k < total % busy.len());
    let total = plan.visits + plan.aid;
    let mut done = 0usize;
    let mut shown = 0usize;
    for (k, &i) in busy.iter().enumerate() {
        let mine = &homes_of[i];
        let mut writes: Vec<(u64, Write)> = Vec::new();
        for _ in 0..share(plan.visits, k) {
            let h = mine[rng.usize(..mine.len())];
            let at = now - rng.u64(..730 * 86_400_000);
            writes.push((at, visit(h, at, rng)));
        }
        for _ in 0..share(plan.aid, k) {
            let h = mine[rng.usize(..mine.len())];
            let at = now - rng.u64(..730 * 86_400_000);
            writes.push((at, aid(h, at, rng)));
        }
        writes.sort_by_key(|(at, _)| *at);
        let scope: BTreeSet<String> = mine.iter().map(|h| h.id.to_string()).collect();
        let n = writes.len();
        writer::apply(
            conn,
            &people.officers[i],
            Some(&scope),
            writes.into_iter().map(|(_, w)| w).collect(),
        )?;
        built.records += n as u64;
        done += n;
        if done * 20 / total.max(1) > shown {
            shown = done * 20 / total.max(1);
            progress(&format!("visits and aid: {done} of {total}"));
        }
    }
    Ok(())
}

fn visit(h: &Home, at: u64, rng: &mut fastrand::Rng) -> Write {
    let outcome = match rng.u8(..100) {
        0..80 => "completed",
        80..90 => VISIT_OUTCOMES[1],
        90..95 => VISIT_OUTCOMES[2],
        _ => VISIT_OUTCOMES[4],
    };
    let mut f = Map::new();
    f.insert("household_id".into(), json!(h.id));
    f.insert("visited_at".into(), json!(wib(at)));
    f.insert("outcome".into(), json!(outcome));
    if outcome == "completed" {
        for a in ASPECTS {
            f.insert(format!("{a}_score"), json!(rng.u8(1..6)));
        }
        f.insert(
            "next_visit_due".into(),
            json!(wib(at + 30 * 86_400_000)[..10]),
        );
    }
    // Most reports are taken at the door; a few far away or from a mocked location, for
    // the suspicious-location questions.
    let far = rng.u8(..100) < 2;
    let spread = if far { 0.05 } else { 0.0005 };
    f.insert("gps_lat".into(), json!(h.lat + (rng.f64() - 0.5) * spread));
    f.insert("gps_lon".into(), json!(h.lon + (rng.f64() - 0.5) * spread));
    f.insert("gps_accuracy_m".into(), json!(5.0 + rng.f64() * 30.0));
    f.insert("gps_mock".into(), json!(rng.u16(..1000) < 5));
    Write {
        collection: "visits",
        record_id: RecordId(Uuid::now_v7()),
        kind: OpKind::Put,
        ctx: Context::default(),
        at_ms: at,
        fields: f,
    }
}

fn aid(h: &Home, at: u64, rng: &mut fastrand::Rng) -> Write {
    let kind = AID_KINDS[rng.usize(..AID_KINDS.len())];
    let (quantity, unit, value) = match kind {
        "tunai" => (1.0, "paket", 300_000 + 100_000 * rng.i64(0..5)),
        "beras" => (f64::from(rng.u8(5..26)), "kg", 0),
        _ => (f64::from(rng.u8(1..4)), "paket", 50_000 * rng.i64(1..8)),
    };
    let source = ["APBD Banyuwangi", "Baznas", "CSR", "ASN Berbagi"][rng.usize(..4)];
    Write {
        collection: "aid",
        record_id: RecordId(Uuid::now_v7()),
        kind: OpKind::Put,
        ctx: Context::default(),
        at_ms: at,
        fields: object(json!({
            "household_id": h.id,
            "given_at": wib(at),
            "kind": kind,
            "quantity": quantity,
            "unit": unit,
            "value_rupiah": if kind == "beras" { 14_000 * quantity as i64 } else { value },
            "source": source,
        })),
    }
}

/// A time as a Banyuwangi phone writes it: RFC 3339 in WIB (UTC+7).
fn wib(ms: u64) -> String {
    let t: DateTime<Utc> =
        DateTime::UNIX_EPOCH + Duration::milliseconds(i64::try_from(ms).unwrap_or(0));
    match FixedOffset::east_opt(7 * 3600) {
        Some(wib) => t
            .with_timezone(&wib)
            .to_rfc3339_opts(SecondsFormat::Secs, false),
        None => t.to_rfc3339_opts(SecondsFormat::Secs, true),
    }
}

fn now_ms() -> u64 {
    u64::try_from(db::now_ms()).unwrap_or(0)
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
