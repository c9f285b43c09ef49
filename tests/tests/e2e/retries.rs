//! Exactly once: retries, gaps and reused sequence numbers (T7, T8, T9).

use kampung_sync_tests::client_transport::{Delivery, HttpClient, Step, fields, household_fields};
use kampung_sync_tests::*;
use serde_json::json;
use sync_protocol::client::{ClientStore, Event};
use sync_protocol::{Collection, Context, Hlc, OpKind, Operation, RecordId};
use uuid::Uuid;

const HOUSEHOLDS: Collection = Collection::Households;

use crate::merge::{assert_both_wait_for_the_lock, hold_record_lock, release};

kampung_sync_tests::on_both_backends!(
    t7_a_lost_response_is_answered_as_duplicates_with_original_statuses,
    t7_a_retry_racing_on_a_second_instance_is_applied_once,
    t7_after_a_crash_the_committed_prefix_is_duplicate_and_the_rest_applies,
    t8_a_gap_applies_nothing_after_it_and_asks_for_a_resend,
    t9_a_reused_sequence_number_with_new_content_is_refused_and_counted,
);

fn t7_a_lost_response_is_answered_as_duplicates_with_original_statuses(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut d = HttpClient::new(&s, "officer-1");
    let r = RecordId(Uuid::now_v7());
    d.client
        .put(HOUSEHOLDS, r, household_fields("Siti Aminah"), now_ms())
        .unwrap();
    d.client
        .patch(HOUSEHOLDS, r, fields(json!({"phone": "081234"})), now_ms())
        .unwrap();
    // What a faulty app could send: the server refuses it, and must refuse it again alike.
    d.client.queue_unchecked(Operation {
        seq: 0,
        op_id: None,
        collection: "households".into(),
        record_id: r,
        kind: OpKind::Patch,
        ctx: Context::default(),
        hlc: Hlc::at(now_ms()),
        fields: Some(fields(json!({"no_such_field": 1}))),
    });
    d.client.start_sync();
    let Step::Push {
        sent: first_body,
        answer: first,
        ..
    } = d.step(&s, Delivery::LoseAnswer)
    else {
        panic!("a sync pushes first")
    };
    assert_eq!(statuses(&first), ["applied", "applied", "rejected"]);
    assert_eq!(first["acked_seq"], 3);
    assert_eq!(
        d.client.outbox().len(),
        3,
        "a lost answer acknowledges nothing"
    );

    let Step::Push {
        sent: retry_body,
        answer: retry,
        ..
    } = d.step(&s, Delivery::Deliver)
    else {
        panic!("a lost push answer is followed by the same push")
    };
    assert_eq!(retry_body, first_body, "the resend is byte for byte");
    assert_eq!(statuses(&retry), ["duplicate", "duplicate", "duplicate"]);
    for (a, b) in first["results"]
        .as_array()
        .unwrap()
        .iter()
        .zip(retry["results"].as_array().unwrap())
    {
        assert_eq!(b["original_status"], a["status"]);
        assert_eq!(b["dot"], a["dot"]);
        assert_eq!(b["error"], a["error"]);
    }
    assert_eq!(
        retry["results"][1]["record"]["version"], 2,
        "nothing applied twice"
    );
    assert!(d.client.outbox().is_empty());
    assert!(
        d.events
            .iter()
            .any(|e| matches!(e, Event::Rejected { seq: 3, code, .. } if code == "unknown_field"))
    );
    d.sync_caught_up(&s);
    let views = d.client.views();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].version, 2);
    assert!(
        views[0].conflicts.is_empty(),
        "a retry never creates a sibling"
    );
}

fn t7_a_retry_racing_on_a_second_instance_is_applied_once(b: Backend) {
    let db = TestDb::new(b);
    let s1 = TestServer::start(&db);
    let s2 = TestServer::start(&db);
    let mut d = Device::new(&s1, "officer-1");
    let r = Uuid::now_v7();
    let seq = d.next_seq();
    d.push_ok(&s1, vec![put_household(seq, r, 0, None, "Siti")]);
    let batch = vec![
        patch_household(d.next_seq(), r, 1, None, json!({"phone": "0811"})),
        patch_household(
            d.next_seq(),
            r,
            2,
            None,
            json!({"notes": "rumah dekat masjid"}),
        ),
    ];
    // Both deliveries are in flight while the record is locked, so they truly overlap.
    let mut lock = db.connect();
    hold_record_lock(&mut lock, b, r);
    let (a, c) = std::thread::scope(|sc| {
        let h1 = sc.spawn(|| d.push(&s1, batch.clone()));
        let h2 = sc.spawn(|| d.push(&s2, batch.clone()));
        assert_both_wait_for_the_lock(&db, &s1, [&h1, &h2]);
        release(&mut lock);
        (h1.join().unwrap(), h2.join().unwrap())
    });
    assert_eq!((a.0, c.0), (200, 200), "{} / {}", a.1, c.1);
    let mut seen = [statuses(&a.1), statuses(&c.1)];
    seen.sort();
    assert_eq!(
        seen,
        [vec!["applied", "applied"], vec!["duplicate", "duplicate"]]
    );
    let pulled = d.pull_all(&s1);
    assert_eq!(
        pulled[0]["version"], 3,
        "each operation applied exactly once"
    );
}

fn t7_after_a_crash_the_committed_prefix_is_duplicate_and_the_rest_applies(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut d = HttpClient::new(&s, "officer-1");
    let r = RecordId(Uuid::now_v7());
    d.client
        .put(HOUSEHOLDS, r, household_fields("Siti"), now_ms())
        .unwrap();
    for phone in ["0811", "0822"] {
        d.client
            .patch(HOUSEHOLDS, r, fields(json!({"phone": phone})), now_ms())
            .unwrap();
    }
    // The server committed #1 and #2, then went down before answering; the app was closed
    // meanwhile, and starts again from what it stored.
    d.client.set_batch_size(2);
    d.client.start_sync();
    let Step::Push { answer, .. } = d.step(&s, Delivery::LoseAnswer) else {
        panic!("a sync pushes first")
    };
    assert_eq!(statuses(&answer), ["applied", "applied"]);
    s.stop();
    let s = TestServer::start(&db);
    d.client = d.store.load().unwrap().unwrap();
    d.client.start_sync();
    let Step::Push { answer: resp, .. } = d.step(&s, Delivery::Deliver) else {
        panic!("a sync pushes first")
    };
    assert_eq!(statuses(&resp), ["duplicate", "duplicate", "applied"]);
    assert_eq!(resp["acked_seq"], 3);
    assert_eq!(resp["results"][2]["record"]["version"], 3);
    assert_eq!(resp["results"][2]["record"]["fields"]["phone"], "0822");
    assert!(d.client.outbox().is_empty());
    assert_eq!(d.client.view(r).unwrap().fields["phone"], "0822");
}

fn t8_a_gap_applies_nothing_after_it_and_asks_for_a_resend(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut d = Device::new(&s, "officer-1");
    let r = Uuid::now_v7();
    let ops: Vec<_> = (1..=5)
        .map(|i| patch_household(i, r, i - 1, None, json!({"notes": format!("catatan {i}")})))
        .collect();
    let mut first = ops[..3].to_vec();
    first[0] = put_household(1, r, 0, None, "Siti");
    d.push_ok(&s, first);
    d.seq = 5;
    let resp = d.push_ok(&s, vec![ops[4].clone()]);
    assert_eq!(statuses(&resp), ["gap"]);
    assert_eq!(resp["resend_from"], 4);
    assert_eq!(resp["acked_seq"], 3);
    assert_eq!(
        d.pull_all(&s)[0]["version"],
        3,
        "nothing after the gap applied"
    );

    let resp = d.push_ok(&s, vec![ops[3].clone(), ops[4].clone()]);
    assert_eq!(statuses(&resp), ["applied", "applied"]);
    assert_eq!(resp["acked_seq"], 5);
    assert!(resp.get("resend_from").is_none());

    // A batch with a hole in the middle: the part before the hole applies.
    let resp = d.push_ok(
        &s,
        vec![
            patch_household(6, r, 5, None, json!({"notes": "6"})),
            patch_household(8, r, 5, None, json!({"notes": "8"})),
        ],
    );
    assert_eq!(statuses(&resp), ["applied", "gap"]);
    assert_eq!(resp["resend_from"], 7);
}

fn t9_a_reused_sequence_number_with_new_content_is_refused_and_counted(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut d = Device::new(&s, "officer-1");
    let r = Uuid::now_v7();
    let mut ops = vec![put_household(d.next_seq(), r, 0, None, "v1")];
    for i in 2..=50 {
        ops.push(patch_household(
            d.next_seq(),
            r,
            i - 1,
            None,
            json!({"notes": format!("v{i}")}),
        ));
    }
    d.push_ok(&s, ops);

    // A reinstall that kept the installation id starts again from 1.
    let resp = d.push_ok(&s, vec![put_household(1, r, 0, None, "reinstalled")]);
    assert_eq!(statuses(&resp), ["seq_reuse"]);
    assert_eq!(resp["results"][0]["error"]["code"], "seq_reuse");
    assert_eq!(resp["acked_seq"], 50);
    let state = d.pull_all(&s);
    assert_eq!(state[0]["fields"]["head_name"], "v1");
    assert_eq!(state[0]["version"], 50);

    // Two tablets imaged from one backup: same id, overlapping numbers, other content.
    let mut tablet_a = Device::new(&s, "officer-1");
    tablet_a.id = d.id;
    tablet_a.token = d.token.clone();
    let mut tablet_b = Device::new(&s, "officer-1");
    tablet_b.id = d.id;
    tablet_b.token = d.token.clone();
    let a = tablet_a.push_ok(
        &s,
        vec![patch_household(51, r, 50, None, json!({"phone": "A"}))],
    );
    assert_eq!(statuses(&a), ["applied"]);
    let b2 = tablet_b.push_ok(
        &s,
        vec![patch_household(51, r, 50, None, json!({"phone": "B"}))],
    );
    assert_eq!(statuses(&b2), ["seq_reuse"]);
    let mut conn = db.connect();
    let alerts = kampung_sync::db::devices::seq_reuse_count(&mut conn, d.id).unwrap();
    assert_eq!(
        alerts, 2,
        "each caught reuse raises the device's alarm count"
    );
    assert_eq!(tablet_b.pull_all(&s)[0]["fields"]["phone"], "A");
}
