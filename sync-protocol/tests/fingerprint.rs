//! What makes a resent operation a retry (same fingerprint) and what makes it a reused
//! sequence number (another fingerprint): docs/sync-protocol.md, section 5.5.
#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};
use sync_protocol::wire::ReceivedOp;

fn fp(op: Value) -> String {
    ReceivedOp::parse(0, op).unwrap().fingerprint
}

fn base() -> Value {
    json!({
        "seq": 7,
        "collection": "households",
        "record_id": "019ac8e1-0c2a-7b3d-9e4f-5a6b7c8d9e01",
        "kind": "patch",
        "hlc": {"wall_ms": 1_764_300_000_000u64},
        "fields": {"phone": "0812", "welfare_decile": 3}
    })
}

#[test]
fn key_order_whitespace_and_spelled_out_defaults_are_the_same_operation() {
    let reordered: Value = serde_json::from_str(
        r#"{ "fields": {"welfare_decile": 3, "phone": "0812"}, "kind": "patch",
             "hlc": {"counter": 0, "wall_ms": 1764300000000}, "seq": 7,
             "record_id": "019ac8e1-0c2a-7b3d-9e4f-5a6b7c8d9e01", "collection": "households",
             "ctx": {} }"#,
    )
    .unwrap();
    assert_eq!(fp(base()), fp(reordered));
    let mut empty_ctx = base();
    empty_ctx["ctx"] = json!({"vv": {}});
    assert_eq!(fp(base()), fp(empty_ctx));
}

#[test]
fn any_change_of_content_is_another_operation() {
    let mut changes: Vec<Value> = Vec::new();
    for (key, value) in [
        ("op_id", json!("019ac8e1-0c2a-7b3d-9e4f-5a6b7c8d9e02")),
        ("hlc", json!({"wall_ms": 1_764_300_000_001u64})),
        ("ctx", json!({"vv": {"server": 1}})),
        ("kind", json!("put")),
        ("record_id", json!("019ac8e1-0c2a-7b3d-9e4f-5a6b7c8d9e03")),
    ] {
        let mut op = base();
        op[key] = value;
        changes.push(op);
    }
    let mut float = base();
    float["fields"]["welfare_decile"] = json!(3.0);
    changes.push(float);
    let mut edited = base();
    edited["fields"]["phone"] = json!("0813");
    changes.push(edited);
    for op in changes {
        assert_ne!(fp(base()), fp(op.clone()), "{op}");
    }
}

#[test]
fn an_unparsable_operation_is_fingerprinted_as_sent_in_sorted_key_order() {
    let a = json!({"seq": 3, "kind": "frobnicate", "x": [1, {"b": 2, "a": 1}]});
    let b: Value =
        serde_json::from_str(r#"{"x": [1, {"a": 1, "b": 2}], "kind": "frobnicate", "seq": 3}"#)
            .unwrap();
    assert!(ReceivedOp::parse(0, a.clone()).unwrap().op.is_err());
    assert_eq!(fp(a.clone()), fp(b));
    let mut c = a.clone();
    c["x"][0] = json!(2);
    assert_ne!(fp(a), fp(c));
}
