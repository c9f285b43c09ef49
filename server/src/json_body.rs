//! JSON request bodies: read within the body limit, decoded so that an error names the field.
//!
//! actix's `web::Json` reports a bad value as serde does, `found 'm' at 2 at line 1 column
//! 81`, and a body it could not read as a Rust debug value. Here the body is collected up to
//! the limit and decoded through `serde_path_to_error`, so every message names the field
//! (`device_id: ...`) and says what to do, and the wording of a 413 fits the endpoint.

use std::future::{Future, poll_fn};
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::web::{self, BytesMut};
use actix_web::{FromRequest, HttpRequest};
use futures_core::Stream;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode};
use crate::startup::AppState;

/// A request body of JSON type `T`.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T> JsonBody<T> {
    /// The decoded body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = is_json(req);
        let body = read_within_limit(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    "send the body as JSON, with Content-Type: application/json",
                ));
            }
            decode(&body.await?).map(JsonBody)
        })
    }
}

/// The whole body, collected up to the server's body limit: a declared length over it is
/// refused before anything is read, and the reading stops once the bytes pass it.
pub(crate) fn read_within_limit(
    req: &HttpRequest,
    payload: &mut Payload,
) -> impl Future<Output = Result<BytesMut, ApiError>> + 'static {
    let limit = req
        .app_data::<web::Data<AppState>>()
        .map_or(usize::MAX, |s| s.limits.max_body_bytes);
    let hint = OverLimitHint::for_path(req.path());
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut payload = payload.take();
    async move {
        if let Some(length) = declared.filter(|&n| n > limit as u64) {
            return Err(hint.refuse(format!("the body is {length} bytes; the limit is {limit}")));
        }
        let mut body = BytesMut::new();
        while let Some(chunk) = poll_fn(|cx| Pin::new(&mut payload).poll_next(cx)).await {
            let chunk = chunk.map_err(|e| payload_error(e, hint, limit))?;
            if body.len() + chunk.len() > limit {
                return Err(hint.refuse(format!("the body exceeds {limit} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// The media type of the request, lowercase, without parameters (`; charset=...`).
pub(crate) fn media_type(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
}

/// `application/json`, or any `+json` type; a missing `Content-Type` is refused, as actix's
/// own extractor does, so that a form post is never read as JSON by accident.
fn is_json(req: &HttpRequest) -> bool {
    media_type(req).is_some_and(|m| m == "application/json" || m.ends_with("+json"))
}

/// Decodes `body`, naming the field at fault.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let what = without_position(&inner);
        if inner.is_data() {
            let message = if path == "." {
                format!("the body: {what}")
            } else {
                format!("`{path}`: {what}")
            };
            ApiError::new(ErrorCode::InvalidRequest, message)
        } else if inner.is_eof() {
            ApiError::new(
                ErrorCode::MalformedJson,
                "the body is not complete JSON: it ends too early",
            )
        } else {
            ApiError::new(
                ErrorCode::MalformedJson,
                format!(
                    "the body is not JSON: {what} (line {}, column {})",
                    inner.line(),
                    inner.column()
                ),
            )
        }
    })?;
    de.end().map_err(|e| {
        ApiError::new(
            ErrorCode::MalformedJson,
            format!(
                "the body has more after its JSON value: {}",
                without_position(&e)
            ),
        )
    })?;
    Ok(value)
}

/// serde_json's message without its ` at line 1 column 81`, which a field name replaces.
fn without_position(e: &serde_json::Error) -> String {
    let full = e.to_string();
    match full.rfind(" at line ") {
        Some(i) => full[..i].to_owned(),
        None => full,
    }
}

fn payload_error(e: PayloadError, hint: OverLimitHint, limit: usize) -> ApiError {
    match e {
        PayloadError::Overflow => hint.refuse(format!(
            "the body, once decompressed, exceeds {limit} bytes"
        )),
        PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => ApiError::new(
            ErrorCode::RequestTimeout,
            "the body did not arrive in time; resend the request",
        ),
        PayloadError::Incomplete(_) | PayloadError::Io(_) => ApiError::new(
            ErrorCode::UnreadableBody,
            "the body could not be read: the connection was cut, or the compressed data is \
             not valid for its Content-Encoding; resend the request",
        ),
        PayloadError::EncodingCorrupted => ApiError::new(
            ErrorCode::UnreadableBody,
            "the body could not be decoded for its Content-Encoding; resend it uncompressed or \
             in gzip",
        ),
        _ => ApiError::new(
            ErrorCode::UnreadableBody,
            "the body could not be read; resend the request",
        ),
    }
}

/// What a client over the body limit should do: a push sends fewer operations, other
/// requests are small by nature and over the limit only by mistake.
#[derive(Clone, Copy)]
enum OverLimitHint {
    Push,
    Other,
}

impl OverLimitHint {
    fn for_path(path: &str) -> Self {
        if path == "/v1/sync/push" {
            OverLimitHint::Push
        } else {
            OverLimitHint::Other
        }
    }

    fn refuse(self, what: String) -> ApiError {
        let advice = match self {
            OverLimitHint::Push => "send fewer operations per push",
            OverLimitHint::Other => "this request's body is far larger than it should be",
        };
        ApiError::new(ErrorCode::PayloadTooLarge, format!("{what}: {advice}"))
    }
}
