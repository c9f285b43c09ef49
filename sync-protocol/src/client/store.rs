//! Durable storage of a device, as the app provides it.

use std::convert::Infallible;

use super::device::Client;

/// Where the app keeps a device's state across restarts: the outbox (with each operation's
/// JSON), the installation id and next seq, the cursor, the epoch, the server copies and
/// the journal. Save after every edit and every answer; in one local transaction, so that
/// a page's records and its cursor are stored together (section 7.4).
pub trait ClientStore {
    /// Why loading or saving failed.
    type Error;
    /// The stored device, `None` on first launch.
    fn load(&mut self) -> Result<Option<Client>, Self::Error>;
    /// Replaces the stored device.
    fn save(&mut self, client: &Client) -> Result<(), Self::Error>;
}

/// A store in memory, holding the device as JSON as a file would: what survives is
/// exactly what serialises.
#[derive(Clone, Debug, Default)]
pub struct MemoryClientStore {
    saved: Option<String>,
}

impl MemoryClientStore {
    /// The stored JSON.
    pub fn json(&self) -> Option<&str> {
        self.saved.as_deref()
    }
}

impl ClientStore for MemoryClientStore {
    type Error = Infallible;

    fn load(&mut self) -> Result<Option<Client>, Infallible> {
        Ok(self
            .saved
            .as_deref()
            .map(|s| serde_json::from_str(s).expect("the store holds a serialised client")))
    }

    fn save(&mut self, client: &Client) -> Result<(), Infallible> {
        self.saved = Some(serde_json::to_string(client).expect("a client always serialises"));
        Ok(())
    }
}
