//! Sync: a device's push, its pull, and the cursor between pulls.

mod cursor;
mod history_window;
pub mod numbered;
mod pull;
mod push;
mod scope;

pub use pull::pull;
pub use push::push;
pub use scope::scope_of;
