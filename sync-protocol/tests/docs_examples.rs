//! The worked examples of docs/sync-protocol.md, section 6, are real output of the reference
//! server: each `PushRequest` block, replayed in order against one `MemoryServer`, must be
//! answered with exactly the `PushResponse` block that follows it.
#![allow(clippy::unwrap_used)]

#[path = "../../tests/src/doc_blocks.rs"]
mod doc_blocks;

use serde_json::{Value, json};
use sync_protocol::memory::MemoryServer;
use sync_protocol::wire::{PushRequest, ReceivedOp};
use sync_protocol::{ApplyEnv, Epoch, Hlc};

const DOC: &str = include_str!("../../docs/sync-protocol.md");

/// The epoch and drift bound that section 6 states.
const EPOCH: &str = "0192f3e1-4b5a-7c6d-8e9f-0a1b2c3d4e5f";
const MAX_DRIFT_MS: u64 = 5 * 60_000;

/// Processes a push as the reference server would when the phone syncs right after its last
/// edit, with a correct clock: the server's now is the latest stamp in the request. (No
/// example has a skewed clock; one that had would need a later now and would say so.)
fn push(server: &mut MemoryServer, request: &Value) -> Value {
    let req: PushRequest = serde_json::from_value(request.clone())
        .unwrap_or_else(|e| panic!("not a PushRequest ({e}): {request}"));
    let now = req
        .ops
        .iter()
        .filter_map(|op| op["hlc"]["wall_ms"].as_u64())
        .max()
        .unwrap_or(0);
    let env = ApplyEnv {
        epoch: server.epoch,
        now: Hlc::at(now),
        max_drift_ms: MAX_DRIFT_MS,
    };
    let ops = req
        .ops
        .into_iter()
        .enumerate()
        .map(|(i, raw)| ReceivedOp::parse(i, raw).unwrap())
        .collect();
    serde_json::to_value(server.push(req.device_id, &env, ops)).unwrap()
}

/// Example (c) says Dewi's patch of `phone` is pushed first and applied as dot 4, "not
/// shown". Its content is what the conflict in (c) lists as her value.
fn dewi_phone_patch() -> Value {
    json!({
        "device_id": "0193a1b2-7c40-7d21-8e3f-4a5b6c7d8e01",
        "ops": [{
            "seq": 3,
            "collection": "households",
            "record_id": "0195b7c2-3d4e-7f50-a1b2-c3d4e5f6a7b8",
            "kind": "patch",
            "ctx": {"epoch": EPOCH, "vv": {"server": 3}},
            "hlc": {"wall_ms": 1_773_194_520_000u64, "counter": 0},
            "fields": {"phone": "081234567890"}
        }]
    })
}

#[test]
fn every_worked_example_of_section_6_is_the_reference_servers_real_output() {
    let examples: Vec<doc_blocks::Block> = doc_blocks::blocks(DOC)
        .into_iter()
        .filter(|b| b.section.starts_with("6. ") && b.lang == "json")
        .collect();
    assert_eq!(
        examples.len() % 2,
        0,
        "section 6 pairs every request with its response"
    );
    let mut server = MemoryServer::new(EPOCH.parse::<Epoch>().unwrap());
    let mut replayed = Vec::new();
    for pair in examples.chunks(2) {
        let (request, response) = (&pair[0], &pair[1]);
        if request.subsection.starts_with("(c)") && !replayed.iter().any(|s| s == "(c)") {
            let unshown = push(&mut server, &dewi_phone_patch());
            assert_eq!(
                (
                    &unshown["results"][0]["status"],
                    &unshown["results"][0]["dot"]
                ),
                (&json!("applied"), &json!(4)),
                "(c) says Dewi's patch is applied as dot 4: {unshown}"
            );
        }
        let sent: Value = serde_json::from_str(&request.text)
            .unwrap_or_else(|e| panic!("line {}: not JSON: {e}", request.line));
        let documented: Value = serde_json::from_str(&response.text)
            .unwrap_or_else(|e| panic!("line {}: not JSON: {e}", response.line));
        let real = push(&mut server, &sent);
        assert_eq!(
            real,
            documented,
            "docs/sync-protocol.md line {}, example {}: the reference server answers\n{}",
            response.line,
            request.subsection,
            serde_json::to_string_pretty(&real).unwrap()
        );
        replayed.push(request.subsection[..3].to_owned());
    }
    for example in ["(a)", "(b)", "(c)", "(d)", "(e)", "(f)", "(g)", "(h)"] {
        assert!(
            replayed.iter().any(|s| s == example),
            "example {example} was not found in section 6"
        );
    }
}
