//! Admin consoles served from another origin: CORS for the configured origins only.

use kampung_sync_tests::*;

kampung_sync_tests::on_both_backends!(
    a_preflight_from_an_allowed_origin_is_allowed_for_that_origin,
    a_preflight_from_another_origin_gets_no_allow_origin,
    a_request_from_an_allowed_origin_carries_its_allow_origin,
    without_configured_origins_there_are_no_cors_headers,
);

const CONSOLE: &str = "https://admin.example.go.id";

fn with_console(db: &TestDb) -> TestServer {
    TestServer::start_with(db, |a| {
        a.cors_origins = vec!["http://localhost:5173".into(), CONSOLE.into()];
    })
}

fn preflight(s: &TestServer, origin: &str) -> Reply {
    s.send(
        "OPTIONS",
        "/v1/admin/users",
        &[
            ("Origin".into(), origin.into()),
            ("Access-Control-Request-Method".into(), "POST".into()),
            (
                "Access-Control-Request-Headers".into(),
                "authorization, content-type".into(),
            ),
        ],
        None,
    )
}

fn cors_headers(r: &Reply) -> Vec<&(String, String)> {
    r.headers
        .iter()
        .filter(|(k, _)| k.starts_with("access-control-"))
        .collect()
}

fn a_preflight_from_an_allowed_origin_is_allowed_for_that_origin(b: Backend) {
    let db = TestDb::new(b);
    let s = with_console(&db);
    let r = preflight(&s, CONSOLE);
    assert!((200..300).contains(&r.status), "{r:?}");
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some(CONSOLE),
        "{r:?}"
    );
    let methods = r.header("access-control-allow-methods").unwrap_or_default();
    assert!(methods.contains("POST"), "{r:?}");
    let headers = r
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("content-type"),
        "{r:?}"
    );
    assert_eq!(r.header("access-control-max-age"), Some("3600"), "{r:?}");
}

fn a_preflight_from_another_origin_gets_no_allow_origin(b: Backend) {
    let db = TestDb::new(b);
    let s = with_console(&db);
    let r = preflight(&s, "https://evil.example.com");
    assert_eq!(r.header("access-control-allow-origin"), None, "{r:?}");
}

fn a_request_from_an_allowed_origin_carries_its_allow_origin(b: Backend) {
    let db = TestDb::new(b);
    let s = with_console(&db);
    let r = s.send(
        "GET",
        "/healthz",
        &[("Origin".into(), CONSOLE.into())],
        None,
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some(CONSOLE),
        "{r:?}"
    );
    let exposed = r
        .header("access-control-expose-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(exposed.contains("retry-after"), "{r:?}");
    let other = s.send(
        "GET",
        "/healthz",
        &[("Origin".into(), "https://evil.example.com".into())],
        None,
    );
    assert_eq!(other.status, 200, "{other:?}");
    assert_eq!(
        other.header("access-control-allow-origin"),
        None,
        "{other:?}"
    );
}

fn without_configured_origins_there_are_no_cors_headers(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let r = s.send(
        "GET",
        "/healthz",
        &[("Origin".into(), CONSOLE.into())],
        None,
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert!(cors_headers(&r).is_empty(), "{r:?}");
    let r = preflight(&s, CONSOLE);
    assert!(cors_headers(&r).is_empty(), "{r:?}");
}
