//! Housekeeping: deletes the rows that only grow, after their documented retention. A
//! serving instance runs it on a schedule; `kampung-sync housekeeping` runs it once. Every
//! instance may run it: the deletes are idempotent.

use serde::Serialize;

use crate::config::RetentionArgs;
use crate::db::{self, AnyConnection, audit, now_ms, throttle, tokens};
use crate::error::ApiError;
use crate::service::audit::{self as audit_log, Entry};

const DAY_MS: i64 = 86_400_000;
/// Sign-in counters are only read within their 15-minute window and lock.
const THROTTLE_WINDOW_MS: i64 = 15 * 60 * 1000;

/// What one run deleted.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Swept {
    /// Audit entries past their retention.
    pub audit_entries: usize,
    /// Refresh credentials expired or revoked past their retention.
    pub refresh_credentials: usize,
    /// Sign-in counters whose window and lock ended.
    pub sign_in_counters: usize,
}

/// Deletes what is past retention now, and records the run in the audit log when it
/// deleted anything.
pub fn sweep(conn: &mut AnyConnection, retention: &RetentionArgs) -> Result<Swept, ApiError> {
    let now = now_ms();
    let swept = db::write_tx(conn, |c| {
        Ok::<_, ApiError>(Swept {
            audit_entries: audit::delete_before(c, now - retention.audit_retention_days * DAY_MS)?,
            refresh_credentials: tokens::delete_dead(
                c,
                now - retention.credential_retention_days * DAY_MS,
            )?,
            sign_in_counters: throttle::purge_stale(c, now - THROTTLE_WINDOW_MS, now)?,
        })
    })?;
    if swept != Swept::default() {
        audit_log::append(
            conn,
            Entry::system(
                "housekeeping",
                None,
                serde_json::to_value(swept).unwrap_or_default(),
            ),
        );
    }
    Ok(swept)
}
