//! The request log: one span per request (`tracing-actix-web`) with a request id, the
//! method, the path and the peer address, to which authentication adds the caller; and one
//! `request` line per answered request, inside that span, with the status and the time.
//!
//! The peer is the TCP peer: forwarded headers are not trusted, since anyone can send them.

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use tracing::Span;
use tracing::field::Empty;
use tracing_actix_web::{RequestId, RootSpan, RootSpanBuilder};

use crate::auth::Caller;

/// Header that carries the request id back to the client, for support requests.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Builds the span of each request.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(req: &ServiceRequest) -> Span {
        let request_id = req
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        let peer = req.peer_addr().map(|a| a.ip().to_string());
        tracing::info_span!(
            "request",
            request_id = %request_id,
            method = %req.method(),
            path = %req.path(),
            peer = peer.as_deref().unwrap_or("-"),
            user_id = Empty,
            device_id = Empty,
        )
    }

    fn on_request_end<B: MessageBody>(
        _span: Span,
        _outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
    }
}

/// Names the authenticated caller in the request's span.
pub fn record_caller(req: &actix_web::HttpRequest, caller: &Caller) {
    if let Some(span) = req.extensions().get::<RootSpan>() {
        span.record("user_id", tracing::field::display(caller.user_id));
        span.record("device_id", tracing::field::display(caller.device));
    }
}
