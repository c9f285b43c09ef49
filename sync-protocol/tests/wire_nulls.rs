//! `null` for an optional key of an operation means the key is absent, and what makes an
//! element of a push `malformed_operation`: docs/sync-protocol.md, section 3.7.
#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};
use sync_protocol::wire::ReceivedOp;

fn delete() -> Value {
    json!({
        "seq": 4,
        "collection": "aid",
        "record_id": "019ac8e2-1a2b-7c3d-8e4f-5a6b7c8d9e03",
        "kind": "delete",
        "ctx": {"vv": {"server": 1}, "epoch": "fa3c8339-5c30-4b45-971a-95ccb8adeb42"},
        "hlc": {"wall_ms": 1_764_300_000_000u64, "counter": 0}
    })
}

fn with(mut op: Value, key: &str, value: Value) -> Value {
    op[key] = value;
    op
}

#[test]
fn null_optional_keys_read_as_absent_and_keep_the_fingerprint() {
    let absent = ReceivedOp::parse(0, delete()).unwrap();
    assert!(absent.op.is_ok());
    let spelled = |op: Value| ReceivedOp::parse(0, op).unwrap();
    let op_id = spelled(with(delete(), "op_id", Value::Null));
    let fields = spelled(with(delete(), "fields", Value::Null));
    let mut counter = delete();
    counter["hlc"]["counter"] = Value::Null;
    let counter = spelled(counter);
    for (what, r) in [
        ("op_id", &op_id),
        ("fields", &fields),
        ("hlc.counter", &counter),
    ] {
        assert!(r.op.is_ok(), "{what}: null is accepted: {:?}", r.op);
        assert_eq!(
            r.fingerprint, absent.fingerprint,
            "{what}: null is the same operation"
        );
    }

    let put = json!({"seq": 1, "collection": "households",
        "record_id": "019ac8e1-0c2a-7b3d-9e4f-5a6b7c8d9e01", "kind": "put",
        "hlc": {"wall_ms": 1_764_300_000_000u64},
        "fields": {"head_name": "Suparmi", "desa_code": "3510010001", "status": "active"}});
    let no_ctx = ReceivedOp::parse(0, put.clone()).unwrap();
    let null_ctx = ReceivedOp::parse(0, with(put.clone(), "ctx", Value::Null)).unwrap();
    let null_vv =
        ReceivedOp::parse(0, with(put, "ctx", json!({"vv": null, "epoch": null}))).unwrap();
    for r in [&null_ctx, &null_vv] {
        assert!(r.op.is_ok(), "{:?}", r.op);
        assert_eq!(r.fingerprint, no_ctx.fingerprint);
    }
}

#[test]
fn malformed_operations_are_the_documented_ones() {
    let mut too_big = delete();
    too_big["hlc"]["counter"] = json!(u64::from(u32::MAX) + 1);
    let mut negative = delete();
    negative["hlc"]["wall_ms"] = json!(-1);
    for (what, op) in [
        ("an unknown kind", with(delete(), "kind", json!("upsert"))),
        ("a counter above 2^32-1", too_big),
        ("a negative wall_ms", negative),
        ("an unknown key", with(delete(), "extra", json!(1))),
        (
            "a record id that is no UUID",
            with(delete(), "record_id", json!("r-1")),
        ),
        ("no hlc", with(delete(), "hlc", Value::Null)),
    ] {
        let r = ReceivedOp::parse(0, op).unwrap();
        assert!(r.op.is_err(), "{what} is malformed");
    }
}
