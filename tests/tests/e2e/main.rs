//! End-to-end tests: the real server over real HTTP against real databases. Each storage
//! test runs on SQLite and, with `KAMPUNG_TEST_PG_URL` set, on PostgreSQL.
#![allow(clippy::unwrap_used)]

mod accounts;
mod admin_edits;
mod admin_reports;
mod areas;
mod assignment_import;
mod bad_input;
mod browser_consoles;
mod client;
mod conflict_inbox;
mod cursor;
mod docs;
mod flow;
mod household_import;
mod input_rules;
mod lists;
mod load;
mod merge;
mod openapi;
mod personal_data;
mod reports;
mod retries;
mod review;
mod scope;
mod slow_clients;
mod storage_migration;
mod tables;
mod user_import;
