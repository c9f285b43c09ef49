//! The first regency administrator of an empty database.

use crate::api::accounts::NewUserRequest;
use crate::auth::{Role, password};
use crate::db::{AnyConnection, users};
use crate::error::{ApiError, ErrorCode};
use crate::service::audit::{self, Entry};

use super::create_user;

/// On a database with no users, creates the first regency administrator with a random
/// password, and returns (user name, password) for the operator to read once.
pub fn bootstrap_admin(conn: &mut AnyConnection) -> Result<Option<(String, String)>, ApiError> {
    if users::count(conn)? > 0 {
        return Ok(None);
    }
    let pw = password::generate().map_err(ApiError::Internal)?;
    let created = create_user(
        conn,
        NewUserRequest {
            username: "admin".into(),
            display_name: "Administrator".into(),
            role: Role::RegencyAdmin,
            agency_id: None,
            password: pw.clone(),
        },
    );
    let user = match created {
        // Another instance starting at the same moment made it first.
        Err(e) if e.code() == ErrorCode::UsernameTaken => return Ok(None),
        other => other?,
    };
    audit::append(
        conn,
        Entry::system(
            "user_created",
            Some(&user.id.to_string()),
            serde_json::json!({"username": user.username, "role": "regency_admin", "bootstrap": true}),
        ),
    );
    Ok(Some((user.username, pw)))
}
