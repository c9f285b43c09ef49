//! A deadline for receiving a request body.
//!
//! actix bounds the time to receive a request's headers, never its body: a client that
//! sends one byte now and then keeps its connection, and a file descriptor, forever. Here
//! reading the body fails once the deadline passes, which answers `408 request_timeout` and
//! closes the connection.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::HttpMessage;
use actix_web::dev::{Payload, ServiceRequest};
use actix_web::error::PayloadError;
use actix_web::rt::time::{Instant, Sleep, sleep_until};
use actix_web::web::Bytes;
use futures_core::Stream;

/// Makes reading `req`'s body fail with a `TimedOut` error once `limit` has passed since now.
pub fn limit_body_time(req: &mut ServiceRequest, limit: Duration) {
    let inner = req.take_payload();
    req.set_payload(Payload::Stream {
        payload: Box::pin(Deadline {
            inner,
            at: Instant::now() + limit,
            timer: None,
            expired: false,
        }),
    });
}

struct Deadline {
    inner: Payload,
    at: Instant,
    // Made on the first read, so that a request whose body is never read costs no timer.
    timer: Option<Pin<Box<Sleep>>>,
    expired: bool,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.expired {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut this.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        let at = this.at;
        let timer = this.timer.get_or_insert_with(|| Box::pin(sleep_until(at)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.expired = true;
                Poll::Ready(Some(Err(PayloadError::Io(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the body did not arrive in time",
                )))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
