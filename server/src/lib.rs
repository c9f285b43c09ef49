//! kampung-sync: the REST sync service of the ASN Berbagi field app and the admin API over
//! the consolidated records.
//!
//! Layers: `routes` (thin HTTP handlers) → `service` (the rules, one transaction per use
//! case) → `db` (the only code that knows diesel and the backends). The merge itself is the
//! pure `sync_protocol` crate.

pub mod api;
pub mod auth;
pub mod body_timeout;
pub mod config;
pub mod cors;
pub mod csv_body;
pub mod db;
pub mod decompress;
pub mod error;
pub mod ids;
pub mod in_flight;
pub mod json_body;
pub mod openapi;
pub mod pii;
pub mod query_params;
pub mod request_log;
pub mod routes;
pub mod service;
pub mod startup;
pub mod telemetry;
