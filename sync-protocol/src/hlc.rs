//! Hybrid logical clock stamps. They order siblings for display and pick a provisional
//! winner; they never decide which write supersedes which (dots do that).

use serde::{Deserialize, Serialize};

/// A hybrid logical clock stamp: wall-clock milliseconds since the Unix epoch plus a
/// logical counter for events within the same millisecond.
///
/// Sent as an object rather than one packed integer because `wall_ms << 16` would not fit
/// in a JavaScript number.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Hlc {
    /// Milliseconds since 1970-01-01T00:00:00Z on the writer's clock.
    pub wall_ms: u64,
    /// Logical counter, bumped when the wall clock has not moved.
    #[serde(default, deserialize_with = "crate::wire::null_as_default")]
    pub counter: u32,
}

impl Hlc {
    /// A stamp at `wall_ms` with counter 0.
    pub fn at(wall_ms: u64) -> Self {
        Hlc {
            wall_ms,
            counter: 0,
        }
    }

    /// Bounds a device stamp by the server's clock. A stamp more than `max_drift_ms` ahead
    /// of `server_now` comes from a skewed device clock: the write is still accepted, but it
    /// is ordered as if made at `server_now` and flagged, so one wrong phone cannot win every
    /// future tie.
    pub fn bounded_by(self, server_now: Hlc, max_drift_ms: u64) -> (Hlc, bool) {
        if self.wall_ms > server_now.wall_ms.saturating_add(max_drift_ms) {
            (server_now, true)
        } else {
            (self, false)
        }
    }
}
