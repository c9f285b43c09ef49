//! `/v1/admin/...`: agencies, areas, users, devices, records, visit reviews, audit log.

use actix_web::{HttpResponse, web};

use crate::api::accounts::NewUserRequest;
use crate::api::accounts::UserView;
use crate::api::admin::{AgencyView, AuditEntryView, DeviceView};
use crate::api::admin::{AuditQuery, NewAgency, Revocation};
use crate::api::areas::AreaView;
use crate::api::areas::{AreaQuery, NewArea};
use crate::api::assignments::{AssignmentView, HeldWriteView, ImportReport};
use crate::api::assignments::{EndAssignment, HeldWriteQuery, ImportQuery, NewAssignment};
use crate::api::identity::{HouseholdMatches, IdentityStatus, IdentityView};
use crate::api::identity::{IdentityLookup, IdentityReadQuery, IdentityUpdate};
use crate::api::imports::{HouseholdImportReport, Refused, UserImportReport};
use crate::api::records::{EditDone, RecordRead};
use crate::api::records::{RecordEdit, RejectedEdit};
use crate::api::reports::HouseholdReport;
use crate::api::reviews::{ReviewDone, ReviewRequest, ReviewView};
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
#[utoipa::path(
    get,
    path = "/v1/admin/agencies",
    tag = "admin",
    summary = "List agencies",
    responses(
        (status = 200, description = "The agencies the caller may see.", body = Vec<AgencyView>),
    ),
)]
pub async fn list_agencies(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let v = super::with_conn(&state, move |c, _| admin::list_agencies(c, &caller)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// `POST /v1/admin/agencies`.
#[utoipa::path(
    post,
    path = "/v1/admin/agencies",
    tag = "admin",
    summary = "Create an agency",
    request_body = NewAgency,
    responses(
        (status = 201, description = "Created.", body = AgencyView),
    ),
)]
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
#[utoipa::path(
    get,
    path = "/v1/admin/areas",
    tag = "admin",
    summary = "List the kecamatan and desa",
    params(AreaQuery),
    responses(
        (status = 200, description = "The areas, by code.", body = Vec<AreaView>),
    ),
)]
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
#[utoipa::path(
    post,
    path = "/v1/admin/areas",
    tag = "admin",
    summary = "Add a kecamatan, desa or kelurahan",
    request_body = NewArea,
    responses(
        (status = 201, description = "Added.", body = AreaView),
    ),
)]
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
#[utoipa::path(
    get,
    path = "/v1/admin/users",
    tag = "admin",
    summary = "List users",
    responses(
        (status = 200, description = "The users the caller may see.", body = Vec<UserView>),
    ),
)]
pub async fn list_users(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let v = super::with_conn(&state, move |c, _| admin::list_users(c, &caller)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// `POST /v1/admin/users`.
#[utoipa::path(
    post,
    path = "/v1/admin/users",
    tag = "admin",
    summary = "Create a user",
    request_body = NewUserRequest,
    responses(
        (status = 201, description = "Created.", body = UserView),
    ),
)]
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
#[utoipa::path(
    post,
    path = "/v1/admin/users/{id}/deactivate",
    tag = "admin",
    summary = "Deactivate a user",
    params(("id" = String, Path, description = "The user.")),
    responses(
        (status = 200, description = "The user, deactivated.", body = UserView),
    ),
)]
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
#[utoipa::path(
    post,
    path = "/v1/admin/users/{id}/activate",
    tag = "admin",
    summary = "Activate a user again",
    params(("id" = String, Path, description = "The user.")),
    responses(
        (status = 200, description = "The user, active.", body = UserView),
    ),
)]
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
#[utoipa::path(
    post,
    path = "/v1/admin/devices/{id}/revoke",
    tag = "admin",
    summary = "Revoke a device, with a reason",
    request_body = Revocation,
    params(("id" = String, Path, description = "The device.")),
    responses(
        (status = 200, description = "The device, revoked.", body = DeviceView),
    ),
)]
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
#[utoipa::path(
    get,
    path = "/v1/admin/households/{id}",
    tag = "admin",
    summary = "One household with its totals, visits and aid",
    params(("id" = String, Path, description = "The household.")),
    responses(
        (status = 200, description = "The household.", body = HouseholdReport),
    ),
)]
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
#[utoipa::path(
    get,
    path = "/v1/admin/audit",
    tag = "admin",
    summary = "Read the audit log, newest first",
    params(AuditQuery),
    responses(
        (status = 200, description = "Entries, newest first.", body = Vec<AuditEntryView>),
    ),
)]
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
#[utoipa::path(
    post,
    path = "/v1/admin/assignments",
    tag = "admin",
    summary = "Assign a household to an officer",
    request_body = NewAssignment,
    responses(
        (status = 200, description = "The new assignment (or the current one, when it names the same officer).", body = AssignmentView),
    ),
)]
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
#[utoipa::path(
    post,
    path = "/v1/admin/assignments/{id}/end",
    tag = "admin",
    summary = "End an assignment without a successor",
    request_body = EndAssignment,
    params(("id" = String, Path, description = "The assignment.")),
    responses(
        (status = 200, description = "The assignment, ended.", body = AssignmentView),
    ),
)]
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
#[utoipa::path(
    get,
    path = "/v1/admin/held-writes",
    tag = "admin",
    summary = "Writes refused `out_of_scope`, kept for review",
    params(HeldWriteQuery),
    responses(
        (status = 200, description = "Held writes, newest first.", body = Vec<HeldWriteView>),
    ),
)]
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
#[utoipa::path(
    post,
    path = "/v1/admin/assignments/import",
    tag = "admin",
    summary = "Assign households in bulk from a CSV file: all rows or none",
    request_body(content = String, content_type = "text/csv", description = "`household_id,officer_id,reason` rows, with that header."),
    params(ImportQuery),
    responses(
        (status = 200, description = "What the file did, or would do in a dry run.", body = ImportReport),
        (status = 422, description = "A row is refused (`import_refused`): nothing was written; the report is beside the error.", body = Refused<ImportReport>),
    ),
)]
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
#[utoipa::path(
    post,
    path = "/v1/admin/households/import",
    tag = "admin",
    summary = "Register households from a registry's CSV file: all rows or none",
    request_body(content = String, content_type = "text/csv", description = "One household a row, with a header (docs/api.md section 7.10)."),
    params(ImportQuery),
    responses(
        (status = 200, description = "What the file did, or would do in a dry run.", body = HouseholdImportReport),
        (status = 422, description = "A row is refused (`import_refused`): nothing was written; the report is beside the error.", body = Refused<HouseholdImportReport>),
    ),
)]
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
#[utoipa::path(
    post,
    path = "/v1/admin/users/import",
    tag = "admin",
    summary = "Create users from a CSV file, each with a one-time password",
    request_body(content = String, content_type = "text/csv", description = "One user a row, with a header (docs/api.md section 7.10)."),
    params(ImportQuery),
    responses(
        (status = 200, description = "What the file did, or would do in a dry run.", body = UserImportReport),
        (status = 422, description = "A row is refused (`import_refused`): nothing was written; the report is beside the error.", body = Refused<UserImportReport>),
    ),
)]
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
#[utoipa::path(
    put,
    path = "/v1/admin/households/{id}/identity",
    tag = "admin",
    summary = "Set, replace or remove a household's KK and NIK numbers",
    request_body = IdentityUpdate,
    params(("id" = String, Path, description = "The household.")),
    responses(
        (status = 200, description = "What the household has now, without the numbers.", body = IdentityStatus),
    ),
)]
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
#[utoipa::path(
    get,
    path = "/v1/admin/households/{id}/identity",
    tag = "admin",
    summary = "Read a household's KK and NIK numbers, with a reason that is audited",
    params(("id" = String, Path, description = "The household."), IdentityReadQuery),
    responses(
        (status = 200, description = "The numbers (`Cache-Control: no-store`).", body = IdentityView),
    ),
)]
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
#[utoipa::path(
    post,
    path = "/v1/admin/households/lookup",
    tag = "admin",
    summary = "Find households by KK or NIK number",
    request_body = IdentityLookup,
    responses(
        (status = 200, description = "The caller's households with that number.", body = HouseholdMatches),
    ),
)]
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
#[utoipa::path(
    get,
    path = "/v1/admin/records/{collection}/{id}",
    tag = "admin",
    summary = "A record as it stands, with the context an edit sends back",
    params(("collection" = String, Path, description = "`households`, `visits` or `aid`."), ("id" = String, Path, description = "The record.")),
    responses(
        (status = 200, description = "The record and its `ctx`.", body = RecordRead),
    ),
)]
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
#[utoipa::path(
    put,
    path = "/v1/admin/records/{collection}/{id}",
    tag = "admin",
    summary = "Write a whole record (creates it), through the merge",
    request_body = RecordEdit,
    params(("collection" = String, Path, description = "`households`, `visits` or `aid`."), ("id" = String, Path, description = "The record.")),
    responses(
        (status = 200, description = "Applied, or kept as a conflict; the record as it now stands.", body = EditDone),
        (status = 422, description = "The merge rejected the edit (`edit_rejected`): nothing was written.", body = RejectedEdit),
    ),
)]
pub async fn put_record(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: JsonBody<RecordEdit>,
) -> Result<HttpResponse, ApiError> {
    edit_record(state, caller, path, OpKind::Put, body.into_inner()).await
}

/// `PATCH /v1/admin/records/{collection}/{id}`.
#[utoipa::path(
    patch,
    path = "/v1/admin/records/{collection}/{id}",
    tag = "admin",
    summary = "Write whole field groups of a record, through the merge",
    request_body = RecordEdit,
    params(("collection" = String, Path, description = "`households`, `visits` or `aid`."), ("id" = String, Path, description = "The record.")),
    responses(
        (status = 200, description = "Applied, or kept as a conflict; the record as it now stands.", body = EditDone),
        (status = 422, description = "The merge rejected the edit (`edit_rejected`): nothing was written.", body = RejectedEdit),
    ),
)]
pub async fn patch_record(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: JsonBody<RecordEdit>,
) -> Result<HttpResponse, ApiError> {
    edit_record(state, caller, path, OpKind::Patch, body.into_inner()).await
}

/// `DELETE /v1/admin/records/{collection}/{id}`, with the `ctx` in the body.
#[utoipa::path(
    delete,
    path = "/v1/admin/records/{collection}/{id}",
    tag = "admin",
    summary = "Delete a record (a tombstone), `ctx` in the body, through the merge",
    request_body = RecordEdit,
    params(("collection" = String, Path, description = "`households`, `visits` or `aid`."), ("id" = String, Path, description = "The record.")),
    responses(
        (status = 200, description = "Applied, or kept as a conflict; the record as it now stands.", body = EditDone),
        (status = 422, description = "The merge rejected the edit (`edit_rejected`): nothing was written.", body = RejectedEdit),
    ),
)]
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
#[utoipa::path(
    get,
    path = "/v1/admin/visits/{id}/review",
    tag = "admin",
    summary = "A visit's review as it stands",
    params(("id" = String, Path, description = "The visit.")),
    responses((status = 200, description = "The review; `received` with no record before the first decision.", body = ReviewView)),
)]
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
#[utoipa::path(
    post,
    path = "/v1/admin/visits/{id}/review",
    tag = "admin",
    summary = "Review a visit: approved, has_issues, rejected, or received again",
    request_body = ReviewRequest,
    params(("id" = String, Path, description = "The visit.")),
    responses((status = 200, description = "Applied, or kept beside a concurrent decision (`conflict`); the review as it now stands.", body = ReviewDone)),
)]
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
