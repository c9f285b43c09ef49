//! Every route `routes::configure` registers is an operation of the OpenAPI document, and the
//! document has no operation the server lacks. The routes are read from the source of
//! `configure`, so that adding a `.route(...)` there without its `#[utoipa::path]` fails here.

use std::collections::BTreeSet;

/// `(method, path)` of every `.route("path", web::method()...)` in `configure`, with the
/// prefixes of the `web::scope("...")` it is in.
fn configured_routes() -> BTreeSet<(String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/routes/mod.rs");
    let source = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let start = source
        .find("pub fn configure(")
        .expect("routes/mod.rs has `pub fn configure(`");
    let end = start + source[start..].find("\n}\n").expect("the end of configure");
    let text: String = source[start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();

    let quoted = |from: usize| -> (String, usize) {
        let close = from + text[from..].find('"').expect("a closing quote");
        (text[from..close].to_owned(), close + 1)
    };
    let mut routes = BTreeSet::new();
    // (the parenthesis depth of the `.service(` holding the scope, its prefix)
    let mut scopes: Vec<(i32, String)> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        if let Some(after) = rest.strip_prefix("web::scope(\"") {
            let (prefix, next) = quoted(text.len() - after.len());
            scopes.push((depth, prefix));
            depth += 1;
            i = next;
        } else if let Some(after) = rest.strip_prefix(".route(\"") {
            let (route, next) = quoted(text.len() - after.len());
            let method = text[next..]
                .strip_prefix(",web::")
                .and_then(|m| m.split('(').next())
                .unwrap_or_else(|| panic!("the method of route {route}"));
            let prefix: String = scopes.iter().map(|(_, p)| p.as_str()).collect();
            routes.insert((method.to_owned(), format!("{prefix}{route}")));
            depth += 1;
            i = next;
        } else {
            match rest.as_bytes()[0] {
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    while scopes.last().is_some_and(|(d, _)| *d > depth) {
                        scopes.pop();
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }
    routes
}

#[test]
fn every_configured_route_is_an_operation_of_the_document_and_no_other() {
    let routes = configured_routes();
    assert!(
        routes.contains(&("get".into(), "/v1/sync/pull".into())),
        "the reading of configure missed a scoped route: {routes:?}"
    );
    assert!(routes.contains(&("head".into(), "/healthz".into())));

    let doc = kampung_sync::openapi::document();
    let mut operations = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            operations.insert((method.clone(), path.clone()));
        }
    }
    let undocumented: Vec<_> = routes.difference(&operations).collect();
    assert!(
        undocumented.is_empty(),
        "routes without an operation in the OpenAPI document (see the recipe at the top of \
         server/src/openapi.rs): {undocumented:?}"
    );
    let unserved: Vec<_> = operations.difference(&routes).collect();
    assert!(
        unserved.is_empty(),
        "operations of the document that routes::configure does not register: {unserved:?}"
    );
}
