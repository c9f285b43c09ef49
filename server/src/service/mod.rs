//! Services: the rules of each use case, over one database transaction each.

pub mod accounts;
pub mod admin;
pub mod audit;
pub mod sync;
