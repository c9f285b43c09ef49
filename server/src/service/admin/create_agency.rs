//! Creating an agency.

use crate::api::admin::{AgencyView, NewAgency};
use crate::auth::Caller;
use crate::db::{AnyConnection, agencies};
use crate::error::{ApiError, ErrorCode};
use crate::ids::AgencyId;
use crate::service::audit;
use crate::service::authorize;
use crate::service::names::{same_name, visible_name};

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
    let invalid = |field: &str, why: String| {
        ApiError::new(
            ErrorCode::InvalidAgency,
            format!("the agency's {field} {why}"),
        )
    };
    let name = visible_name(&req.name, 200).map_err(|why| invalid("name", why))?;
    let kind = visible_name(&req.kind, 32).map_err(|why| invalid("kind", why))?;
    let id = AgencyId::generate();
    if let Some(taken) = agencies::insert_unless_named(conn, id, name, kind, same_name)? {
        return Err(ApiError::new(
            ErrorCode::AgencyExists,
            format!("an agency named `{taken}` exists (names are compared ignoring case)"),
        ));
    }
    Ok(AgencyView {
        id,
        name: name.to_owned(),
        kind: kind.to_owned(),
    })
}
