//! One sync as a state machine: push the outbox, then pull to the end (section 7.5). It
//! does no I/O: a transport asks [`Client::next_request`] what to send and hands back what
//! came, so the same rules run over HTTP, in tests and in a simulator.

use std::time::Duration;

use crate::ids::Epoch;
use crate::outcome::Status;
use crate::wire::{PullResponse, PushResponse};

use super::device::{Client, InstallationReason};
use super::events::Event;

/// Operations per push unless the server's limits ask for fewer (section 7.2).
pub const DEFAULT_BATCH: usize = 100;
/// The most bytes a push body carries unless told otherwise: half the server's default
/// limit (4 MiB, section 8), so a batch never meets `413` on a default server.
pub const DEFAULT_MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// The first wait after a lost answer; each further attempt waits twice as long.
pub const FIRST_RETRY: Duration = Duration::from_secs(1);
/// The longest wait between attempts.
pub const MAX_RETRY: Duration = Duration::from_secs(300);

/// What the transport does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// `POST /v1/sync/push` with this body, as it is. A resend after a lost answer gives
    /// the same bytes.
    Push {
        /// The JSON body.
        body: String,
    },
    /// `GET /v1/sync/pull` from this cursor (none: from the beginning).
    Pull {
        /// The cursor to send.
        cursor: Option<String>,
    },
    /// Sign in with a new installation id made by the app, then call
    /// [`Client::new_installation`].
    NewInstallation(InstallationReason),
    /// The sync is over: the outbox is pushed and the pull reached the end.
    Done,
    /// Syncing stopped; the outbox is kept. The code names the answer that stopped it.
    Stopped(String),
}

/// What the transport does about a refused request (section 7.8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Refresh the access token, then ask [`Client::next_request`] again: it repeats the
    /// same request.
    RefreshToken,
    /// Sign in again with the same installation id; the outbox and cursor stay valid.
    SignIn,
    /// Wait this long, then ask [`Client::next_request`] again.
    Retry(Duration),
    /// Stop syncing and keep the outbox; [`Client::next_request`] says [`Request::Stopped`].
    Stop,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
enum Phase {
    #[default]
    Push,
    Pull,
    Done,
    Stopped(String),
}

/// The sync in progress. Not durable: after a crash the next sync starts again from the
/// stored outbox and cursor, which the protocol makes harmless.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Session {
    phase: Phase,
    in_flight: Option<Request>,
    attempts: u32,
    batch: usize,
    max_body_bytes: usize,
    /// How many operations the push in flight carries.
    in_flight_ops: usize,
    pushes_without_progress: u32,
}

impl Default for Session {
    fn default() -> Self {
        Session {
            phase: Phase::Push,
            in_flight: None,
            attempts: 0,
            batch: DEFAULT_BATCH,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            in_flight_ops: 0,
            pushes_without_progress: 0,
        }
    }
}

impl Session {
    pub(super) fn restart(&mut self) {
        self.phase = Phase::Push;
        self.in_flight = None;
        self.attempts = 0;
        self.pushes_without_progress = 0;
    }

    fn backoff(&mut self) -> Duration {
        self.attempts = self.attempts.saturating_add(1);
        let factor = 1u32.checked_shl(self.attempts - 1).unwrap_or(u32::MAX);
        FIRST_RETRY.saturating_mul(factor).min(MAX_RETRY)
    }
}

impl Client {
    /// Starts a sync: push first, then pull.
    pub fn start_sync(&mut self) {
        self.session.restart();
    }

    /// Sets the most operations one push carries.
    pub fn set_batch_size(&mut self, ops: usize) {
        self.session.batch = ops.max(1);
    }

    /// Sets the most bytes one push body carries (the server's `KAMPUNG_MAX_BODY_BYTES`,
    /// or less). A single operation larger than this is still sent alone: the server then
    /// answers for it, and the rest of the outbox is not held behind it.
    pub fn set_max_body_bytes(&mut self, bytes: usize) {
        self.session.max_body_bytes = bytes.max(1);
    }

    /// What to send next.
    pub fn next_request(&mut self) -> Request {
        if let Some(reason) = self.needs_installation {
            return Request::NewInstallation(reason);
        }
        if let Some(r) = &self.session.in_flight {
            return r.clone();
        }
        loop {
            let request = match &self.session.phase {
                Phase::Done => return Request::Done,
                Phase::Stopped(code) => return Request::Stopped(code.clone()),
                Phase::Push => {
                    let batch = self
                        .outbox
                        .next_batch_within(self.session.batch, self.session.max_body_bytes);
                    if batch.is_empty() || self.session.pushes_without_progress > 2 {
                        self.session.phase = Phase::Pull;
                        continue;
                    }
                    self.session.in_flight_ops = batch.len();
                    Request::Push {
                        body: self.outbox.push_body(&batch),
                    }
                }
                Phase::Pull => Request::Pull {
                    cursor: self.replica.cursor().map(str::to_owned),
                },
            };
            self.session.in_flight = Some(request.clone());
            return request;
        }
    }

    /// The request was sent and no answer came (a network error, a timeout, a 5xx). The
    /// transport waits the returned time; the next request is the same one, byte for byte
    /// (section 7.3).
    pub fn on_lost_answer(&mut self) -> Duration {
        self.session.backoff()
    }

    /// Takes a `200` push answer (sections 5.2, 5.3).
    pub fn on_push_response(&mut self, resp: &PushResponse) {
        self.session.in_flight = None;
        self.session.attempts = 0;
        let stored = self.replica.epoch();
        let ack = self.outbox.acknowledge(resp);
        if ack.finished.is_empty() {
            self.session.pushes_without_progress += 1;
        } else {
            self.session.pushes_without_progress = 0;
        }
        for done in &ack.finished {
            let Some(result) = &done.result else { continue };
            if let Some(record) = &result.record {
                self.replica.offer(resp.epoch, record.clone());
            }
            let repushed = self.repushed.remove(&done.op.seq);
            match done.effective_status() {
                Some(Status::Applied) => self.journal_write(done.op.record_id),
                Some(Status::Conflict) => {
                    self.journal_write(done.op.record_id);
                    self.events.push(Event::Conflict {
                        record_id: done.op.record_id,
                        registers: result.conflicts.clone(),
                    });
                }
                Some(Status::Rejected)
                    if repushed && result.error.as_ref().is_some_and(|e| e.code == "immutable") => {
                }
                Some(Status::Rejected) => {
                    let (code, message) = result
                        .error
                        .as_ref()
                        .map(|e| (e.code.clone(), e.message.clone()))
                        .unwrap_or_default();
                    self.events.push(Event::Rejected {
                        seq: done.op.seq,
                        record_id: done.op.record_id,
                        code,
                        message,
                    });
                }
                _ => {}
            }
        }
        if stored.is_some_and(|e| e != resp.epoch) {
            self.epoch_changed(stored, Some(resp.epoch));
            return;
        }
        self.replica.set_epoch(Some(resp.epoch));
        if !ack.reused.is_empty() {
            self.needs_installation = Some(InstallationReason::SeqReuse);
        } else if ack.unresendable_gap.is_some() {
            self.needs_installation = Some(InstallationReason::UnresendableGap);
        }
    }

    /// Takes a `200` pull page (section 7.4).
    pub fn on_pull_response(&mut self, page: &PullResponse) {
        self.session.in_flight = None;
        self.session.attempts = 0;
        let stored = self.replica.epoch();
        if stored.is_some_and(|e| e != page.epoch) {
            self.epoch_changed(stored, Some(page.epoch));
            return;
        }
        let outbox = &self.outbox;
        self.replica.apply_page(page, |id| outbox.has_pending(id));
        self.replica.set_epoch(Some(page.epoch));
        if !page.has_more {
            self.session.phase = Phase::Done;
        }
    }

    /// Takes a refused request: its HTTP status and the `error.code` of its body (section
    /// 7.8). A refused request changed nothing, so the outbox keeps every operation.
    pub fn on_refused(&mut self, status: u16, code: &str) -> Refusal {
        self.on_refused_after(status, code, None)
    }

    /// [`Client::on_refused`] with the answer's `Retry-After` (in seconds, as the server
    /// sends it): a retry waits at least that long, and the backoff still grows, so a busy
    /// server is never asked sooner than it said.
    pub fn on_refused_after(
        &mut self,
        status: u16,
        code: &str,
        retry_after: Option<Duration>,
    ) -> Refusal {
        match self.refusal(status, code) {
            Refusal::Retry(wait) => Refusal::Retry(wait.max(retry_after.unwrap_or_default())),
            other => other,
        }
    }

    fn refusal(&mut self, status: u16, code: &str) -> Refusal {
        match (status, code) {
            (401, "token_expired" | "invalid_token") => Refusal::RefreshToken,
            (401, _) | (403, "device_not_registered") => Refusal::SignIn,
            (409, "resync_required") => {
                let stored = self.replica.epoch();
                self.epoch_changed(stored, None);
                Refusal::Retry(Duration::ZERO)
            }
            (400, "invalid_cursor") => {
                self.session.in_flight = None;
                self.replica.start_resync();
                Refusal::Retry(Duration::ZERO)
            }
            (413, _) if self.session.in_flight_ops > 1 => {
                self.session.in_flight = None;
                self.session.batch = self.session.in_flight_ops / 2;
                Refusal::Retry(Duration::ZERO)
            }
            (408 | 429, _) | (500..=599, _) => Refusal::Retry(self.session.backoff()),
            _ => {
                self.session.in_flight = None;
                self.session.phase = Phase::Stopped(code.to_owned());
                Refusal::Stop
            }
        }
    }

    /// Section 7.6: the device needs a new installation id, re-pushes its journal, and pulls
    /// from the beginning. `new` is `None` when only a `409 resync_required` said so; the
    /// next answer then names the epoch.
    fn epoch_changed(&mut self, old: Option<Epoch>, new: Option<Epoch>) {
        self.events.push(Event::EpochChanged { old, new });
        self.session.in_flight = None;
        self.replica.set_epoch(new);
        self.replica.start_resync();
        self.needs_installation = Some(InstallationReason::EpochChanged);
    }
}
