//! Sync: a device's push, its pull, and the cursor between pulls.

mod cursor;
mod pull;
mod push;

pub use pull::pull;
pub use push::push;

/// The scope every record is in until assignments exist: the whole regency. Per-officer
/// scopes (households by assignment) replace this with the domain model.
pub const REGENCY_SCOPE: &str = "regency";
