//! Services: the rules of each use case, one file per action, over one database
//! transaction each. They speak `ApiError` and the API types; only `db/` knows diesel.

pub mod accounts;
pub mod admin;
pub mod audit;
pub mod authorize;
pub mod sync;
