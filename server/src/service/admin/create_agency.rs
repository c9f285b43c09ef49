//! Creating an agency.

use crate::api::admin::{AgencyView, NewAgency};
use crate::auth::Caller;
use crate::db::{AnyConnection, agencies};
use crate::error::{ApiError, ErrorCode};
use crate::ids::AgencyId;
use crate::service::audit;
use crate::service::authorize;

/// Creates an agency (regency admins).
pub fn create_agency(
    conn: &mut AnyConnection,
    caller: &Caller,
    req: NewAgency,
) -> Result<AgencyView, ApiError> {
    let p = authorize::regency_admin(conn, caller)?;
    let agency = insert_agency(conn, req)?;
    audit::append(
        conn,
        p.actor().action(
            "agency_created",
            Some(&agency.id.to_string()),
            serde_json::json!({"name": agency.name, "kind": agency.kind}),
        ),
    );
    Ok(agency)
}

/// Checks and stores a new agency; the caller decides who may.
pub fn insert_agency(conn: &mut AnyConnection, req: NewAgency) -> Result<AgencyView, ApiError> {
    let name = req.name.trim();
    let kind = req.kind.trim();
    if name.is_empty() || name.chars().count() > 200 || kind.is_empty() || kind.len() > 32 {
        return Err(ApiError::new(
            ErrorCode::InvalidAgency,
            "an agency has a name (1-200 characters) and a kind (1-32 characters)",
        ));
    }
    let id = AgencyId::generate();
    if !agencies::insert(conn, id, name, kind)? {
        return Err(ApiError::new(
            ErrorCode::AgencyExists,
            format!("an agency named `{name}` exists"),
        ));
    }
    Ok(AgencyView {
        id,
        name: name.to_owned(),
        kind: kind.to_owned(),
    })
}
