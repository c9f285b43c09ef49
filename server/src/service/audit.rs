//! Appending audit entries. A failed write to the audit log is logged but never turns a
//! completed action into an error.

use serde_json::Value;
use uuid::Uuid;

use crate::db::audit::{self, AuditRow};
use crate::db::{AnyConnection, now_ms};
use crate::ids::UserId;

/// An entry to append.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Acting user.
    pub actor_user_id: Option<UserId>,
    /// Acting user's name (or the name tried).
    pub actor_username: Option<String>,
    /// Action.
    pub action: String,
    /// Target.
    pub target: Option<String>,
    /// Details, a JSON object.
    pub detail: Value,
    /// Address.
    pub remote_addr: Option<String>,
    /// Success.
    pub success: bool,
}

impl Entry {
    /// An action by the system itself (start-up, command line).
    pub fn system(action: &str, target: Option<&str>, detail: Value) -> Entry {
        Entry {
            actor_user_id: None,
            actor_username: None,
            action: action.to_owned(),
            target: target.map(str::to_owned),
            detail,
            remote_addr: None,
            success: true,
        }
    }

    /// An actor, to which [`Entry::action`] adds what they did.
    pub fn by(user_id: UserId, username: &str, addr: Option<String>) -> Entry {
        Entry {
            actor_user_id: Some(user_id),
            actor_username: Some(username.to_owned()),
            remote_addr: addr,
            ..Entry::system("", None, Value::Null)
        }
    }

    /// Sets what was done.
    pub fn action(mut self, action: &str, target: Option<&str>, detail: Value) -> Entry {
        self.action = action.to_owned();
        self.target = target.map(str::to_owned);
        self.detail = detail;
        self
    }

    /// A failed sign-in.
    pub fn failed_login(username: &str, addr: Option<String>, why: &str) -> Entry {
        Entry {
            actor_username: Some(username.to_owned()),
            remote_addr: addr,
            success: false,
            ..Entry::system("login_failed", None, serde_json::json!({"reason": why}))
        }
    }
}

/// Appends an entry to the audit log.
pub fn append(conn: &mut AnyConnection, e: Entry) {
    let row = row(e);
    if let Err(err) = audit::insert(conn, &row) {
        tracing::error!(error = %err, action = %row.action, "could not write the audit log");
    }
}

/// Appends an entry that must be written for the action to happen (a read of personal
/// data): within the action's transaction, an error fails it.
pub fn append_required(conn: &mut AnyConnection, e: Entry) -> Result<(), crate::error::ApiError> {
    audit::insert(conn, &row(e))?;
    Ok(())
}

fn row(e: Entry) -> AuditRow {
    AuditRow {
        id: Uuid::now_v7().to_string(),
        at: now_ms(),
        actor_user_id: e.actor_user_id.map(|u| u.to_string()),
        actor_username: e.actor_username,
        action: e.action,
        target: e.target,
        detail: e.detail.to_string(),
        remote_addr: e.remote_addr,
        success: e.success,
    }
}
