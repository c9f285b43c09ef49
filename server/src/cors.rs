//! Cross-origin access for browser consoles served from another origin
//! (`--cors-origins`). With no origin configured the middleware is left out entirely, so
//! answers carry no CORS header at all.

use actix_cors::Cors;
use actix_web::http::{Method, header};
use actix_web::middleware::Condition;

use crate::request_log::REQUEST_ID_HEADER;

/// One `--cors-origins` entry, as a browser sends it in `Origin`: `scheme://host[:port]`.
pub fn parse_origin(given: &str) -> Result<String, String> {
    let given = given.trim();
    if given == "*" {
        return Err(
            "`*` would let every web site call the API with its visitors' tokens: \
             list the consoles' origins, such as https://admin.example.go.id"
                .to_owned(),
        );
    }
    let url = url::Url::parse(given).map_err(|e| {
        format!("`{given}` is not an origin such as https://admin.example.go.id: {e}")
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!(
            "`{given}` is not an http or https origin such as https://admin.example.go.id"
        ));
    }
    // The serialised origin (no user, path, query or default port; a lowercase host) is
    // what browsers send: any other spelling would never match, and the console would be
    // refused with no clue why.
    let origin = url.origin().ascii_serialization();
    if origin != given {
        return Err(format!(
            "`{given}` is not an origin as browsers send it (scheme, host and port only, no \
             path or trailing slash): write `{origin}`"
        ));
    }
    Ok(origin)
}

/// The CORS layer for `origins`; a no-op when there are none.
pub fn middleware(origins: &[String]) -> Condition<Cors> {
    let cors = origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        // Content-Encoding: the server accepts gzip bodies.
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::CONTENT_ENCODING,
        ])
        // Retry-After tells a console when to try again after a 429 or 503; the request id
        // lets an operator find a failed request in the log.
        .expose_headers([
            header::RETRY_AFTER,
            header::HeaderName::from_static(REQUEST_ID_HEADER),
        ])
        .max_age(3600);
    Condition::new(!origins.is_empty(), cors)
}
