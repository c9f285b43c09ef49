//! The reference client (`sync_protocol::client`) against the reference server: scenarios
//! of sections 5 and 7 of docs/sync-protocol.md, then random edits on several devices with
//! lost and doubled deliveries, after which every device must equal the server.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::{T0, env, epoch};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use sync_protocol::client::{
    Client, ClientStore, Event, InstallationReason, MemoryClientStore, Refusal, Request,
};
use sync_protocol::memory::MemoryServer;
use sync_protocol::wire::{
    PullResponse, PushRequest, PushResponse, ReceivedOp, RecordView, fingerprint,
};
use sync_protocol::{ApplyEnv, Collection, DeviceId, Epoch, RecordId, Status};
use uuid::Uuid;

/// What happens to one request on its way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    Deliver,
    /// The server never sees it.
    LoseRequest,
    /// The server processes it; the answer is lost.
    LoseAnswer,
    /// The server gets it twice (a proxy retry); the device sees the second answer.
    Duplicate,
}

/// The reference server, with the bookkeeping the checks need.
struct World {
    server: MemoryServer,
    env: ApplyEnv,
    /// Every (device, seq) the server wrote, from the answers it gave.
    written: BTreeSet<(DeviceId, u64)>,
    /// The fingerprint each (device, seq) was first sent with.
    sent: BTreeMap<(DeviceId, u64), String>,
    /// Off for a test of a cloned phone, which does reuse numbers.
    check_resends: bool,
    next_device: u128,
}

impl World {
    fn new(epoch: Epoch) -> Self {
        World {
            server: MemoryServer::new(epoch),
            env: ApplyEnv { epoch, ..env() },
            written: BTreeSet::new(),
            sent: BTreeMap::new(),
            check_resends: true,
            next_device: 0,
        }
    }

    fn new_device(&mut self) -> DeviceId {
        self.next_device += 1;
        DeviceId(Uuid::from_u128(0xD000_0000 + self.next_device))
    }

    fn push(&mut self, body: &str) -> PushResponse {
        let req: PushRequest = serde_json::from_str(body).expect("the client sends a PushRequest");
        let mut ops = Vec::new();
        for (i, raw) in req.ops.into_iter().enumerate() {
            let seq = raw["seq"].as_u64().expect("every op has a seq");
            let print = fingerprint(&raw);
            let first = self
                .sent
                .entry((req.device_id, seq))
                .or_insert(print.clone());
            if self.check_resends {
                assert_eq!(*first, print, "seq {seq} was resent with other content");
            }
            ops.push(ReceivedOp::parse(i, raw).expect("usable seq"));
        }
        let resp = self.server.push(req.device_id, &self.env, ops);
        for r in &resp.results {
            if matches!(r.status, Status::Applied | Status::Conflict) {
                assert!(
                    self.written.insert((req.device_id, r.seq)),
                    "({}, {}) written twice",
                    req.device_id,
                    r.seq
                );
            }
        }
        resp
    }

    fn pull(&self, cursor: Option<&str>) -> PullResponse {
        let from = cursor.map_or(0, |c| c.parse().expect("a cursor of this server"));
        let (changes, to) = self.server.pull(from);
        PullResponse {
            epoch: self.server.epoch,
            changes,
            removals: vec![],
            cursor: to.to_string(),
            has_more: false,
        }
    }

    /// One whole sync of `client`, each request meeting the next fault (then none).
    fn sync(&mut self, client: &mut Client, faults: &[Fault]) {
        let mut faults = faults.iter().copied();
        client.start_sync();
        for _ in 0..500 {
            match client.next_request() {
                Request::Push { body } => match faults.next().unwrap_or(Fault::Deliver) {
                    Fault::LoseRequest => drop(client.on_lost_answer()),
                    Fault::LoseAnswer => {
                        self.push(&body);
                        client.on_lost_answer();
                    }
                    Fault::Duplicate => {
                        self.push(&body);
                        let resp = self.push(&body);
                        client.on_push_response(&resp);
                    }
                    Fault::Deliver => {
                        let resp = self.push(&body);
                        client.on_push_response(&resp);
                    }
                },
                Request::Pull { cursor } => match faults.next().unwrap_or(Fault::Deliver) {
                    Fault::LoseRequest | Fault::LoseAnswer => drop(client.on_lost_answer()),
                    _ => {
                        let page = self.pull(cursor.as_deref());
                        client.on_pull_response(&page);
                    }
                },
                Request::NewInstallation(_) => {
                    let id = self.new_device();
                    client.new_installation(id);
                }
                Request::Done => return,
                Request::Stopped(code) => panic!("sync stopped: {code}"),
            }
        }
        panic!("the sync did not end");
    }

    fn view(&self, id: RecordId) -> Option<RecordView> {
        self.server.record(id).map(RecordView::from)
    }
}

fn rid(n: u128) -> RecordId {
    RecordId(Uuid::from_u128(0xAAAA_0000 + n))
}

fn household(head: &str) -> Map<String, Value> {
    json!({"head_name": head, "desa_code": "3510010001", "status": "active"})
        .as_object()
        .cloned()
        .unwrap_or_default()
}

fn phone(p: &str) -> Map<String, Value> {
    json!({"phone": p}).as_object().cloned().unwrap_or_default()
}

fn assert_equals_server(world: &World, client: &Client) {
    for state in world.server.records() {
        assert_eq!(
            client.view(state.id).as_ref(),
            Some(&RecordView::from(state)),
            "device {} differs from the server",
            client.device_id()
        );
    }
    assert_eq!(client.views().len(), world.server.records().count());
}

#[test]
fn a_sync_pushes_then_pulls_and_the_next_edit_carries_the_pulled_version() {
    let mut world = World::new(epoch(1));
    let mut dewi = Client::new(world.new_device());
    dewi.put(Collection::Households, rid(1), household("Suparmi"), T0)
        .unwrap();
    let pending = dewi.view(rid(1)).unwrap();
    assert_eq!(pending.fields["head_name"], json!("Suparmi"));
    world.sync(&mut dewi, &[]);
    assert!(dewi.outbox().is_empty());
    assert_equals_server(&world, &dewi);
    let ctx = dewi.context_for(rid(1));
    assert_eq!(
        (ctx.epoch, ctx.vv.get(sync_protocol::Actor::Server)),
        (Some(epoch(1)), 1)
    );
    dewi.patch(Collection::Households, rid(1), phone("0857"), T0 + 1)
        .unwrap();
    assert_eq!(dewi.view(rid(1)).unwrap().fields["phone"], json!("0857"));
    world.sync(&mut dewi, &[]);
    assert_equals_server(&world, &dewi);
    assert_eq!(world.view(rid(1)).unwrap().version, 2);
}

#[test]
fn an_edit_the_server_would_refuse_for_its_fields_gets_no_seq() {
    let mut dewi = Client::new(DeviceId(Uuid::from_u128(1)));
    let refused = dewi.put(Collection::Households, rid(1), phone("1"), T0);
    assert!(refused.is_err());
    assert_eq!(dewi.outbox().next_seq(), 1);
}

#[test]
fn a_lost_answer_is_resent_byte_for_byte_and_answered_duplicate() {
    let mut world = World::new(epoch(1));
    let mut dewi = Client::new(world.new_device());
    dewi.put(Collection::Households, rid(1), household("Suparmi"), T0)
        .unwrap();
    dewi.start_sync();
    let Request::Push { body } = dewi.next_request() else {
        panic!("push first")
    };
    world.push(&body);
    let wait = dewi.on_lost_answer();
    assert_eq!(wait, Duration::from_secs(1));
    assert_eq!(dewi.next_request(), Request::Push { body: body.clone() });
    assert_eq!(dewi.on_lost_answer(), Duration::from_secs(2));
    let resp = world.push(&body);
    assert_eq!(resp.results[0].status, Status::Duplicate);
    dewi.on_push_response(&resp);
    assert!(dewi.outbox().is_empty());
    assert!(matches!(
        dewi.next_request(),
        Request::Pull { cursor: None }
    ));
}

#[test]
fn pushes_are_cut_to_the_body_limit_and_an_oversized_operation_goes_alone() {
    let mut world = World::new(epoch(1));
    let mut dewi = Client::new(world.new_device());
    let note = "x".repeat(900);
    for i in 0..10 {
        let mut f = household("Suparmi");
        f.insert("notes".into(), json!(note));
        dewi.put(Collection::Households, rid(i), f, T0).unwrap();
    }
    dewi.set_max_body_bytes(4000);
    dewi.start_sync();
    let mut sizes = Vec::new();
    while let Request::Push { body } = dewi.next_request() {
        assert!(body.len() <= 4000, "{} bytes", body.len());
        let resp = world.push(&body);
        sizes.push(resp.results.len());
        dewi.on_push_response(&resp);
    }
    assert_eq!(
        sizes,
        [3, 3, 3, 1],
        "three operations of about 1,100 bytes fit in 4000"
    );
    assert!(dewi.outbox().is_empty());

    dewi.set_max_body_bytes(100);
    dewi.patch(Collection::Households, rid(1), phone("0857"), T0 + 1)
        .unwrap();
    dewi.patch(Collection::Households, rid(2), phone("0858"), T0 + 1)
        .unwrap();
    dewi.start_sync();
    let Request::Push { body } = dewi.next_request() else {
        panic!("push first")
    };
    assert!(
        body.len() > 100,
        "one operation over the limit is still sent"
    );
    let resp = world.push(&body);
    assert_eq!(resp.results.len(), 1, "and sent alone");
}

#[test]
fn a_retry_waits_at_least_what_retry_after_says_and_the_backoff_still_grows() {
    let mut dewi = Client::new(DeviceId(Uuid::from_u128(1)));
    dewi.put(Collection::Households, rid(1), household("Suparmi"), T0)
        .unwrap();
    dewi.start_sync();
    let first = dewi.next_request();
    assert_eq!(
        dewi.on_refused_after(429, "too_many_requests", Some(Duration::from_secs(7))),
        Refusal::Retry(Duration::from_secs(7)),
        "the server's wait beats the first backoff of 1 s"
    );
    assert_eq!(dewi.next_request(), first, "the same request again");
    assert_eq!(
        dewi.on_refused_after(503, "sign_in_busy", Some(Duration::from_secs(1))),
        Refusal::Retry(Duration::from_secs(2)),
        "a shorter Retry-After never shortens the backoff"
    );
    assert_eq!(
        dewi.on_refused_after(400, "invalid_request", Some(Duration::from_secs(9))),
        Refusal::Stop,
        "Retry-After does not turn a refusal into a retry"
    );
}

#[test]
fn statuses_drop_what_section_5_3_drops_and_report_rejections() {
    let mut world = World::new(epoch(1));
    let mut dewi = Client::new(world.new_device());
    // seq 1 patches a record nobody created: record_not_found.
    dewi.patch(Collection::Households, rid(9), phone("1"), T0)
        .unwrap();
    dewi.put(Collection::Households, rid(1), household("Suparmi"), T0)
        .unwrap();
    world.sync(&mut dewi, &[]);
    assert!(dewi.outbox().is_empty());
    let events = dewi.take_events();
    assert!(matches!(
        &events[..],
        [Event::Rejected { seq: 1, code, .. }] if code == "record_not_found"
    ));
    assert!(
        dewi.view(rid(9)).is_none(),
        "a refused create leaves nothing on screen"
    );
    assert_equals_server(&world, &dewi);
}

#[test]
fn a_gap_resends_from_resend_from_and_one_the_outbox_cannot_fill_needs_a_new_id() {
    let mut world = World::new(epoch(1));
    let mut dewi = Client::new(world.new_device());
    for n in 0..3 {
        dewi.put(
            Collection::Households,
            rid(n),
            household("A"),
            T0 + n as u64,
        )
        .unwrap();
    }
    let batch = dewi.outbox().next_batch(10);
    // Push only seq 2 and 3: the server answers gap from 1.
    let body = dewi.outbox().push_body(&batch[1..]);
    let resp = world.push(&body);
    assert_eq!(resp.resend_from, Some(1));
    dewi.start_sync();
    dewi.on_push_response(&resp);
    assert_eq!(dewi.outbox().len(), 3);
    assert_eq!(dewi.needs_new_installation(), None);
    world.sync(&mut dewi, &[]);
    assert!(dewi.outbox().is_empty());

    let mut outbox = dewi.outbox().clone();
    let forgot = PushResponse {
        epoch: epoch(1),
        acked_seq: 1,
        resend_from: Some(2),
        results: vec![],
    };
    assert_eq!(outbox.acknowledge(&forgot).unresendable_gap, Some(2));
}

#[test]
fn a_cloned_phone_is_answered_seq_reuse_and_goes_on_under_a_new_installation_id() {
    let mut world = World::new(epoch(1));
    let mut dewi = Client::new(world.new_device());
    dewi.put(Collection::Households, rid(1), household("Suparmi"), T0)
        .unwrap();
    world.sync(&mut dewi, &[]);
    let mut clone = dewi.clone();
    world.check_resends = false;
    dewi.patch(Collection::Households, rid(1), phone("111"), T0 + 1)
        .unwrap();
    clone
        .patch(Collection::Households, rid(1), phone("222"), T0 + 2)
        .unwrap();
    world.sync(&mut dewi, &[]);
    let old = clone.device_id();
    clone.start_sync();
    let Request::Push { body } = clone.next_request() else {
        panic!()
    };
    let resp = world.push(&body);
    assert_eq!(resp.results[0].status, Status::SeqReuse);
    clone.on_push_response(&resp);
    assert_eq!(clone.outbox().len(), 1, "the reused op stays");
    assert_eq!(
        clone.next_request(),
        Request::NewInstallation(InstallationReason::SeqReuse)
    );
    world.sync(&mut clone, &[]);
    assert_ne!(clone.device_id(), old);
    assert!(clone.outbox().is_empty());
    assert_eq!(world.server.last_seq(clone.device_id()), 1);
    world.sync(&mut dewi, &[]);
    assert_equals_server(&world, &clone);
    assert_equals_server(&world, &dewi);
    assert!(
        world.view(rid(1)).unwrap().conflicted,
        "both phones' phone values are kept"
    );
}

#[test]
fn after_a_restore_the_device_re_pushes_its_journal_under_a_new_id_and_pulls_anew() {
    let mut world = World::new(epoch(1));
    let mut dewi = Client::new(world.new_device());
    dewi.put(Collection::Households, rid(1), household("Suparmi"), T0)
        .unwrap();
    let visit = json!({"household_id": rid(1), "visited_at": "2026-03-16T09:35:00+07:00",
                       "outcome": "completed"});
    dewi.put(
        Collection::Visits,
        rid(3),
        visit.as_object().cloned().unwrap(),
        T0,
    )
    .unwrap();
    world.sync(&mut dewi, &[]);
    let backup = world.server.clone();
    dewi.put(
        Collection::Households,
        rid(2),
        household("Sutrisno"),
        T0 + 1,
    )
    .unwrap();
    world.sync(&mut dewi, &[]);
    // The restore: the backup comes back under a new epoch, without household 2.
    let mut restored = backup;
    restored.epoch = epoch(2);
    world.server = restored;
    world.env.epoch = epoch(2);
    dewi.patch(Collection::Households, rid(1), phone("0857"), T0 + 2)
        .unwrap();
    let old = dewi.device_id();
    world.sync(&mut dewi, &[]);
    assert_ne!(dewi.device_id(), old);
    assert!(dewi.outbox().is_empty());
    assert_eq!(dewi.replica().epoch(), Some(epoch(2)));
    assert_eq!(
        world.view(rid(2)).unwrap().fields["head_name"],
        json!("Sutrisno")
    );
    assert_eq!(world.view(rid(1)).unwrap().fields["phone"], json!("0857"));
    assert_equals_server(&world, &dewi);
    let events = dewi.take_events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::EpochChanged { new: Some(e2), .. } if *e2 == epoch(2)))
    );
    assert!(
        !events.iter().any(|e| matches!(e, Event::Rejected { .. })),
        "the re-pushed visit the server still has is confirmed, not reported: {events:?}"
    );
    assert_eq!(dewi.view(rid(3)).unwrap().version, 1);
}

#[test]
fn a_resync_required_pull_starts_the_epoch_procedure_and_the_next_answer_names_the_epoch() {
    let mut world = World::new(epoch(1));
    let mut dewi = Client::new(world.new_device());
    dewi.put(Collection::Households, rid(1), household("Suparmi"), T0)
        .unwrap();
    world.sync(&mut dewi, &[]);
    let mut restored = MemoryServer::new(epoch(2));
    std::mem::swap(&mut world.server, &mut restored);
    world.env.epoch = epoch(2);
    dewi.start_sync();
    assert!(matches!(
        dewi.next_request(),
        Request::Pull { cursor: Some(_) }
    ));
    assert_eq!(
        dewi.on_refused(409, "resync_required"),
        Refusal::Retry(Duration::ZERO)
    );
    assert_eq!(
        dewi.next_request(),
        Request::NewInstallation(InstallationReason::EpochChanged)
    );
    world.sync(&mut dewi, &[]);
    assert_eq!(dewi.replica().epoch(), Some(epoch(2)));
    assert_eq!(
        world.view(rid(1)).unwrap().fields["head_name"],
        json!("Suparmi"),
        "the journal brought the household back to an empty database"
    );
    assert_equals_server(&world, &dewi);
}

#[test]
fn request_level_refusals_keep_the_outbox_and_repeat_or_split_the_request() {
    let mut dewi = Client::new(DeviceId(Uuid::from_u128(1)));
    for n in 0..4 {
        dewi.put(
            Collection::Households,
            rid(n),
            household("A"),
            T0 + n as u64,
        )
        .unwrap();
    }
    dewi.start_sync();
    let first = dewi.next_request();
    assert_eq!(dewi.on_refused(401, "token_expired"), Refusal::RefreshToken);
    assert_eq!(dewi.next_request(), first);
    assert!(matches!(
        dewi.on_refused(503, "database_unavailable"),
        Refusal::Retry(_)
    ));
    assert_eq!(dewi.next_request(), first);
    assert!(matches!(
        dewi.on_refused(413, "batch_too_large"),
        Refusal::Retry(_)
    ));
    let Request::Push { body } = dewi.next_request() else {
        panic!()
    };
    let req: PushRequest = serde_json::from_str(&body).unwrap();
    assert_eq!(req.ops.len(), 2, "half the batch");
    assert_eq!(dewi.on_refused(403, "device_revoked"), Refusal::Stop);
    assert_eq!(
        dewi.next_request(),
        Request::Stopped("device_revoked".into())
    );
    assert_eq!(dewi.outbox().len(), 4);
}

#[test]
fn the_store_keeps_each_operations_json_as_it_was_queued() {
    let mut dewi = Client::new(DeviceId(Uuid::from_u128(1)));
    dewi.put(Collection::Households, rid(1), household("Suparmi"), T0)
        .unwrap();
    let mut store = MemoryClientStore::default();
    store.save(&dewi).unwrap();
    let back = store.load().unwrap().unwrap();
    let json = |c: &Client| {
        c.outbox()
            .pending()
            .map(|p| p.json.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(json(&back), json(&dewi));
    assert_eq!(back.outbox().next_seq(), 2);
}

#[derive(Clone, Debug)]
enum Action {
    Put {
        device: usize,
        record: u128,
        head: u8,
    },
    Phone {
        device: usize,
        record: u128,
        phone: u8,
    },
    Delete {
        device: usize,
        record: u128,
    },
    Sync {
        device: usize,
        faults: Vec<Fault>,
    },
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        3 => Just(Fault::Deliver),
        1 => Just(Fault::LoseRequest),
        1 => Just(Fault::LoseAnswer),
        1 => Just(Fault::Duplicate),
    ]
}

const DEVICES: usize = 3;
const RECORDS: u128 = 3;

fn action() -> impl Strategy<Value = Action> {
    let d = 0..DEVICES;
    let r = 0..RECORDS;
    prop_oneof![
        2 => (d.clone(), r.clone(), 0..3u8).prop_map(|(device, record, head)| Action::Put { device, record, head }),
        3 => (d.clone(), r.clone(), 0..3u8).prop_map(|(device, record, phone)| Action::Phone { device, record, phone }),
        1 => (d.clone(), r).prop_map(|(device, record)| Action::Delete { device, record }),
        3 => (d, prop::collection::vec(fault(), 0..4)).prop_map(|(device, faults)| Action::Sync { device, faults }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Whatever the edits and the faults on the way, once every device has synced twice
    /// without faults: every device equals the server, every operation was finished, and
    /// every acknowledged write is on the server exactly once.
    #[test]
    fn devices_converge_on_the_server_and_write_each_operation_once(
        actions in prop::collection::vec(action(), 1..40)
    ) {
        let mut world = World::new(epoch(1));
        let mut devices: Vec<Client> = (0..DEVICES).map(|_| Client::new(world.new_device())).collect();
        let mut now = T0;
        for a in &actions {
            now += 1000;
            match a {
                Action::Put { device, record, head } => {
                    let _ = devices[*device].put(Collection::Households, rid(*record), household(&format!("H{head}")), now);
                }
                Action::Phone { device, record, phone: p } => {
                    let _ = devices[*device].patch(Collection::Households, rid(*record), phone(&format!("08{p}")), now);
                }
                Action::Delete { device, record } => {
                    let _ = devices[*device].delete(Collection::Households, rid(*record), now);
                }
                Action::Sync { device, faults } => world.sync(&mut devices[*device], faults),
            }
        }
        for _ in 0..2 {
            for d in devices.iter_mut() {
                world.sync(d, &[]);
            }
        }
        for d in &devices {
            prop_assert!(d.outbox().is_empty());
            prop_assert_eq!(world.server.last_seq(d.device_id()), d.outbox().next_seq() - 1);
            assert_equals_server(&world, d);
        }
        let versions: u64 = world.server.records().map(|r| r.version).sum();
        prop_assert_eq!(versions, world.written.len() as u64);
    }
}
