//! The checks at the end of a run. Over HTTP: every device equals the server for its scope
//! (I7), removed households are gone from the devices that lost them, every acknowledged
//! visit and aid record is on the server exactly once, and old pushes sent again are
//! answered as duplicates. With the database URL as well: every acknowledged write has its
//! one stored result with the dot the device heard, dots are unique and contiguous (I5),
//! live values are exactly the maximal writes of the causal histories the simulator kept
//! (I1-I3), siblings have distinct origins (I4), and the replay of old pushes leaves the
//! database byte for byte as it was (I6).

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use kampung_sync::db::schema::{applied_ops, devices};
use kampung_sync::db::{self, AnyConnection};
use serde_json::Value;
use sync_protocol::outcome::Status;
use sync_protocol::wire::{PushResponse, RecordView};
use sync_protocol::{DeviceId, Epoch, RecordId, RecordState};

use super::ledger::{Ledger, Write};
use super::officer::{Holder, household_of, in_scope};
use super::world::World;

/// How many old pushes the replay sends again.
const REPLAYS: usize = 25;

/// What the checks found.
#[derive(Default)]
pub struct Findings {
    /// Checks run (or skipped, and why).
    pub checks: Vec<String>,
    /// Violations.
    pub violations: Vec<String>,
    /// Records on the server.
    pub records: usize,
}

/// Runs every check on a settled world.
pub fn run(world: &mut World) -> anyhow::Result<Findings> {
    let mut f = Findings::default();
    let Some(auditor) = world.auditor() else {
        anyhow::bail!("the world has not settled");
    };
    let server: BTreeMap<RecordId, RecordView> = auditor
        .client
        .replica()
        .copies()
        .map(|c| (c.view.id, c.view.clone()))
        .collect();
    let epoch = auditor.client.replica().epoch();
    f.records = server.len();
    convergence(world, &server, &mut f);
    created_once(&world.net.ledger, &server, &mut f);
    let url = world.servers.db_url.clone();
    match &url {
        Some(url) => {
            let mut conn = db::connect(url)?;
            stored_results(&mut conn, &world.net.ledger, &server, epoch, &mut f)?;
            replay(world, Some(&mut conn), &mut f)?;
        }
        None => {
            f.checks.push(
                "I1-I5 and the byte-for-byte replay skipped: no database URL (--database-url)"
                    .into(),
            );
            replay(world, None, &mut f)?;
        }
    }
    Ok(f)
}

/// I7 and removals: each device holds exactly the server's records of its scope, as the
/// server has them, and nothing of a household taken from it; its outbox is empty.
fn convergence(world: &World, server: &BTreeMap<RecordId, RecordView>, f: &mut Findings) {
    let owner = &world.net.ledger.owner;
    for d in &world.devices {
        if d.holder == Holder::Regency {
            continue;
        }
        let mut found = Vec::new();
        if !d.client.outbox().is_empty() {
            found.push(format!(
                "I7: {} still has {} operations in its outbox",
                d.label,
                d.client.outbox().len()
            ));
        }
        let expected: BTreeMap<RecordId, &RecordView> = server
            .iter()
            .filter(|(_, v)| household_of(v).is_some_and(|h| in_scope(owner, d.holder, h)))
            .map(|(id, v)| (*id, v))
            .collect();
        let held: BTreeMap<RecordId, &RecordView> = d
            .client
            .replica()
            .copies()
            .map(|c| (c.view.id, &c.view))
            .collect();
        for (id, want) in &expected {
            match held.get(id) {
                None => found.push(format!(
                    "I7: {} lacks {} {id}, which is in its scope",
                    d.label, want.collection
                )),
                Some(got) if got != want => found.push(format!(
                    "I7: {}'s copy of {} {id} differs from the server's (version {} vs {})",
                    d.label, want.collection, got.version, want.version
                )),
                Some(_) => {}
            }
        }
        for (id, got) in &held {
            if expected.contains_key(id) {
                continue;
            }
            let hh = household_of(got);
            if hh.is_some_and(|h| world.net.ledger.taken.contains(&h)) {
                found.push(format!(
                    "removal: {} still holds {} {id} of household {hh:?}, no longer in its scope",
                    d.label, got.collection
                ));
            } else {
                found.push(format!(
                    "I7: {} holds {} {id}, which the server does not have in its scope",
                    d.label, got.collection
                ));
            }
        }
        f.violations.extend(found.into_iter().take(10));
    }
    f.checks.push(format!(
        "I7 convergence and removals over {} devices",
        world.devices.len() - 1
    ));
}

/// Every visit and aid record a device heard accepted is on the server, with its
/// household; and the server has no such record that no device heard accepted.
fn created_once(ledger: &Ledger, server: &BTreeMap<RecordId, RecordView>, f: &mut Findings) {
    // Only this run's households: a server given by address may hold earlier runs'.
    let on_server: BTreeSet<RecordId> = server
        .values()
        .filter(|v| v.collection != "households")
        .filter(|v| household_of(v).is_some_and(|h| ledger.owner.contains_key(&h)))
        .map(|v| v.id)
        .collect();
    for (id, hh) in &ledger.created {
        match server.get(id) {
            None => f.violations.push(format!(
                "exactly once: acknowledged record {id} is not on the server"
            )),
            Some(v) if household_of(v) != Some(*hh) => f.violations.push(format!(
                "exactly once: record {id} is on the server under another household"
            )),
            Some(_) => {}
        }
    }
    for id in on_server.difference(&ledger.created.keys().copied().collect()) {
        f.violations.push(format!(
            "exactly once: the server has record {id}, which no device heard accepted"
        ));
    }
    f.checks.push(format!(
        "exactly once: {} acknowledged visit and aid records",
        ledger.created.len()
    ));
}

/// One stored result: the status as first processed and the dot.
struct Stored {
    status: String,
    dot: Option<u64>,
    record: Option<RecordId>,
}

fn load_results(conn: &mut AnyConnection) -> anyhow::Result<BTreeMap<(DeviceId, u64), Stored>> {
    let rows: Vec<(String, i64, String, String)> = applied_ops::table
        .select((
            applied_ops::device_id,
            applied_ops::seq,
            applied_ops::status,
            applied_ops::result,
        ))
        .load(conn)?;
    let mut out = BTreeMap::new();
    for (device, seq, status, result) in rows {
        let v: Value = serde_json::from_str(&result)?;
        out.insert(
            (DeviceId(device.parse()?), u64::try_from(seq)?),
            Stored {
                status,
                dot: v["dot"].as_u64(),
                record: v["record_id"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .map(RecordId),
            },
        );
    }
    Ok(out)
}

fn status_name(s: Status) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The checks that read the database: acknowledged writes against their stored results,
/// then I1-I5 record by record.
fn stored_results(
    conn: &mut AnyConnection,
    ledger: &Ledger,
    server: &BTreeMap<RecordId, RecordView>,
    epoch: Option<Epoch>,
    f: &mut Findings,
) -> anyhow::Result<()> {
    let results = load_results(conn)?;
    for ((device, seq), heard) in &ledger.acked {
        match results.get(&(*device, *seq)) {
            None => f.violations.push(format!(
                "exactly once: {device}#{seq} was acknowledged, but the server has no result for it"
            )),
            Some(s) if s.status != status_name(heard.status) || s.dot != heard.dot => {
                f.violations.push(format!(
                    "exactly once: {device}#{seq} was heard {:?} dot {:?}, stored {} dot {:?}",
                    heard.status, heard.dot, s.status, s.dot
                ));
            }
            Some(_) => {}
        }
    }
    // The console device is the one whose results are no device's of the simulation.
    let mine: BTreeSet<DeviceId> = ledger.writes.keys().map(|(d, _)| *d).collect();
    let console: BTreeSet<DeviceId> = results
        .keys()
        .map(|(d, _)| *d)
        .filter(|d| !mine.contains(d))
        .collect();
    if console.len() > 1 {
        f.violations.push(format!(
            "the server holds results of {} devices the simulation never ran",
            console.len()
        ));
    }
    let console = console.into_iter().next();
    let write_of = |device: DeviceId, seq: u64| -> Option<&Write> {
        if Some(device) == console {
            ledger.console.get(&seq)
        } else {
            ledger.writes.get(&(device, seq))
        }
    };
    // Per record, its applied writes by dot.
    let mut applied: BTreeMap<RecordId, Vec<(u64, DeviceId, u64)>> = BTreeMap::new();
    for ((device, seq), s) in &results {
        let (Some(dot), Some(record)) = (s.dot, s.record) else {
            continue;
        };
        if write_of(*device, *seq).is_none() {
            f.violations.push(format!(
                "exactly once: the server applied {device}#{seq}, which the simulation never wrote"
            ));
            continue;
        }
        applied
            .entry(record)
            .or_default()
            .push((dot, *device, *seq));
    }
    let ids: Vec<RecordId> = server.keys().copied().collect();
    let states = db::records::load_many(conn, &ids)?;
    for id in &ids {
        let Some(state) = states.get(id) else {
            f.violations
                .push(format!("record {id} was pulled but is not stored"));
            continue;
        };
        let mut writes = applied.remove(id).unwrap_or_default();
        writes.sort();
        check_record(state, &writes, &write_of, epoch, f);
    }
    for id in applied.keys() {
        f.violations.push(format!(
            "record {id} has applied writes but no auditor copy"
        ));
    }
    f.checks.push(format!(
        "stored results of {} acknowledged writes; I1-I5 over {} records",
        ledger.acked.len(),
        ids.len()
    ));
    Ok(())
}

/// I1-I5 for one record: `writes` are its applied writes as `(dot, device, seq)`, by dot.
fn check_record<'a>(
    state: &RecordState,
    writes: &[(u64, DeviceId, u64)],
    write_of: &impl Fn(DeviceId, u64) -> Option<&'a Write>,
    epoch: Option<Epoch>,
    f: &mut Findings,
) {
    let id = state.id;
    let dots: Vec<u64> = writes.iter().map(|w| w.0).collect();
    let expected: Vec<u64> = (1..=state.version).collect();
    if dots != expected {
        f.violations.push(format!(
            "I5 dots: record {id} is at version {} but its writes have dots {dots:?}",
            state.version
        ));
        return;
    }
    // Histories: what each write had seen (every write up to the version in its context,
    // in the same epoch) and its device's earlier writes, with what those had seen.
    let mut history: Vec<BTreeSet<usize>> = Vec::with_capacity(writes.len());
    for (i, &(dot, device, seq)) in writes.iter().enumerate() {
        let Some(w) = write_of(device, seq) else {
            history.push(BTreeSet::new());
            continue;
        };
        let same_epoch = w.epoch.is_none() || w.epoch == epoch;
        let seen = if same_epoch && w.seen < dot {
            w.seen
        } else {
            0
        };
        let mut h: BTreeSet<usize> = (0..i).filter(|&j| writes[j].0 <= seen).collect();
        for j in 0..i {
            if writes[j].1 == device && writes[j].2 < seq {
                h.insert(j);
                h.extend(history[j].iter().copied());
            }
        }
        let closure: Vec<usize> = h.iter().flat_map(|&j| history[j].iter().copied()).collect();
        h.extend(closure);
        history.push(h);
    }
    let mut touching: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, &(_, device, seq)) in writes.iter().enumerate() {
        if let Some(w) = write_of(device, seq) {
            for reg in w.registers.keys() {
                touching.entry(reg).or_default().push(i);
            }
        }
    }
    let registers: BTreeSet<&str> = touching
        .keys()
        .copied()
        .chain(state.registers.keys().map(String::as_str))
        .collect();
    for reg in registers {
        let ws = touching.get(reg).cloned().unwrap_or_default();
        let live: BTreeSet<(DeviceId, u64)> = ws
            .iter()
            .filter(|&&i| !ws.iter().any(|&j| j != i && history[j].contains(&i)))
            .map(|&i| (writes[i].1, writes[i].2))
            .collect();
        let siblings = state
            .registers
            .get(reg)
            .map(|r| r.siblings.as_slice())
            .unwrap_or(&[]);
        let kept: BTreeSet<(DeviceId, u64)> =
            siblings.iter().map(|s| (s.dot.device, s.dot.seq)).collect();
        if let Some(w) = live.difference(&kept).next() {
            f.violations.push(format!(
                "I1 lost update / I2 false dominance: record {id} `{reg}`: {}#{} is in no other \
                 write's causal history, but the server dropped it (oracle {live:?}, server {kept:?})",
                w.0, w.1
            ));
        }
        if let Some(w) = kept.difference(&live).next() {
            f.violations.push(format!(
                "I3 precision: record {id} `{reg}`: the server keeps {}#{}, which another live \
                 write had seen or which never wrote there (oracle {live:?}, server {kept:?})",
                w.0, w.1
            ));
        }
        let origins: BTreeSet<DeviceId> = siblings.iter().map(|s| s.dot.device).collect();
        if origins.len() != siblings.len() {
            f.violations.push(format!(
                "I4 bound: record {id} `{reg}` has two live siblings of one device"
            ));
        }
        for s in siblings {
            let want = write_of(s.dot.device, s.dot.seq).and_then(|w| w.registers.get(reg));
            if want.is_some_and(|v| *v != s.value) {
                f.violations.push(format!(
                    "value: record {id} `{reg}` holds {} for {}#{}, which wrote {}",
                    s.value,
                    s.dot.device,
                    s.dot.seq,
                    want.map(Value::to_string).unwrap_or_default()
                ));
            }
        }
    }
}

/// The database as the merge and the exactly-once rules see it: every record's state, every
/// stored result, every device's watermark.
fn dump(conn: &mut AnyConnection) -> anyhow::Result<String> {
    let ids: Vec<String> = kampung_sync::db::schema::records::table
        .select(kampung_sync::db::schema::records::id)
        .order(kampung_sync::db::schema::records::id)
        .load(conn)?;
    let ids: Vec<RecordId> = ids
        .iter()
        .filter_map(|s| s.parse().ok())
        .map(RecordId)
        .collect();
    let states = db::records::load_many(conn, &ids)?;
    let mut out = String::new();
    for id in &ids {
        if let Some(s) = states.get(id) {
            out.push_str(&serde_json::to_string(s)?);
            out.push('\n');
        }
    }
    let results: Vec<(String, i64, String, String)> = applied_ops::table
        .select((
            applied_ops::device_id,
            applied_ops::seq,
            applied_ops::status,
            applied_ops::result,
        ))
        .order((applied_ops::device_id, applied_ops::seq))
        .load(conn)?;
    for r in results {
        out.push_str(&format!("{r:?}\n"));
    }
    let marks: Vec<(String, i64)> = devices::table
        .select((devices::id, devices::last_seq))
        .order(devices::id)
        .load(conn)?;
    for m in marks {
        out.push_str(&format!("{m:?}\n"));
    }
    Ok(out)
}

/// I6: old pushes sent again are answered `duplicate` with their first dots, and (with the
/// database) leave it exactly as it was.
fn replay(
    world: &mut World,
    conn: Option<&mut AnyConnection>,
    f: &mut Findings,
) -> anyhow::Result<()> {
    let mut conn = conn;
    let before = match conn.as_deref_mut() {
        Some(c) => Some(dump(c)?),
        None => None,
    };
    let pushes = world.net.ledger.pushes.clone();
    let mut sent = 0;
    for _ in 0..REPLAYS.min(pushes.len()) {
        let (device, body) = &pushes[world.net.rng.usize(..pushes.len())];
        let Some((status, answer)) = world.resend(*device, body) else {
            continue;
        };
        sent += 1;
        if status != 200 {
            f.violations.push(format!(
                "I6: an old push sent again was answered {status}: {answer}"
            ));
            continue;
        }
        let resp: PushResponse = serde_json::from_value(answer)?;
        let id = world.devices[*device].client.device_id();
        for r in &resp.results {
            let first = world.net.ledger.acked.get(&(id, r.seq));
            let ok = r.status == Status::Duplicate && first.is_none_or(|h| h.dot == r.dot);
            if !ok {
                f.violations.push(format!(
                    "I6: {}#{} sent again was answered {:?} dot {:?} (first {first:?})",
                    id, r.seq, r.status, r.dot
                ));
            }
        }
    }
    if let (Some(c), Some(before)) = (conn, before) {
        let after = dump(c)?;
        if after != before {
            f.violations
                .push("I6 idempotency: sending old pushes again changed the database".into());
        }
        f.checks.push(format!(
            "I6: {sent} old pushes sent again, database unchanged"
        ));
    } else {
        f.checks.push(format!(
            "I6: {sent} old pushes sent again, answered as duplicates"
        ));
    }
    Ok(())
}

/// The highest change position `(xid, seq)` of any live record; `None` when there is none.
pub fn head_position(url: &str) -> anyhow::Result<Option<(i64, i64)>> {
    use kampung_sync::db::schema::records;
    let head: Option<(i64, i64)> = records::table
        .filter(records::version.gt(0))
        .order((records::change_xid.desc(), records::change_seq.desc()))
        .select((records::change_xid, records::change_seq))
        .first(&mut db::connect(url)?)
        .optional()?;
    Ok(head)
}

#[cfg(test)]
mod tests {
    //! The oracle of I1-I5 must be able to fail: a server state that drops a live write, keeps
    //! a superseded one or reuses a dot is reported, under the right invariant.

    use serde_json::json;
    use sync_protocol::state::{EXISTS, Register, Sibling};
    use sync_protocol::wire::OpKind;
    use sync_protocol::{Collection, Dot, Hlc};
    use uuid::Uuid;

    use super::*;

    const A: DeviceId = DeviceId(Uuid::from_u128(0xA));
    const B: DeviceId = DeviceId(Uuid::from_u128(0xB));

    fn write(kind: OpKind, phone: &str, seen: u64) -> Write {
        let mut registers = BTreeMap::new();
        registers.insert("phone".to_owned(), json!({"phone": phone}));
        registers.insert(EXISTS.to_owned(), json!(true));
        Write {
            record: RecordId(Uuid::from_u128(1)),
            kind,
            registers,
            seen,
            epoch: None,
        }
    }

    type Writes = BTreeMap<(DeviceId, u64), Write>;

    /// A#1 puts (dot 1); B#1, having seen it, patches (dot 2); A#2, having seen only dot 1,
    /// patches too (dot 3): B#1 and A#2 are concurrent, A#1 is superseded everywhere.
    fn history() -> (Writes, Vec<(u64, DeviceId, u64)>) {
        let mut w = BTreeMap::new();
        w.insert((A, 1), write(OpKind::Put, "0811", 0));
        w.insert((B, 1), write(OpKind::Patch, "0812", 1));
        w.insert((A, 2), write(OpKind::Patch, "0813", 1));
        (w, vec![(1, A, 1), (2, B, 1), (3, A, 2)])
    }

    fn sibling(dot: u64, device: DeviceId, seq: u64, value: Value) -> Sibling {
        Sibling {
            dot: Dot {
                server: dot,
                device,
                seq,
            },
            hlc: Hlc::default(),
            order_hlc: Hlc::default(),
            clock_skew: false,
            value,
        }
    }

    fn state(phone: Vec<Sibling>, exists: Vec<Sibling>, version: u64) -> RecordState {
        let mut registers = BTreeMap::new();
        registers.insert("phone".to_owned(), Register { siblings: phone });
        registers.insert(EXISTS.to_owned(), Register { siblings: exists });
        RecordState {
            id: RecordId(Uuid::from_u128(1)),
            collection: Collection::Households,
            version,
            registers,
        }
    }

    fn verdict(s: &RecordState, dots: &[(u64, DeviceId, u64)]) -> Vec<String> {
        let (w, _) = history();
        let mut f = Findings::default();
        check_record(s, dots, &|d, q| w.get(&(d, q)), None, &mut f);
        f.violations
    }

    fn live() -> (Vec<Sibling>, Vec<Sibling>) {
        (
            vec![
                sibling(2, B, 1, json!({"phone": "0812"})),
                sibling(3, A, 2, json!({"phone": "0813"})),
            ],
            vec![sibling(2, B, 1, json!(true)), sibling(3, A, 2, json!(true))],
        )
    }

    #[test]
    fn the_maximal_writes_pass() {
        let (phone, exists) = live();
        let (_, dots) = history();
        assert_eq!(
            verdict(&state(phone, exists, 3), &dots),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_dropped_concurrent_write_is_a_lost_update() {
        let (mut phone, exists) = live();
        phone.pop();
        let (_, dots) = history();
        let v = verdict(&state(phone, exists, 3), &dots);
        assert!(v.iter().any(|e| e.starts_with("I1")), "{v:?}");
    }

    #[test]
    fn a_superseded_write_kept_is_imprecise() {
        let (mut phone, exists) = live();
        phone.push(sibling(1, A, 1, json!({"phone": "0811"})));
        let (_, dots) = history();
        let v = verdict(&state(phone, exists, 3), &dots);
        assert!(v.iter().any(|e| e.starts_with("I3")), "{v:?}");
        assert!(v.iter().any(|e| e.starts_with("I4")), "two of A's: {v:?}");
    }

    #[test]
    fn a_dot_given_twice_is_reported() {
        let (phone, exists) = live();
        let v = verdict(&state(phone, exists, 3), &[(1, A, 1), (2, B, 1), (2, A, 2)]);
        assert!(v.iter().any(|e| e.starts_with("I5")), "{v:?}");
    }

    #[test]
    fn a_value_other_than_the_one_written_is_reported() {
        let (mut phone, exists) = live();
        phone[0].value = json!({"phone": "0899"});
        let (_, dots) = history();
        let v = verdict(&state(phone, exists, 3), &dots);
        assert!(v.iter().any(|e| e.starts_with("value")), "{v:?}");
    }
}
