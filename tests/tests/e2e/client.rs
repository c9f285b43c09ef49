//! The reference client through the real server: what two phones see after editing the same
//! household offline, on both backends.

use kampung_sync_tests::client_transport::{HttpClient, fields, household_fields};
use kampung_sync_tests::*;
use serde_json::json;
use sync_protocol::client::Event;
use sync_protocol::wire::RecordView;
use sync_protocol::{Collection, RecordId};
use uuid::Uuid;

kampung_sync_tests::on_both_backends!(
    two_phones_patch_one_household_concurrently_and_both_end_with_the_servers_conflict,
);

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
