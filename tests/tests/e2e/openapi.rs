//! `GET /openapi.json`: the document the server serves is `docs/openapi.json`, and its
//! schemas name the keys the server's answers have.

use std::collections::BTreeSet;

use kampung_sync::auth::Role;
use kampung_sync_tests::*;
use serde_json::Value;
use sync_protocol::DeviceId;
use uuid::Uuid;

kampung_sync_tests::on_both_backends!(
    the_served_document_is_docs_openapi_json,
    answers_have_the_keys_their_schemas_name,
);

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json");

fn the_served_document_is_docs_openapi_json(backend: Backend) {
    let db = TestDb::new(backend);
    let server = TestServer::start(&db);
    let reply = server.send("GET", "/openapi.json", &[], None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.content_type.as_deref(), Some("application/json"));
    let served = reply.body;
    assert!(served["openapi"].as_str().unwrap().starts_with("3."));
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        let mut text = serde_json::to_string_pretty(&served).unwrap();
        text.push('\n');
        std::fs::write(SNAPSHOT, text).unwrap();
        return;
    }
    let kept: Value = std::fs::read_to_string(SNAPSHOT)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    assert!(
        served == kept,
        "docs/openapi.json is not the document the server serves (first difference at {}).\n\
         If the API change is meant, rewrite the file and review its diff:\n\
         UPDATE_OPENAPI=1 cargo test -p kampung-sync-tests --test e2e openapi::",
        first_difference(&served, &kept, String::new())
    );
}

/// The JSON pointer of the first place where `a` and `b` differ.
fn first_difference(a: &Value, b: &Value, at: String) -> String {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let step = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) if p == q => {}
                    (Some(p), Some(q)) => return first_difference(p, q, step),
                    _ => return step,
                }
            }
            at
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .position(|(p, q)| p != q)
            .map_or(at.clone(), |i| {
                first_difference(&x[i], &y[i], format!("{at}/{i}"))
            }),
        _ => at,
    }
}

/// The properties a component schema names (through `allOf` too).
fn properties(doc: &Value, schema: &str) -> BTreeSet<String> {
    let s = &doc["components"]["schemas"][schema];
    let mut keys: BTreeSet<String> = s["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    for part in s["allOf"].as_array().into_iter().flatten() {
        if let Some(name) = part["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
            keys.extend(properties(doc, name));
        }
    }
    keys
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn answers_have_the_keys_their_schemas_name(backend: Backend) {
    let db = TestDb::new(backend);
    let server = TestServer::start(&db);
    let (_, doc) = server.get("/openapi.json", None);

    let (status, health) = server.get("/healthz", None);
    assert_eq!(status, 200);
    assert_eq!(keys(&health), properties(&doc, "Healthy"));

    server.ensure_user("officer-openapi", Role::Officer);
    let device = DeviceId(Uuid::new_v4());
    let (status, tokens) = server.login("officer-openapi", PASSWORD, device);
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(keys(&tokens), properties(&doc, "TokenResponse"));
    assert_eq!(keys(&tokens["user"]), properties(&doc, "UserView"));

    let token = tokens["access_token"].as_str().unwrap();
    let (status, page) = server.get("/v1/sync/pull", Some(token));
    assert_eq!(status, 200, "{page}");
    assert_eq!(keys(&page), properties(&doc, "PullResponse"));

    let (status, error) = server.get("/v1/me", None);
    assert_eq!(status, 401);
    assert_eq!(keys(&error), properties(&doc, "ErrorBody"));
    assert_eq!(keys(&error["error"]), properties(&doc, "WireError"));
}
