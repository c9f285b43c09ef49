//! The reference client through the real server: what two phones see after editing the same
//! household offline, on both backends.

use kampung_sync_tests::client_transport::Step;
use kampung_sync_tests::client_transport::{HttpClient, fields, household_fields};
use kampung_sync_tests::*;
use serde_json::json;
use sync_protocol::client::Event;
use sync_protocol::wire::RecordView;
use sync_protocol::{Collection, RecordId};
use uuid::Uuid;

kampung_sync_tests::on_both_backends!(
    two_phones_patch_one_household_concurrently_and_both_end_with_the_servers_conflict,
    a_cloned_tablet_answered_seq_reuse_goes_on_under_a_new_installation_id,
    after_a_restore_the_phone_re_pushes_its_writes_under_a_new_id_and_pulls_anew,
    a_reassigned_household_leaves_the_old_phone_with_its_edit_held_and_reaches_the_new_one,
);

/// Every record as a fresh device of a regency administrator pulls it: the server's state.
fn server_views(s: &TestServer) -> Vec<RecordView> {
    let mut observer = Device::new(s, "observer");
    let mut views: Vec<RecordView> = observer
        .pull_all(s)
        .into_iter()
        .map(|v| serde_json::from_value(v).unwrap())
        .collect();
    views.sort_by_key(|v| v.id);
    views
}

fn two_phones_patch_one_household_concurrently_and_both_end_with_the_servers_conflict(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut dewi = HttpClient::new(&s, "dewi");
    let mut budi = HttpClient::new(&s, "budi");
    let r = RecordId(Uuid::now_v7());
    let households = Collection::Households;
    dewi.client
        .put(households, r, household_fields("Suparmi"), now_ms())
        .unwrap();
    dewi.sync_caught_up(&s);
    budi.sync_caught_up(&s);
    assert_eq!(budi.client.view(r).unwrap().version, 1);

    // Both offline, both on version 1.
    dewi.client
        .patch(households, r, fields(json!({"phone": "0811"})), now_ms())
        .unwrap();
    budi.client
        .patch(
            households,
            r,
            fields(json!({"phone": "0822"})),
            now_ms() + 1,
        )
        .unwrap();
    assert_eq!(budi.client.view(r).unwrap().fields["phone"], "0822");

    // Budi's token expired while he was away: the client refreshes it and resends.
    budi.expire_token(&s);
    dewi.sync_caught_up(&s);
    budi.sync_caught_up(&s);
    dewi.sync_caught_up(&s);
    assert_eq!(budi.refreshes, 1);
    assert!(
        budi.events.iter().any(|e| *e
            == Event::Conflict {
                record_id: r,
                registers: vec!["phone".into()]
            }),
        "the second push is the one that meets the conflict: {:?}",
        budi.events
    );

    let mut observer = Device::new(&s, "observer");
    let pulled = observer.pull_all(&s);
    let server: RecordView = serde_json::from_value(pulled[0].clone()).unwrap();
    assert_eq!(pulled.len(), 1);
    assert!(server.conflicted);
    assert_eq!(server.version, 3);
    let phones: Vec<_> = server.conflicts["phone"]
        .iter()
        .map(|v| v.value["phone"].clone())
        .collect();
    assert_eq!(phones.len(), 2);
    assert!(phones.contains(&json!("0811")) && phones.contains(&json!("0822")));
    for phone in [&dewi, &budi] {
        assert!(phone.client.outbox().is_empty());
        assert_eq!(
            phone.client.view(r).as_ref(),
            Some(&server),
            "{}",
            phone.user
        );
        assert_eq!(phone.client.views().len(), 1);
    }
}

fn a_cloned_tablet_answered_seq_reuse_goes_on_under_a_new_installation_id(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut dewi = HttpClient::new(&s, "dewi");
    let r = RecordId(Uuid::now_v7());
    let households = Collection::Households;
    dewi.client
        .put(households, r, household_fields("Suparmi"), now_ms())
        .unwrap();
    dewi.sync_caught_up(&s);
    let mut clone = dewi.cloned();
    dewi.client
        .patch(households, r, fields(json!({"phone": "A"})), now_ms())
        .unwrap();
    clone
        .client
        .patch(households, r, fields(json!({"phone": "B"})), now_ms() + 1)
        .unwrap();
    dewi.sync_caught_up(&s);

    let old = clone.client.device_id();
    let steps = clone.sync(&s);
    let Some(Step::Push { answer, .. }) = steps.first() else {
        panic!("a sync pushes first: {steps:?}")
    };
    assert_eq!(statuses(answer), ["seq_reuse"]);
    assert!(matches!(steps[1], Step::NewInstallation(id) if id != old));
    let new = clone.client.device_id();
    assert!(clone.events.contains(&Event::NewInstallation { old, new }));
    assert!(clone.client.outbox().is_empty());
    clone.sync_caught_up(&s);
    dewi.sync_caught_up(&s);

    let server = server_views(&s);
    assert_eq!(server.len(), 1);
    let phones: Vec<_> = server[0].conflicts["phone"]
        .iter()
        .map(|v| (v.device, v.value["phone"].clone()))
        .collect();
    assert_eq!(
        phones.len(),
        2,
        "the clone's edit is kept, under its new id"
    );
    assert!(phones.contains(&(old, json!("A"))) && phones.contains(&(new, json!("B"))));
    for phone in [&dewi, &clone] {
        assert_eq!(phone.client.views(), server);
    }
}

fn after_a_restore_the_phone_re_pushes_its_writes_under_a_new_id_and_pulls_anew(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut dewi = HttpClient::new(&s, "dewi");
    server_views(&s); // the observer signs in before the backup
    let households = Collection::Households;
    let (h1, h2) = (RecordId(Uuid::now_v7()), RecordId(Uuid::now_v7()));
    dewi.client
        .put(households, h1, household_fields("Suparmi"), now_ms())
        .unwrap();
    dewi.sync_caught_up(&s);
    s.stop();
    let backup = db.snapshot();
    let s = TestServer::start(&db);
    dewi.client
        .put(households, h2, household_fields("Sutrisno"), now_ms())
        .unwrap();
    dewi.sync_caught_up(&s);
    s.stop();

    // The backup comes back without household 2, under a new epoch.
    kampung_sync::db::meta::bump_epoch(&mut backup.connect()).unwrap();
    let s = TestServer::start(&backup);
    dewi.client
        .patch(households, h1, fields(json!({"phone": "0857"})), now_ms())
        .unwrap();
    let old = dewi.client.device_id();
    let old_epoch = dewi.client.replica().epoch();
    dewi.sync_caught_up(&s);
    assert_ne!(dewi.client.device_id(), old);
    assert_ne!(dewi.client.replica().epoch(), old_epoch);
    assert!(
        dewi.events
            .iter()
            .any(|e| matches!(e, Event::EpochChanged { .. }))
    );
    assert!(dewi.client.outbox().is_empty());

    let server = server_views(&s);
    assert_eq!(server.len(), 2, "household 2 came back from the phone");
    let by_id = |id| server.iter().find(|v| v.id == id).unwrap();
    assert_eq!(by_id(h2).fields["head_name"], "Sutrisno");
    assert_eq!(by_id(h1).fields["phone"], "0857");
    assert_eq!(dewi.client.views(), server);
}

fn assign(s: &TestServer, admin: &Device, household: RecordId, officer: &str) {
    let (status, body) = s.post(
        "/v1/admin/assignments",
        Some(&admin.token),
        &json!({"household_id": household, "officer_id": officer, "reason": "first visit due"}),
    );
    assert_eq!(status, 200, "{body}");
}

fn a_reassigned_household_leaves_the_old_phone_with_its_edit_held_and_reaches_the_new_one(
    b: Backend,
) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut admin = HttpClient::new(&s, "regency");
    let h = RecordId(Uuid::now_v7());
    let v = RecordId(Uuid::now_v7());
    admin
        .client
        .put(
            Collection::Households,
            h,
            household_fields("Siti"),
            now_ms(),
        )
        .unwrap();
    let visit = json!({"household_id": h, "visited_at": "2026-11-28T09:05:00+07:00",
                       "outcome": "completed"});
    admin
        .client
        .put(Collection::Visits, v, fields(visit), now_ms())
        .unwrap();
    admin.sync_caught_up(&s);
    let admin_device = Device::new(&s, "regency");
    let mut dewi = HttpClient::officer(&s, "dewi");
    let mut budi = HttpClient::officer(&s, "budi");
    budi.sync_caught_up(&s);
    assert!(budi.client.views().is_empty(), "nothing assigned yet");

    assign(&s, &admin_device, h, &dewi.user_id);
    dewi.sync_caught_up(&s);
    assert_eq!(dewi.client.views().len(), 2, "the household with its visit");

    // Offline, Dewi edits; meanwhile the household moves to Budi.
    dewi.client
        .patch(
            Collection::Households,
            h,
            fields(json!({"phone": "0811"})),
            now_ms(),
        )
        .unwrap();
    assign(&s, &admin_device, h, &budi.user_id);
    dewi.sync_caught_up(&s);
    assert!(
        dewi.events.iter().any(
            |e| matches!(e, Event::Rejected { record_id, code, .. } if *record_id == h && code == "out_of_scope")
        ),
        "{:?}",
        dewi.events
    );
    assert!(dewi.client.outbox().is_empty());
    assert!(
        dewi.client.views().is_empty(),
        "the removals dropped both records"
    );

    budi.sync_caught_up(&s);
    let taken = budi.client.views();
    assert_eq!(taken.len(), 2, "the household comes with its history");
    let household = budi.client.view(h).unwrap();
    assert!(
        household.fields["phone"].is_null(),
        "the held edit was not applied"
    );
    assert_eq!(
        taken,
        server_views(&s),
        "Budi's phone equals the server for its records"
    );
}
