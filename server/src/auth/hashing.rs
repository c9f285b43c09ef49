//! Where passwords are hashed and checked: a few at a time, on threads of their own, never
//! while a database connection is held. Argon2id takes tens of milliseconds and 19 MiB per
//! check by design; a flood of sign-ins then queues here, briefly, and is refused
//! `503 sign_in_busy`, while sync requests keep every database connection.
//!
//! The threads are this module's own, as many as checks may run, not actix's blocking pool:
//! there every check landed on whichever of dozens of threads was free, and each thread's
//! malloc arena kept its 19 MiB after the check, so a sign-in flood left the server at about
//! 500 MiB (`docs/benchmarks.md`, 2026-12-02). On a few long-lived threads the memory is
//! reused from one check to the next.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use tokio::sync::{Semaphore, oneshot};

type Job = Box<dyn FnOnce() + Send>;

use crate::error::{ApiError, ErrorCode};

/// The password checks that may run at once, and how long a sign-in waits for one.
pub struct PasswordHashing {
    permits: Arc<Semaphore>,
    jobs: mpsc::Sender<Job>,
    queue_wait: Duration,
    running: AtomicI64,
    waiting: AtomicI64,
}

/// How busy the checks are now, for `/healthz`.
#[derive(Clone, Copy, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct HashingLoad {
    /// Checks running now.
    pub running: i64,
    /// Sign-ins waiting for a check to free up.
    pub waiting: i64,
}

impl PasswordHashing {
    /// At most `concurrent` checks at once, each on one of `concurrent` threads started here
    /// (they end when this is dropped); a request waits at most `queue_wait` for one.
    pub fn new(concurrent: usize, queue_wait: Duration) -> Self {
        let concurrent = concurrent.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..concurrent {
            let queue = Arc::clone(&queue);
            let started = std::thread::Builder::new()
                .name(format!("password-check-{n}"))
                .spawn(move || {
                    loop {
                        // The lock is held only to take the next job, not while it runs.
                        let next = queue
                            .lock()
                            .map_err(|_| ())
                            .and_then(|q| q.recv().map_err(|_| ()));
                        match next {
                            // A panic ends one check, not the thread: the pool keeps its size.
                            Ok(job) => {
                                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                            }
                            Err(()) => return,
                        }
                    }
                });
            if let Err(e) = started {
                tracing::error!(error = %e, "cannot start a password-check thread");
            }
        }
        PasswordHashing {
            permits: Arc::new(Semaphore::new(concurrent)),
            jobs,
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
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            let out = work();
            drop(permit);
            let _gone = tx.send(out);
        });
        if self.jobs.send(job).is_err() {
            return Err(ApiError::internal("no password-check thread is running"));
        }
        rx.await
            .map_err(|_| ApiError::internal("a password check ended without an answer"))
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
