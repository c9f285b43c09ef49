//! The reference field client, as a library without I/O: what docs/sync-protocol.md asks of
//! a device, as code. The app (or a test, or a simulator) supplies the clock, the ids, the
//! durable store and the transport; everything else is here.
//!
//! - [`Outbox`]: contiguous seqs, each operation's JSON fixed when queued, the status rules
//!   of section 5.3.
//! - [`Replica`]: the server copies, the cursor and the epoch.
//! - [`Client`]: the device: edits with their contexts, the view with pending edits on top
//!   (by the server's merge), and one sync as a state machine ([`Client::next_request`]).
//! - [`ClientStore`]: durable storage, implemented by the app; [`MemoryClientStore`] in memory.

mod device;
mod events;
mod outbox;
mod overlay;
mod replica;
mod session;
mod store;

pub use device::{Client, DEFAULT_JOURNAL_LEN, InstallationReason};
pub use events::Event;
pub use outbox::{Acknowledged, Finished, Outbox, PendingOp};
pub use overlay::display;
pub use replica::{Replica, ServerCopy};
pub use session::{
    DEFAULT_BATCH, DEFAULT_MAX_BODY_BYTES, FIRST_RETRY, MAX_RETRY, Refusal, Request,
};
pub use store::{ClientStore, MemoryClientStore};
