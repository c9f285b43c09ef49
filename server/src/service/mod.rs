//! Services: the rules of each use case, over one database transaction each.

pub mod sync;
