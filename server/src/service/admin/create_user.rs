//! Creating a user as an administrator.

use crate::api::accounts::{NewUserRequest, UserView};
use crate::auth::{Caller, Role};
use crate::db::AnyConnection;
use crate::error::{ApiError, ErrorCode};
use crate::service::{accounts, audit, authorize};

/// Creates a user: any for a regency admin; an officer of their own agency for an agency
/// admin.
pub fn create_user(
    conn: &mut AnyConnection,
    caller: &Caller,
    mut req: NewUserRequest,
) -> Result<UserView, ApiError> {
    let p = authorize::admin(conn, caller)?;
    if let Some(own) = p.agency_limit()? {
        if req.role != Role::Officer {
            return Err(ApiError::new(
                ErrorCode::ForbiddenRole,
                "agency admins create officers only",
            ));
        }
        match req.agency_id {
            Some(a) if a != own => {
                return Err(ApiError::new(
                    ErrorCode::OtherAgency,
                    "agency admins create officers of their own agency only",
                ));
            }
            _ => req.agency_id = Some(own),
        }
    }
    let user = accounts::create_user(conn, req)?;
    audit::append(
        conn,
        p.actor().action(
            "user_created",
            Some(&user.id.to_string()),
            serde_json::json!({"username": user.username, "role": user.role, "agency_id": user.agency_id}),
        ),
    );
    Ok(user)
}
