//! What a sync tells the officer.

use crate::ids::{DeviceId, Epoch, RecordId};

/// Something the app shows or records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A write left these registers with concurrent values, for review (section 4.5).
    Conflict {
        /// The record.
        record_id: RecordId,
        /// Field, group or `_exists` names.
        registers: Vec<String>,
    },
    /// The server refused an operation; it is dropped (section 5.3). `code` is
    /// `out_of_scope` for a household no longer the officer's.
    Rejected {
        /// The operation's seq.
        seq: u64,
        /// The record.
        record_id: RecordId,
        /// The rejection code.
        code: String,
        /// The server's message.
        message: String,
    },
    /// The database was restored: the device follows section 7.6.
    EpochChanged {
        /// The epoch stored before, if known.
        old: Option<Epoch>,
        /// The new one, once an answer named it.
        new: Option<Epoch>,
    },
    /// The device now syncs under a new installation id.
    NewInstallation {
        /// The id given up.
        old: DeviceId,
        /// The id in use from now on.
        new: DeviceId,
    },
}
