//! The pure core of kampung-sync: the clock, the merge, the wire types and the collection
//! schemas. No database, no HTTP, no async runtime: the server and any client run the same
//! code, and every rule here is tested without I/O.
//!
//! - [`clock`]: dotted version vectors with the server as the one replica actor.
//! - [`apply`](mod@apply): one operation against one record's state.
//! - [`batch`]: exactly-once processing of a device's batch over a [`batch::BatchStore`].
//! - [`schema`]: collections, fields, field groups, validation.
//! - [`wire`]: the JSON the field app and the server exchange.
//! - [`memory`]: an in-memory reference server.
//! - [`client`]: the reference field client: outbox, replica and the sync state machine.
#![warn(missing_docs)]

pub mod apply;
pub mod batch;
pub mod client;
pub mod clock;
pub mod desa;
pub mod hlc;
pub mod ids;
pub mod memory;
pub mod outcome;
pub mod review;
pub mod rows;
pub mod schema;
pub mod scope;
pub mod state;
pub mod wire;

pub use apply::{Applied, ApplyEnv, apply};
pub use clock::{Actor, Context, Dot, VersionVector};
pub use hlc::Hlc;
pub use ids::{DeviceId, Epoch, RecordId};
pub use outcome::{Outcome, RejectCode, Rejection, Status};
pub use schema::Collection;
pub use state::{RecordState, Register, Sibling};
pub use wire::{OpKind, Operation};
