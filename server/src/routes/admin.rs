//! `/v1/admin/...`: agencies, areas, users, devices, audit log.

use actix_web::{HttpResponse, web};

use crate::api::accounts::NewUserRequest;
use crate::api::admin::{AuditQuery, NewAgency, Revocation};
use crate::api::areas::{AreaQuery, NewArea};
use crate::api::assignments::{
    AssignmentQuery, EndAssignment, HeldWriteQuery, ImportQuery, ImportReport, NewAssignment,
    RefusedImport,
};
use crate::auth::Caller;
use crate::csv_body::CsvBody;
use crate::error::{ApiError, ErrorCode};
use crate::ids::{DeviceId, UserId};
use crate::json_body::JsonBody;
use crate::query_params::QueryParams;
use crate::service::admin;
use crate::startup::AppState;
use sync_protocol::RecordId;
use sync_protocol::wire::ErrorBody;

/// `GET /v1/admin/agencies`.
pub async fn list_agencies(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let v = super::with_conn(&state, move |c, _| admin::list_agencies(c, &caller)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// `POST /v1/admin/agencies`.
pub async fn create_agency(
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<NewAgency>,
) -> Result<HttpResponse, ApiError> {
    let req = body.into_inner();
    let v = super::with_conn(&state, move |c, _| admin::create_agency(c, &caller, req)).await?;
    Ok(HttpResponse::Created().json(v))
}

/// `GET /v1/admin/areas?level=&parent=`.
pub async fn list_areas(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<AreaQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let v = super::with_conn(&state, move |c, _| admin::list_areas(c, &caller, q)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// `POST /v1/admin/areas`.
pub async fn add_area(
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<NewArea>,
) -> Result<HttpResponse, ApiError> {
    let req = body.into_inner();
    let v = super::with_conn(&state, move |c, _| admin::add_area(c, &caller, req)).await?;
    Ok(HttpResponse::Created().json(v))
}

/// `GET /v1/admin/users`.
pub async fn list_users(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let v = super::with_conn(&state, move |c, _| admin::list_users(c, &caller)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// `POST /v1/admin/users`.
pub async fn create_user(
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<NewUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let req = body.into_inner();
    let v = super::with_conn(&state, move |c, _| admin::create_user(c, &caller, req)).await?;
    Ok(HttpResponse::Created().json(v))
}

/// `POST /v1/admin/users/{id}/deactivate`.
pub async fn deactivate_user(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = user_in_path(&path)?;
    let v = super::with_conn(&state, move |c, _| {
        admin::set_user_active(c, &caller, id, false)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// `POST /v1/admin/users/{id}/activate`.
pub async fn activate_user(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = user_in_path(&path)?;
    let v = super::with_conn(&state, move |c, _| {
        admin::set_user_active(c, &caller, id, true)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// `GET /v1/admin/devices`.
pub async fn list_devices(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let v = super::with_conn(&state, move |c, _| admin::list_devices(c, &caller)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// `POST /v1/admin/devices/{id}/revoke`.
pub async fn revoke_device(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<Revocation>,
) -> Result<HttpResponse, ApiError> {
    let id: DeviceId = path.parse().map_err(|_| {
        ApiError::new(
            ErrorCode::DeviceNotFound,
            format!("no device {} you may manage", path.as_str()),
        )
    })?;
    let req = body.into_inner();
    let v = super::with_conn(&state, move |c, _| {
        admin::revoke_device(c, &caller, id, req)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// `GET /v1/admin/households/{id}`.
pub async fn read_household(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    // An id that is not a UUID names no household.
    let id: RecordId = path.parse().map_err(|_| {
        ApiError::new(
            ErrorCode::HouseholdNotFound,
            format!("no household {} you may see", path.as_str()),
        )
    })?;
    let v = super::with_conn(&state, move |c, s| {
        admin::read_household(c, &caller, id, s.reporting, chrono::Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// `GET /v1/admin/audit?before=&action=&limit=`.
pub async fn audit_log(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let v = super::with_conn(&state, move |c, _| admin::read_audit_log(c, &caller, q)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// A user id in the path; one that is not a UUID names no user.
fn user_in_path(path: &web::Path<String>) -> Result<UserId, ApiError> {
    path.parse().map_err(|_| {
        ApiError::new(
            ErrorCode::UserNotFound,
            format!("no user {}", path.as_str()),
        )
    })
}

/// `GET /v1/admin/assignments?household_id=&officer_id=&active=&limit=`.
pub async fn list_assignments(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<AssignmentQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let v = super::with_conn(&state, move |c, _| admin::list_assignments(c, &caller, q)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// `POST /v1/admin/assignments`.
pub async fn assign_household(
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<NewAssignment>,
) -> Result<HttpResponse, ApiError> {
    let req = body.into_inner();
    let v = super::with_conn(&state, move |c, _| admin::assign_household(c, &caller, req)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// `POST /v1/admin/assignments/{id}/end`.
pub async fn end_assignment(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<EndAssignment>,
) -> Result<HttpResponse, ApiError> {
    let req = body.into_inner();
    let id = path.into_inner();
    let v = super::with_conn(&state, move |c, _| {
        admin::end_assignment(c, &caller, &id, req)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// `GET /v1/admin/held-writes?limit=`.
pub async fn list_held_writes(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<HeldWriteQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let v = super::with_conn(&state, move |c, _| admin::list_held_writes(c, &caller, q)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// `POST /v1/admin/assignments/import?dry_run=`, a CSV file.
pub async fn import_assignments(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<ImportQuery>,
    body: CsvBody,
) -> Result<HttpResponse, ApiError> {
    let dry_run = query.into_inner().dry_run;
    let file = body.into_inner();
    let report = super::with_conn(&state, move |c, _| {
        admin::import_assignments(c, &caller, &file, dry_run)
    })
    .await?;
    Ok(import_answer(report))
}

/// `200` with the report, or `422 import_refused` with it when any row was refused.
fn import_answer(report: ImportReport) -> HttpResponse {
    if report.refused.is_empty() {
        return HttpResponse::Ok().json(report);
    }
    let message = format!(
        "{} of the file's rows refused; nothing was written",
        report.refused.len()
    );
    HttpResponse::build(ErrorCode::ImportRefused.status()).json(RefusedImport {
        error: ErrorBody::new(ErrorCode::ImportRefused.as_str(), message),
        report,
    })
}
