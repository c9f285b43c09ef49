//! `/v1/admin/...`: agencies, areas, users, devices, records, visit reviews, audit log.

use actix_web::{HttpResponse, web};

use crate::api::accounts::NewUserRequest;
use crate::api::admin::{AuditQuery, NewAgency, Revocation};
use crate::api::areas::{AreaQuery, NewArea};
use crate::api::assignments::{EndAssignment, HeldWriteQuery, ImportQuery, NewAssignment};
use crate::api::identity::{IdentityLookup, IdentityReadQuery, IdentityUpdate};
use crate::api::imports::Refused;
use crate::api::records::{RecordEdit, RejectedEdit};
use crate::api::reviews::ReviewRequest;
use crate::auth::Caller;
use crate::csv_body::CsvBody;
use crate::error::{ApiError, ErrorCode};
use crate::ids::{DeviceId, UserId};
use crate::json_body::JsonBody;
use crate::query_params::QueryParams;
use crate::service::admin;
use crate::startup::AppState;
use sync_protocol::wire::{ErrorBody, OpKind};
use sync_protocol::{RecordId, Status};

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
    Ok(import_answer(report.refused.len(), report))
}

/// `POST /v1/admin/households/import?dry_run=`, a CSV file.
pub async fn import_households(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<ImportQuery>,
    body: CsvBody,
) -> Result<HttpResponse, ApiError> {
    let dry_run = query.into_inner().dry_run;
    let file = body.into_inner();
    let report = super::with_conn(&state, move |c, s| {
        admin::import_households(c, &caller, &s.pii, &file, dry_run)
    })
    .await?;
    Ok(import_answer(report.refused.len(), report))
}

/// `POST /v1/admin/users/import?dry_run=`, a CSV file.
pub async fn import_users(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<ImportQuery>,
    body: CsvBody,
) -> Result<HttpResponse, ApiError> {
    let dry_run = query.into_inner().dry_run;
    let file = body.into_inner();
    let report = super::with_conn(&state, move |c, _| {
        admin::import_users(c, &caller, &file, dry_run)
    })
    .await?;
    Ok(import_answer(report.refused.len(), report))
}

/// `200` with the report, or `422 import_refused` with it when any row was refused.
fn import_answer<R: serde::Serialize>(refused: usize, report: R) -> HttpResponse {
    if refused == 0 {
        return HttpResponse::Ok().json(report);
    }
    let message = format!("{refused} of the file's rows refused; nothing was written");
    HttpResponse::build(ErrorCode::ImportRefused.status()).json(Refused {
        error: ErrorBody::new(ErrorCode::ImportRefused.as_str(), message),
        report,
    })
}

/// `PUT /v1/admin/households/{id}/identity`.
pub async fn set_household_identity(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<IdentityUpdate>,
) -> Result<HttpResponse, ApiError> {
    let id = household_in_path(&path)?;
    let req = body.into_inner();
    let v = super::with_conn(&state, move |c, s| {
        admin::set_household_identity(c, &caller, &s.pii, id, req)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// `GET /v1/admin/households/{id}/identity?reason=`.
pub async fn read_household_identity(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: QueryParams<IdentityReadQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = household_in_path(&path)?;
    let q = query.into_inner();
    let v = super::with_conn(&state, move |c, s| {
        admin::read_household_identity(c, &caller, &s.pii, id, q)
    })
    .await?;
    // Not to be kept by a browser or a proxy.
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(v))
}

/// `POST /v1/admin/households/lookup`: a POST, so that the number is in no URL and no
/// access log.
pub async fn lookup_households(
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<IdentityLookup>,
) -> Result<HttpResponse, ApiError> {
    let req = body.into_inner();
    let v = super::with_conn(&state, move |c, s| {
        admin::lookup_households(c, &caller, &s.pii, req)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// A household id in the path; one that is not a UUID names no household.
fn household_in_path(path: &web::Path<String>) -> Result<RecordId, ApiError> {
    path.parse().map_err(|_| {
        ApiError::new(
            ErrorCode::HouseholdNotFound,
            format!("no household {}", path.as_str()),
        )
    })
}

/// A record id in the path; one that is not a UUID names no record.
pub(super) fn record_in_path(
    path: &web::Path<(String, String)>,
) -> Result<(String, RecordId), ApiError> {
    let (collection, id) = path.as_ref();
    let id = id.parse().map_err(|_| {
        ApiError::new(
            ErrorCode::RecordNotFound,
            format!("no record {id} in {collection}"),
        )
    })?;
    Ok((collection.clone(), id))
}

/// `GET /v1/admin/records/{collection}/{id}`.
pub async fn read_record(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (collection, id) = record_in_path(&path)?;
    let v = super::with_conn(&state, move |c, _| {
        admin::read_record(c, &caller, &collection, id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// `PUT /v1/admin/records/{collection}/{id}`.
pub async fn put_record(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: JsonBody<RecordEdit>,
) -> Result<HttpResponse, ApiError> {
    edit_record(state, caller, path, OpKind::Put, body.into_inner()).await
}

/// `PATCH /v1/admin/records/{collection}/{id}`.
pub async fn patch_record(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: JsonBody<RecordEdit>,
) -> Result<HttpResponse, ApiError> {
    edit_record(state, caller, path, OpKind::Patch, body.into_inner()).await
}

/// `DELETE /v1/admin/records/{collection}/{id}`, with the `ctx` in the body.
pub async fn delete_record(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: JsonBody<RecordEdit>,
) -> Result<HttpResponse, ApiError> {
    edit_record(state, caller, path, OpKind::Delete, body.into_inner()).await
}

async fn edit_record(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    kind: OpKind,
    edit: RecordEdit,
) -> Result<HttpResponse, ApiError> {
    let (collection, id) = record_in_path(&path)?;
    let done = super::with_conn(&state, move |c, _| {
        admin::edit_record(c, &caller, &collection, id, kind, edit)
    })
    .await?;
    Ok(edit_answer(done))
}

/// `200` with what an accepted edit did, or `422 edit_rejected` with the rejected result.
pub(super) fn edit_answer(done: crate::api::records::EditDone) -> HttpResponse {
    if done.result.status != Status::Rejected {
        return HttpResponse::Ok().json(done);
    }
    let why = done
        .result
        .error
        .as_ref()
        .map_or_else(String::new, |e| format!("{}: {}", e.code, e.message));
    HttpResponse::build(ErrorCode::EditRejected.status()).json(RejectedEdit {
        error: ErrorBody::new(
            ErrorCode::EditRejected.as_str(),
            format!("the edit was rejected, nothing was written: {why}"),
        ),
        result: done.result,
    })
}

fn visit_in_path(path: &web::Path<String>) -> Result<RecordId, ApiError> {
    path.parse().map_err(|_| {
        ApiError::new(
            ErrorCode::RecordNotFound,
            format!("no record {} in visits", path.as_str()),
        )
    })
}

/// `GET /v1/admin/visits/{id}/review`.
pub async fn read_visit_review(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = visit_in_path(&path)?;
    let v = super::with_conn(&state, move |c, _| admin::read_visit_review(c, &caller, id)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// `POST /v1/admin/visits/{id}/review`.
pub async fn review_visit(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<ReviewRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = visit_in_path(&path)?;
    let req = body.into_inner();
    let v = super::with_conn(&state, move |c, _| admin::review_visit(c, &caller, id, req)).await?;
    Ok(HttpResponse::Ok().json(v))
}
