//! The acceptance scenarios of `research/clocks.md` section 7 that concern the merge, at the
//! level of `apply` (and of the in-memory reference server for batch rules).

mod common;

use common::*;
use serde_json::json;
use sync_protocol::batch::StoredResult;
use sync_protocol::memory::MemoryServer;
use sync_protocol::outcome::{Outcome, RejectCode, Status};
use sync_protocol::wire::ReceivedOp;
use sync_protocol::{Context, Hlc, OpKind};

fn conflict_fields(o: &Outcome) -> Vec<String> {
    match o {
        Outcome::Conflict { fields } => fields.clone(),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[test]
fn t1_interleaved_stale_writers_keep_exactly_the_concurrent_values() {
    let mut r = Rec::new();
    let (w1, w2, w3, w4) = (dev(1), dev(2), dev(3), dev(4));
    assert_eq!(r.push(w1, put(1, 0, "a")).outcome, Outcome::Applied);
    assert_eq!(r.dots("head_name"), vec![(1, "a".into())]);
    assert_eq!(
        conflict_fields(&r.push(w3, put(1, 0, "b")).outcome),
        vec!["head_name"]
    );
    assert_eq!(r.dots("head_name"), vec![(1, "a".into()), (2, "b".into())]);
    // W2 had read version 1: `a` (dot 1) is covered and goes; `b` is concurrent.
    assert_eq!(
        conflict_fields(&r.push(w2, put(1, 1, "c")).outcome),
        vec!["head_name"]
    );
    assert_eq!(r.dots("head_name"), vec![(2, "b".into()), (3, "c".into())]);
    // W4 had read version 2: `b` goes, `c` stays.
    assert_eq!(
        conflict_fields(&r.push(w4, put(1, 2, "d")).outcome),
        vec!["head_name"]
    );
    assert_eq!(r.dots("head_name"), vec![(3, "c".into()), (4, "d".into())]);
    assert_eq!(r.live_sorted("head_name"), vec!["c", "d"]);
}

#[test]
fn t1_loop_two_alternating_writers_never_exceed_two_siblings() {
    let mut r = Rec::new();
    r.push(dev(9), put(1, 0, "base"));
    let (a, b) = (dev(1), dev(2));
    let mut seen = [1u64; 2];
    let mut seq = [0u64; 2];
    for round in 0..100u64 {
        let i = usize::from(round % 2 == 1);
        let who = if i == 0 { a } else { b };
        seq[i] += 1;
        // Each writer's value is the union of what it saw plus a new element.
        let mut union: Vec<String> = r
            .live("notes")
            .iter()
            .filter_map(|v| v.as_str())
            .flat_map(|s| s.split(',').map(str::to_owned))
            .filter(|e| !e.is_empty())
            .collect();
        union.push(format!("e{round}"));
        union.sort();
        union.dedup();
        let applied = r.push(
            who,
            patch(seq[i], seen[i], json!({"notes": union.join(",")})),
        );
        seen[i] = applied.dot.expect("written");
        assert!(
            r.live("notes").len() <= 2,
            "round {round}: {:?}",
            r.live("notes")
        );
    }
    assert_eq!(r.live("notes").len(), 2);
    let all: String = r.live_sorted("notes").join(",");
    for round in 0..100 {
        assert!(
            all.split(',').any(|e| e == format!("e{round}")),
            "e{round} lost"
        );
    }
}

#[test]
fn t2_no_false_conflict_from_lost_per_value_causality() {
    let mut r = Rec::new();
    r.push(dev(1), put(1, 0, "v1"));
    r.push(dev(2), put(1, 0, "v2"));
    r.push(dev(3), put(1, 1, "v3"));
    assert_eq!(r.version(), 3);
    assert_eq!(
        r.dots("head_name"),
        vec![(2, "v2".into()), (3, "v3".into())]
    );
}

#[test]
fn t3_an_offline_chain_on_one_device_does_not_conflict_with_itself() {
    let mut r = Rec::new();
    for s in 1..=5 {
        r.push(
            dev(9),
            put(s, r.state.as_ref().map_or(0, |s| s.version), "base"),
        );
    }
    assert_eq!(r.version(), 5);
    let d = dev(1);
    let a = r.push(d, put(10, 5, "d10"));
    assert_eq!((a.outcome, a.dot), (Outcome::Applied, Some(6)));
    let a = r.push(d, put(11, 5, "d11"));
    assert_eq!((a.outcome, a.dot), (Outcome::Applied, Some(7)));
    let a = r.push(d, put(12, 5, "d12"));
    assert_eq!((a.outcome, a.dot), (Outcome::Applied, Some(8)));
    assert_eq!(r.dots("head_name"), vec![(8, "d12".into())]);
    assert!(!r.state().conflicted());
}

#[test]
fn t3_variant_a_concurrent_writer_stays_as_exactly_one_sibling() {
    let mut r = Rec::new();
    for s in 1..=5 {
        r.push(
            dev(9),
            put(s, r.state.as_ref().map_or(0, |s| s.version), "base"),
        );
    }
    let (d, e) = (dev(1), dev(2));
    r.push(e, put(1, 5, "E"));
    r.push(d, put(10, 5, "d10"));
    assert_eq!(
        r.dots("head_name"),
        vec![(6, "E".into()), (7, "d10".into())]
    );
    r.push(d, put(11, 5, "d11"));
    assert_eq!(
        r.dots("head_name"),
        vec![(6, "E".into()), (8, "d11".into())]
    );
    r.push(d, put(12, 5, "d12"));
    assert_eq!(
        r.dots("head_name"),
        vec![(6, "E".into()), (9, "d12".into())]
    );
}

fn at_version_5() -> Rec {
    let mut r = Rec::new();
    for s in 1..=5 {
        let seen = r.state.as_ref().map_or(0, |s| s.version);
        r.push(dev(9), put(s, seen, "base"));
    }
    r
}

#[test]
fn t4_genuine_concurrent_offline_edits_are_both_kept() {
    let mut r = at_version_5();
    let a = r.push(dev(1), put(1, 5, "x"));
    assert_eq!((a.outcome, a.dot), (Outcome::Applied, Some(6)));
    let b = r.push(dev(2), put(1, 5, "y"));
    assert_eq!(b.dot, Some(7));
    assert_eq!(conflict_fields(&b.outcome), vec!["head_name"]);
    assert!(r.state().conflicted());
    assert_eq!(r.dots("head_name"), vec![(6, "x".into()), (7, "y".into())]);
    let view = sync_protocol::wire::RecordView::from(r.state());
    assert!(view.conflicted);
    assert_eq!(view.conflicts["head_name"].len(), 2);
}

#[test]
fn t5_a_skewed_clock_cannot_override_causality() {
    let mut r = at_version_5();
    let mut x = put(1, 5, "x");
    x.hlc = Hlc::at(T0 + 2 * DAY_MS);
    let a = r.push(dev(1), x);
    assert!(a.clock_skew, "two days ahead is flagged");
    assert_eq!(a.dot, Some(6));
    let mut y = put(1, 6, "y");
    y.hlc = Hlc::at(T0);
    let b = r.push(dev(2), y);
    assert_eq!((b.outcome, b.dot), (Outcome::Applied, Some(7)));
    assert_eq!(r.dots("head_name"), vec![(7, "y".into())]);
}

#[test]
fn t10_doomstone_update_after_delete_is_a_conflict_and_a_future_context_counts_as_nothing() {
    // Variant a: the tombstone is kept.
    let mut r = Rec::new();
    for s in 1..=3 {
        let seen = r.state.as_ref().map_or(0, |s| s.version);
        r.push(dev(9), put(s, seen, "v"));
    }
    r.push(dev(8), delete(1, 3));
    assert!(r.state().deleted());
    let z = r.push(dev(1), put(9, 3, "z"));
    assert_eq!(conflict_fields(&z.outcome), vec!["_exists"]);
    assert_eq!(
        r.dots("_exists"),
        vec![(4, "false".into()), (5, "true".into())]
    );
    assert!(
        !r.state().deleted(),
        "delete vs update keeps the record visible"
    );

    // Variant b: purged and recreated, so version 1 again; a context of 3 is from the future.
    let mut r = Rec::new();
    r.push(dev(2), put(1, 0, "new"));
    let z = r.push(dev(1), put(9, 3, "z"));
    assert!(z.stale_context);
    assert_eq!(conflict_fields(&z.outcome), vec!["head_name"]);
    assert_eq!(
        r.dots("head_name"),
        vec![(1, "new".into()), (2, "z".into())]
    );
}

#[test]
fn t11_context_from_an_old_epoch_is_treated_as_having_seen_nothing() {
    let mut r = Rec::new();
    r.env.epoch = epoch(2);
    for s in 1..=10 {
        let mut o = put(s, r.state.as_ref().map_or(0, |s| s.version), "restored");
        o.ctx = Context::seen(epoch(2), r.state.as_ref().map_or(0, |s| s.version));
        r.push(dev(9), o);
    }
    let mut w = put(7, 10, "w");
    w.ctx = Context::seen(epoch(1), 10);
    let a = r.push(dev(1), w);
    assert!(a.stale_context);
    assert_eq!(conflict_fields(&a.outcome), vec!["head_name"]);
    assert_eq!(r.live_sorted("head_name"), vec!["restored", "w"]);
}

#[test]
fn t12_delete_versus_update() {
    let mut r = at_version_5();
    let a = r.push(dev(1), delete(1, 5));
    assert_eq!((a.outcome, a.dot), (Outcome::Applied, Some(6)));
    assert!(r.state().deleted());
    let b = r.push(dev(2), patch(1, 5, json!({"phone": "0812"})));
    assert_eq!(conflict_fields(&b.outcome), vec!["_exists"]);
    assert_eq!(
        r.dots("_exists"),
        vec![(6, "false".into()), (7, "true".into())]
    );
    assert!(!r.state().deleted());
    assert!(r.state().conflicted());

    // 3. A write whose context covers both resolves to a single value.
    let mut keep = r.clone_rec();
    keep.push(dev(3), put(1, 7, "kept"));
    assert_eq!(keep.dots("_exists"), vec![(8, "true".into())]);
    assert!(!keep.state().conflicted());
    let mut del = r.clone_rec();
    del.push(dev(3), delete(1, 7));
    assert_eq!(del.dots("_exists"), vec![(8, "false".into())]);
    assert!(del.state().deleted());

    // 4. An undelete whose context covers the tombstone is a plain apply.
    let mut u = at_version_5();
    u.push(dev(1), delete(1, 5));
    let undelete = u.push(dev(2), patch(1, 6, json!({"phone": "0813"})));
    assert_eq!(undelete.outcome, Outcome::Applied);
    assert!(!u.state().deleted());

    // 5. A covering delete leaves only the tombstone; the record's state is kept.
    let mut d = at_version_5();
    d.push(dev(1), delete(1, 5));
    assert_eq!(d.dots("_exists"), vec![(6, "false".into())]);
    assert_eq!(d.version(), 6);
    assert_eq!(
        d.live("head_name").len(),
        1,
        "fields stay with the tombstone"
    );
}

impl Rec {
    fn clone_rec(&self) -> Rec {
        Rec {
            state: self.state.clone(),
            env: self.env,
        }
    }
}

#[test]
fn t13_concurrent_create_with_a_deterministic_id_becomes_siblings() {
    let mut r = Rec::new();
    let a = r.push(dev(1), put(1, 0, "A"));
    assert_eq!(a.outcome, Outcome::Applied);
    let b = r.push(dev(2), put(1, 0, "B"));
    assert_eq!(conflict_fields(&b.outcome), vec!["head_name"]);
    assert_eq!(r.dots("head_name"), vec![(1, "A".into()), (2, "B".into())]);
}

#[test]
fn t14_different_fields_merge_and_one_field_conflicts_alone() {
    let mut r = at_version_5();
    r.push(dev(1), patch(1, 5, json!({"phone": "0811"})));
    let b = r.push(
        dev(2),
        patch(1, 5, json!({"desa_code": "3510010002", "dusun": "Krajan", "rt": "001", "rw": "002", "address": "Jl. Mawar"})),
    );
    assert_eq!(b.outcome, Outcome::Applied);
    assert!(!r.state().conflicted());
    let f = r.state().fields();
    assert_eq!(f["phone"], "0811");
    assert_eq!(f["dusun"], "Krajan");

    // 2. Both patch phone: only phone conflicts.
    let c = r.push(dev(1), patch(2, 7, json!({"phone": "0822"})));
    assert_eq!(c.outcome, Outcome::Applied);
    let d = r.push(dev(2), patch(2, 7, json!({"phone": "0833"})));
    assert_eq!(conflict_fields(&d.outcome), vec!["phone"]);
    assert_eq!(r.state().conflicted_registers(), vec!["phone"]);

    // A field group conflicts as a unit: a concurrent RT edit and dusun edit cannot combine.
    let mut g = at_version_5();
    let addr = |dusun: &str, rt: &str| json!({"desa_code": "3510010001", "dusun": dusun, "rt": rt, "rw": "001", "address": null});
    g.push(dev(1), patch(1, 5, addr("Krajan", "005")));
    let e = g.push(dev(2), patch(1, 5, addr("Sumberejo", "001")));
    assert_eq!(conflict_fields(&e.outcome), vec!["address"]);
    let values = g.live("rt");
    assert_eq!(values.len(), 2);
    // Each sibling is one whole group as one device wrote it: no mixed combination.
    let reg = &g.state().registers["address"];
    let combos: Vec<(String, String)> = reg
        .siblings
        .iter()
        .map(|s| (s.value["dusun"].to_string(), s.value["rt"].to_string()))
        .collect();
    assert!(combos.contains(&("\"Krajan\"".into(), "\"005\"".into())));
    assert!(combos.contains(&("\"Sumberejo\"".into(), "\"001\"".into())));

    // Touching part of a group is refused rather than guessed.
    let partial = g.push(dev(3), patch(1, 7, json!({"rt": "009"})));
    assert!(
        matches!(partial.outcome, Outcome::Rejected(ref r) if r.code == RejectCode::IncompleteGroup)
    );
}

#[test]
fn t19_arrival_order_does_not_change_the_live_set_or_the_winner() {
    let writes = [
        (dev(1), put(1, 0, "p"), T0 - 300),
        (dev(2), put(1, 0, "q"), T0 - 100),
        (dev(3), put(1, 0, "r"), T0 - 100),
    ];
    let perms = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    let mut outcomes = Vec::new();
    for p in perms {
        let mut r = Rec::new();
        for i in p {
            let (d, mut o, ms) = writes[i].clone();
            o.hlc = Hlc::at(ms);
            r.push(d, o);
        }
        let order: Vec<String> = r.live("head_name").iter().map(|v| v.to_string()).collect();
        outcomes.push((order, r.state().fields()["head_name"].clone()));
    }
    for o in &outcomes {
        assert_eq!(o, &outcomes[0]);
    }
    // Newest stamp first; equal stamps by device id.
    assert_eq!(outcomes[0].0, vec!["\"q\"", "\"r\"", "\"p\""]);
    assert_eq!(outcomes[0].1, "q");
}

#[test]
fn t22_siblings_stay_bounded_by_the_number_of_writers_under_churn() {
    let mut r = Rec::new();
    let devices: Vec<_> = (1..=10).map(dev).collect();
    let mut seen = [0u64; 10];
    let mut seq = [0u64; 10];
    let mut applied = 0u64;
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    for round in 0..1000 {
        for (i, d) in devices.iter().enumerate() {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            seq[i] += 1;
            // Stale contexts: sometimes refresh, mostly keep an old view.
            if rng.is_multiple_of(5) {
                seen[i] = r.state.as_ref().map_or(0, |s| s.version);
            }
            r.push(*d, put(seq[i], seen[i], &format!("{i}-{round}")));
            applied += 1;
        }
        let reg = &r.state().registers["head_name"];
        assert!(reg.siblings.len() <= 10);
        let mut origins: Vec<_> = reg.siblings.iter().map(|s| s.dot.device).collect();
        origins.sort();
        origins.dedup();
        assert_eq!(
            origins.len(),
            reg.siblings.len(),
            "one sibling per origin device"
        );
    }
    assert_eq!(r.version(), applied);
}

// Batch rules on the reference server; the database-backed server runs the same tests.

fn received(ops: Vec<sync_protocol::Operation>) -> Vec<ReceivedOp> {
    ops.into_iter().map(ReceivedOp::from_operation).collect()
}

#[test]
fn t7_retried_batch_is_answered_as_duplicates_with_original_statuses() {
    let mut s = MemoryServer::new(epoch(1));
    let d = dev(1);
    let batch = vec![
        put(1, 0, "a"),
        patch(2, 1, json!({"phone": "1"})),
        op(3, OpKind::Patch, 0, None),
    ];
    let first = s.push(d, &env(), received(batch.clone()));
    let statuses: Vec<_> = first.results.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        vec![Status::Applied, Status::Applied, Status::Rejected]
    );
    assert_eq!(first.acked_seq, 3);
    let version = s.records().next().map(|r| r.version);
    let retry = s.push(d, &env(), received(batch));
    for (a, b) in first.results.iter().zip(&retry.results) {
        assert_eq!(b.status, Status::Duplicate);
        assert_eq!(b.original_status, Some(a.status));
        assert_eq!(b.dot, a.dot);
    }
    assert_eq!(s.records().next().map(|r| r.version), version);
}

#[test]
fn t8_a_gap_applies_nothing_after_it_and_asks_for_a_resend() {
    let mut s = MemoryServer::new(epoch(1));
    let d = dev(1);
    s.push(
        d,
        &env(),
        received(vec![put(1, 0, "a"), put(2, 1, "b"), put(3, 2, "c")]),
    );
    let r = s.push(d, &env(), received(vec![put(5, 3, "e")]));
    assert_eq!(r.resend_from, Some(4));
    assert_eq!(r.acked_seq, 3);
    assert_eq!(r.results[0].status, Status::Gap);
    assert_eq!(s.records().next().map(|r| r.version), Some(3));
    let r = s.push(d, &env(), received(vec![put(4, 3, "d"), put(5, 3, "e")]));
    assert_eq!(r.acked_seq, 5);
    assert!(r.results.iter().all(|x| x.status == Status::Applied));
}

#[test]
fn t9_a_reused_sequence_number_with_new_content_is_refused() {
    let mut s = MemoryServer::new(epoch(1));
    let d = dev(1);
    let ops: Vec<_> = (1..=50).map(|i| put(i, i - 1, &format!("v{i}"))).collect();
    s.push(d, &env(), received(ops));
    let r = s.push(d, &env(), received(vec![put(1, 0, "reinstalled")]));
    assert_eq!(r.results[0].status, Status::SeqReuse);
    assert_eq!(s.seq_reuse_alerts(d), 1);
    assert_eq!(r.acked_seq, 50);
    let heads: Vec<String> = s
        .records()
        .flat_map(|rec| {
            rec.registers["head_name"]
                .siblings
                .iter()
                .map(|x| x.value["head_name"].to_string())
        })
        .collect();
    assert_eq!(heads, vec!["\"v50\""]);
    let _unused: Option<StoredResult> = None;
}

#[test]
fn a_household_naming_an_unknown_desa_is_refused_after_every_other_check_and_blocks_nothing() {
    let mut s = MemoryServer::new(epoch(1)).with_known_desa(["3510010001"]);
    let address = |desa: &str| json!({"desa_code": desa, "dusun": null, "rt": null, "rw": null, "address": null});
    let mut elsewhere = patch(4, 1, address("3510010002"));
    elsewhere.record_id = sync_protocol::RecordId(uuid::Uuid::from_u128(0xBBBB));
    let r = s.push(
        dev(1),
        &env(),
        received(vec![
            put(1, 0, "a"),
            patch(2, 1, address("3510010002")),
            patch(3, 1, address("35100")),
            elsewhere,
            patch(5, 1, json!({"phone": "1"})),
        ]),
    );
    let codes: Vec<_> = r
        .results
        .iter()
        .map(|x| (x.status, x.error.as_ref().map(|e| e.code.clone())))
        .collect();
    let rejected = |c: RejectCode| (Status::Rejected, Some(c.as_str().to_owned()));
    assert_eq!(
        codes,
        vec![
            (Status::Applied, None),
            rejected(RejectCode::UnknownDesa),
            rejected(RejectCode::InvalidValue),
            rejected(RejectCode::RecordNotFound),
            (Status::Applied, None),
        ]
    );
    assert_eq!(r.acked_seq, 5);
    assert_eq!(s.records().map(|x| x.version).collect::<Vec<_>>(), [2]);
}
