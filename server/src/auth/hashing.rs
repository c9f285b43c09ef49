//! Where passwords are hashed and checked: a few at a time, on threads of their own, never
//! while a database connection is held. Argon2id takes tens of milliseconds and 19 MiB per
//! check by design; a flood of sign-ins then queues here, briefly, and is refused
//! `503 sign_in_busy`, while sync requests keep every database connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::error::{ApiError, ErrorCode};

/// The password checks that may run at once, and how long a sign-in waits for one.
pub struct PasswordHashing {
    permits: Arc<Semaphore>,
    queue_wait: Duration,
    running: AtomicI64,
    waiting: AtomicI64,
}

/// How busy the checks are now, for `/healthz`.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct HashingLoad {
    /// Checks running now.
    pub running: i64,
    /// Sign-ins waiting for a check to free up.
    pub waiting: i64,
}

impl PasswordHashing {
    /// At most `concurrent` checks at once; a request waits at most `queue_wait` for one.
    pub fn new(concurrent: usize, queue_wait: Duration) -> Self {
        PasswordHashing {
            permits: Arc::new(Semaphore::new(concurrent.max(1))),
            queue_wait,
            running: AtomicI64::new(0),
            waiting: AtomicI64::new(0),
        }
    }

    /// Runs `work` (a password hash or check) once a check is free, on a blocking thread.
    pub async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let waiting = Counted::new(&self.waiting);
        let permit =
            tokio::time::timeout(self.queue_wait, Arc::clone(&self.permits).acquire_owned()).await;
        drop(waiting);
        let permit = match permit {
            Ok(Ok(p)) => p,
            Ok(Err(closed)) => return Err(ApiError::internal(closed)),
            Err(_elapsed) => {
                return Err(ApiError::RetryLater {
                    code: ErrorCode::SignInBusy,
                    message: "the server is checking too many passwords at once; try again \
                              in a moment (devices already signed in keep syncing)"
                        .into(),
                    retry_after_secs: 1,
                });
            }
        };
        let _running = Counted::new(&self.running);
        let done = actix_web::web::block(move || {
            let out = work();
            drop(permit);
            out
        })
        .await;
        Ok(done?)
    }

    /// Checks running and waiting now.
    pub fn load(&self) -> HashingLoad {
        HashingLoad {
            running: self.running.load(Ordering::Relaxed),
            waiting: self.waiting.load(Ordering::Relaxed),
        }
    }
}

/// One unit of a gauge for as long as it lives, also when a request is dropped half-way.
struct Counted<'a>(&'a AtomicI64);

impl<'a> Counted<'a> {
    fn new(gauge: &'a AtomicI64) -> Self {
        gauge.fetch_add(1, Ordering::Relaxed);
        Counted(gauge)
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
