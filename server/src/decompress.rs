//! Decoding compressed request bodies within the body limit.
//!
//! actix decodes a whole received chunk at once, so a chunk of a few kilobytes of a gzip
//! bomb inflates to tens of megabytes before any limit is checked. Here the body is decoded
//! as it streams into a writer that counts the decoded bytes and stops at the limit: a
//! request never holds more than the limit (and flate2's 32 KiB window) whatever the ratio.

use std::io::{self, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::dev::{Payload, ServiceRequest};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::web::{Bytes, BytesMut};
use flate2::write::{GzDecoder, ZlibDecoder};
use futures_core::Stream;

/// Replaces the payload of a `gzip`, `x-gzip` (RFC 9110, 8.4.1.3: the same) or `deflate`
/// body with its decoded stream, limited to `limit` decoded bytes, and removes the
/// `Content-Encoding` header so that actix does not decode it again. Other encodings are
/// left to actix, which reads a body it cannot decode as it is.
pub fn decode_within_limit(req: &mut ServiceRequest, limit: usize) {
    let decoder = match req
        .headers()
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        Some("gzip" | "x-gzip") => Decoder::Gzip(GzDecoder::new(Limited::new(limit))),
        Some("deflate") => Decoder::Zlib(ZlibDecoder::new(Limited::new(limit))),
        _ => return,
    };
    req.headers_mut().remove(header::CONTENT_ENCODING);
    let inner = actix_web::HttpMessage::take_payload(req);
    let stream = Decoding {
        inner,
        decoder: Some(decoder),
    };
    req.set_payload(Payload::Stream {
        payload: Box::pin(stream),
    });
}

/// Collects decoded bytes and refuses any past the limit.
struct Limited {
    buf: BytesMut,
    left: usize,
    exceeded: bool,
}

impl Limited {
    fn new(limit: usize) -> Self {
        Limited {
            buf: BytesMut::new(),
            left: limit,
            exceeded: false,
        }
    }
}

impl Write for Limited {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.len() > self.left {
            self.exceeded = true;
            return Err(io::Error::other("decoded body over the limit"));
        }
        self.left -= data.len();
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

enum Decoder {
    Gzip(GzDecoder<Limited>),
    Zlib(ZlibDecoder<Limited>),
}

impl Decoder {
    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Decoder::Gzip(d) => d.write_all(data),
            Decoder::Zlib(d) => d.write_all(data),
        }
    }

    fn try_finish(&mut self) -> io::Result<()> {
        match self {
            Decoder::Gzip(d) => d.try_finish(),
            Decoder::Zlib(d) => d.try_finish(),
        }
    }

    fn output(&mut self) -> &mut Limited {
        match self {
            Decoder::Gzip(d) => d.get_mut(),
            Decoder::Zlib(d) => d.get_mut(),
        }
    }

    /// The decoded bytes so far, or the error: `Overflow` when the limit was reached.
    fn take(&mut self, result: io::Result<()>) -> Result<Bytes, PayloadError> {
        let out = self.output();
        match result {
            Ok(()) => Ok(out.buf.split().freeze()),
            Err(_) if out.exceeded => Err(PayloadError::Overflow),
            Err(e) => Err(PayloadError::Io(e)),
        }
    }
}

/// The decoded body as a stream of chunks. It ends after its first error.
struct Decoding {
    inner: Payload,
    decoder: Option<Decoder>,
}

impl Stream for Decoding {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            let Some(decoder) = this.decoder.as_mut() else {
                return Poll::Ready(None);
            };
            match std::task::ready!(Pin::new(&mut this.inner).poll_next(cx)) {
                Some(Ok(chunk)) => {
                    let result = decoder.write_all(&chunk);
                    match decoder.take(result) {
                        Ok(out) if out.is_empty() => continue,
                        Ok(out) => return Poll::Ready(Some(Ok(out))),
                        Err(e) => {
                            this.decoder = None;
                            return Poll::Ready(Some(Err(e)));
                        }
                    }
                }
                Some(Err(e)) => {
                    this.decoder = None;
                    return Poll::Ready(Some(Err(e)));
                }
                None => {
                    let result = decoder.try_finish();
                    let out = decoder.take(result);
                    this.decoder = None;
                    return Poll::Ready(match out {
                        Ok(b) if b.is_empty() => None,
                        other => Some(other),
                    });
                }
            }
        }
    }
}
