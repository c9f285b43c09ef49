//! The sync answers as the server writes them. Their shape is the protocol's
//! (`sync_protocol::wire`); a pull page carries its records as the JSON text stored with
//! them, so the server copies text instead of decoding and encoding every record.

use serde::Serialize;
use serde_json::value::RawValue;
use sync_protocol::Epoch;
use sync_protocol::wire::Removal;

/// One page of a pull: `sync_protocol::wire::PullResponse` on the wire.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PullPage {
    /// The database epoch.
    pub epoch: Epoch,
    /// Records changed since the cursor, each a `RecordView`.
    #[schema(value_type = Vec<sync_protocol::wire::RecordView>)]
    pub changes: Vec<Box<RawValue>>,
    /// Records that left the device's scope since the cursor.
    pub removals: Vec<Removal>,
    /// Send it back as `cursor` on the next pull.
    pub cursor: String,
    /// More changes are ready: pull again at once.
    pub has_more: bool,
}
