//! The OpenAPI 3.1 document, served at `GET /openapi.json` and kept as `docs/openapi.json`.
//!
//! It is built from the code: utoipa reads each handler's `#[utoipa::path]` and the types'
//! `ToSchema` derives (the wire types' in `sync-protocol`, behind its `openapi` feature), and
//! [`ENDPOINTS`] adds, per endpoint, who may call it and the error codes it can answer.
//!
//! # Annotating a new endpoint
//!
//! 1. On the handler in `routes/<area>.rs`, above `pub async fn`:
//!    ```text
//!    #[utoipa::path(
//!        get,                                  // post, put, patch, delete
//!        path = "/v1/admin/visits",            // the full path, `{id}` as in configure
//!        tag = "admin",
//!        summary = "List visits",
//!        params(VisitQuery),                   // a query struct; a path id:
//!                                              // ("id" = String, Path, description = "..")
//!        request_body = NewThing,              // a JSON body; a CSV one:
//!        // request_body(content = String, content_type = "text/csv", description = ".."),
//!        responses((status = 200, description = "..", body = Page<VisitView>)),
//!    )]
//!    ```
//!    Only the success answers (and an endpoint's own error bodies, like an import's `422`):
//!    the error answers come from step 3.
//! 2. Derive `utoipa::ToSchema` on its request and response types in `api/` (beside
//!    `Serialize`/`Deserialize`), and `utoipa::IntoParams` with
//!    `#[into_params(parameter_in = Query)]` on its query struct. A field whose serde type
//!    is not its wire type says so: `#[schema(value_type = String)]`
//!    (`Option<Object>` for a JSON object).
//! 3. Add the handler to `paths(...)` below, and one row to [`ENDPOINTS`]: method, path,
//!    [`Access`], and the codes of its own (`error/code.rs`). The codes every endpoint of its
//!    kind answers are added for it: those of the token ([`Access`]), of a JSON or CSV body,
//!    of query parameters (`invalid_query`), and `internal_error`, `database_unavailable`.
//! 4. `UPDATE_OPENAPI=1 cargo test -p kampung-sync-tests --test e2e openapi::` rewrites
//!    `docs/openapi.json`; review its diff and commit it.
//!
//! The tests fail when a route of `routes::configure` has no operation here, when an
//! operation has no row in [`ENDPOINTS`] (or the reverse), when an error code appears in no
//! operation, and when `docs/openapi.json` is not what the server serves.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::{Value, json};
use utoipa::OpenApi;

use crate::error::ErrorCode;
use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "kampung-sync",
        description = "The REST sync of the field app and the admin API. The protocol is \
            docs/sync-protocol.md, the accounts and admin endpoints docs/api.md. Every error \
            answer is an `ErrorBody`: match on `error.code` (the `ErrorCode` schema lists \
            every code, each response the codes it can carry); `error.message` is for people. \
            An unknown path, or a known path with another method, is answered `404` with the \
            code `not_found`."
    ),
    paths(
        routes::health::healthz,
        routes::openapi::document,
        routes::auth::login,
        routes::auth::refresh,
        routes::auth::change_password,
        routes::auth::me,
        routes::sync::push,
        routes::sync::pull,
        routes::admin::list_agencies,
        routes::admin::create_agency,
        routes::admin::list_areas,
        routes::admin::add_area,
        routes::admin::list_users,
        routes::admin::create_user,
        routes::admin::import_users,
        routes::admin::deactivate_user,
        routes::admin::activate_user,
        routes::lists::devices,
        routes::admin::revoke_device,
        routes::admin::audit_log,
        routes::admin::read_household,
        routes::lists::households,
        routes::lists::visits,
        routes::lists::aid,
        routes::lists::officers,
        routes::lists::assignments,
        routes::reports::coverage,
        routes::reports::aid,
        routes::reports::officers,
        routes::reports::conditions,
        routes::reports::locations,
        routes::admin::list_held_writes,
        routes::admin::assign_household,
        routes::admin::import_assignments,
        routes::admin::end_assignment,
        routes::admin::lookup_households,
        routes::admin::set_household_identity,
        routes::admin::read_household_identity,
        routes::admin::import_households,
        routes::admin::read_record,
        routes::admin::put_record,
        routes::admin::patch_record,
        routes::admin::delete_record,
        routes::admin::read_visit_review,
        routes::admin::review_visit,
        routes::conflicts::record_history,
        routes::conflicts::list_conflicts,
        routes::conflicts::resolve_conflict,
    ),
    components(schemas(ErrorCode, sync_protocol::wire::ErrorBody)),
    tags(
        (name = "health", description = "Probes and this document; no token."),
        (name = "auth", description = "Sign-in, tokens, one's own account (docs/api.md section 2)."),
        (name = "sync", description = "Push and pull (docs/sync-protocol.md)."),
        (name = "admin", description = "Administration (docs/api.md section 7)."),
    )
)]
struct Annotated;

/// Who may call an endpoint, and so which codes the token check can answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, and no database is read for an error: the probe and this document.
    Open,
    /// Anyone: sign-in and refresh.
    Anyone,
    /// Signed in, also with a one-time password (`/v1/me`, the password change).
    Account,
    /// Signed in, any role.
    SignedIn,
    /// Signed in as an agency or regency admin (the role checks are the service's).
    Admin,
}

/// One operation: what the `#[utoipa::path]` of its handler does not say.
#[derive(Clone, Copy, Debug)]
pub struct Endpoint {
    /// Lowercase, as in the document: `get`, `post`, ...
    pub method: &'static str,
    /// As in `routes::configure`.
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
    /// The codes of its own, beyond those of its access, body and query.
    pub codes: &'static [ErrorCode],
}

const fn row(
    method: &'static str,
    path: &'static str,
    access: Access,
    codes: &'static [ErrorCode],
) -> Endpoint {
    Endpoint {
        method,
        path,
        access,
        codes,
    }
}

use Access::{Account, Admin, Anyone, Open, SignedIn};
use ErrorCode as C;

/// Every operation of the API, in the order of `routes::configure`.
pub const ENDPOINTS: &[Endpoint] = &[
    row("get", "/healthz", Open, &[]),
    row("head", "/healthz", Open, &[]),
    row("get", "/openapi.json", Open, &[]),
    row("get", "/v1/me", Account, &[]),
    row(
        "post",
        "/v1/auth/login",
        Anyone,
        &[
            C::InvalidCredentials,
            C::UserDeactivated,
            C::DeviceRevoked,
            C::DeviceRegisteredToAnotherUser,
            C::TooManyAttempts,
            C::SignInBusy,
        ],
    ),
    row(
        "post",
        "/v1/auth/refresh",
        Anyone,
        &[
            C::InvalidRefreshToken,
            C::RefreshTokenRevoked,
            C::RefreshTokenReused,
            C::RefreshTokenExpired,
            // The credential's account and device are checked as a token's are.
            C::UserDeactivated,
            C::DeviceRevoked,
            C::DeviceRegisteredToAnotherUser,
            C::DeviceNotRegistered,
        ],
    ),
    row(
        "post",
        "/v1/auth/password",
        Account,
        &[C::WeakPassword, C::WrongCurrentPassword, C::SignInBusy],
    ),
    row(
        "post",
        "/v1/sync/push",
        SignedIn,
        &[C::InvalidSeq, C::DeviceMismatch, C::BatchTooLarge],
    ),
    row(
        "get",
        "/v1/sync/pull",
        SignedIn,
        &[C::InvalidCursor, C::ResyncRequired],
    ),
    row("get", "/v1/admin/agencies", Admin, &[]),
    row(
        "post",
        "/v1/admin/agencies",
        Admin,
        &[C::InvalidAgency, C::AgencyExists],
    ),
    row("get", "/v1/admin/areas", Admin, &[]),
    row(
        "post",
        "/v1/admin/areas",
        Admin,
        &[C::InvalidArea, C::UnknownArea, C::AreaExists],
    ),
    row("get", "/v1/admin/users", Admin, &[]),
    row(
        "post",
        "/v1/admin/users",
        Admin,
        &[
            C::WeakPassword,
            C::InvalidUsername,
            C::InvalidDisplayName,
            C::AgencyRequired,
            C::UnknownAgency,
            C::OtherAgency,
            C::UsernameTaken,
        ],
    ),
    row("post", "/v1/admin/users/import", Admin, &[C::ImportRefused]),
    row(
        "post",
        "/v1/admin/users/{id}/deactivate",
        Admin,
        &[C::CannotDeactivateSelf, C::OtherAgency, C::UserNotFound],
    ),
    row(
        "post",
        "/v1/admin/users/{id}/activate",
        Admin,
        &[C::OtherAgency, C::UserNotFound],
    ),
    row(
        "get",
        "/v1/admin/devices",
        Admin,
        &[C::InvalidCursor, C::OtherAgency],
    ),
    row(
        "post",
        "/v1/admin/devices/{id}/revoke",
        Admin,
        &[C::InvalidReason, C::DeviceNotFound],
    ),
    row("get", "/v1/admin/audit", Admin, &[]),
    row(
        "get",
        "/v1/admin/households",
        Admin,
        &[C::InvalidCursor, C::OtherAgency],
    ),
    row(
        "get",
        "/v1/admin/visits",
        Admin,
        &[C::InvalidCursor, C::OtherAgency],
    ),
    row(
        "get",
        "/v1/admin/aid",
        Admin,
        &[C::InvalidCursor, C::OtherAgency],
    ),
    row(
        "get",
        "/v1/admin/officers",
        Admin,
        &[C::InvalidCursor, C::OtherAgency],
    ),
    row(
        "get",
        "/v1/admin/households/{id}",
        Admin,
        &[C::HouseholdNotFound],
    ),
    row(
        "get",
        "/v1/admin/assignments",
        Admin,
        &[C::InvalidCursor, C::OtherAgency],
    ),
    row("get", "/v1/admin/reports/coverage", Admin, &[]),
    row("get", "/v1/admin/reports/aid", Admin, &[]),
    row(
        "get",
        "/v1/admin/reports/officers",
        Admin,
        &[C::OtherAgency, C::UnknownAgency],
    ),
    row("get", "/v1/admin/reports/conditions", Admin, &[]),
    row("get", "/v1/admin/reports/locations", Admin, &[]),
    row("get", "/v1/admin/held-writes", Admin, &[]),
    row(
        "post",
        "/v1/admin/assignments",
        Admin,
        &[
            C::InvalidReason,
            C::NotAnOfficer,
            C::OtherAgency,
            C::UserNotFound,
            C::HouseholdNotFound,
        ],
    ),
    row(
        "post",
        "/v1/admin/assignments/import",
        Admin,
        &[C::ImportRefused],
    ),
    row(
        "post",
        "/v1/admin/assignments/{id}/end",
        Admin,
        &[C::InvalidReason, C::AssignmentNotFound],
    ),
    row(
        "post",
        "/v1/admin/households/lookup",
        Admin,
        &[C::InvalidIdentityNumber],
    ),
    row(
        "put",
        "/v1/admin/households/{id}/identity",
        Admin,
        &[
            C::InvalidIdentityNumber,
            C::OtherAgency,
            C::HouseholdNotFound,
            C::DuplicateKk,
            C::DuplicateNik,
        ],
    ),
    row(
        "get",
        "/v1/admin/households/{id}/identity",
        Admin,
        &[C::InvalidReason, C::HouseholdNotFound],
    ),
    row(
        "post",
        "/v1/admin/households/import",
        Admin,
        &[C::ImportRefused],
    ),
    row(
        "get",
        "/v1/admin/records/{collection}/{id}",
        Admin,
        &[C::OtherAgency, C::RecordNotFound],
    ),
    row(
        "put",
        "/v1/admin/records/{collection}/{id}",
        Admin,
        &[C::OtherAgency, C::RecordNotFound, C::EditRejected],
    ),
    row(
        "patch",
        "/v1/admin/records/{collection}/{id}",
        Admin,
        &[C::OtherAgency, C::RecordNotFound, C::EditRejected],
    ),
    row(
        "delete",
        "/v1/admin/records/{collection}/{id}",
        Admin,
        &[C::OtherAgency, C::RecordNotFound, C::EditRejected],
    ),
    row(
        "get",
        "/v1/admin/visits/{id}/review",
        Admin,
        &[C::OtherAgency, C::RecordNotFound],
    ),
    row(
        "post",
        "/v1/admin/visits/{id}/review",
        Admin,
        &[C::OtherAgency, C::RecordNotFound, C::EditRejected],
    ),
    row(
        "get",
        "/v1/admin/records/{collection}/{id}/history",
        Admin,
        &[C::InvalidCursor, C::OtherAgency, C::RecordNotFound],
    ),
    row(
        "get",
        "/v1/admin/conflicts",
        Admin,
        &[C::InvalidCursor, C::OtherAgency],
    ),
    row(
        "post",
        "/v1/admin/conflicts/{collection}/{id}/resolve",
        Admin,
        &[
            C::OtherAgency,
            C::RecordNotFound,
            C::StaleContext,
            C::NotConflicted,
            C::InvalidResolution,
            C::EditRejected,
        ],
    ),
];

/// What the token check answers on every signed-in endpoint.
const TOKEN: &[ErrorCode] = &[
    C::MissingToken,
    C::InvalidToken,
    C::TokenExpired,
    C::UserDeactivated,
    C::DeviceRevoked,
    C::DeviceRegisteredToAnotherUser,
    C::DeviceNotRegistered,
    C::TooManyRequests,
];

/// What reading a JSON body can answer.
const JSON_BODY: &[ErrorCode] = &[
    C::MalformedJson,
    C::InvalidRequest,
    C::UnreadableBody,
    C::RequestTimeout,
    C::PayloadTooLarge,
    C::UnsupportedMediaType,
];

/// What reading a CSV body can answer.
const CSV_BODY: &[ErrorCode] = &[
    C::UnreadableBody,
    C::RequestTimeout,
    C::PayloadTooLarge,
    C::UnsupportedMediaType,
];

/// What any endpoint that uses the database can answer.
const STORAGE: &[ErrorCode] = &[C::InternalError, C::DatabaseUnavailable];

/// The name of the bearer scheme in `components.securitySchemes`.
const BEARER: &str = "bearer";

/// The document, built once.
pub fn json() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let mut text = serde_json::to_string_pretty(&document()).unwrap_or_default();
        text.push('\n');
        text
    })
}

/// The document: utoipa's, with the security scheme and every operation's error answers.
pub fn document() -> Value {
    let mut doc = serde_json::to_value(Annotated::openapi()).unwrap_or(Value::Null);
    doc["components"]["securitySchemes"] = json!({
        BEARER: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "The access token of POST /v1/auth/login or /v1/auth/refresh: \
                `Authorization: Bearer <access_token>`."
        }
    });
    for e in ENDPOINTS {
        if let Some(op) = doc["paths"][e.path].get_mut(e.method) {
            describe_errors(op, e);
        }
    }
    // One handler for GET and HEAD gives both its name; operation ids must be unique.
    for item in doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|p| p.values_mut())
    {
        if let Some(id) = item["head"]["operationId"].as_str() {
            item["head"]["operationId"] = json!(format!("{id}_head"));
        }
    }
    doc
}

/// Every error code of the operation, by status, and its security requirement.
fn describe_errors(op: &mut Value, e: &Endpoint) {
    if matches!(e.access, Account | SignedIn | Admin) {
        op["security"] = json!([{ BEARER: [] }]);
    }
    let mut codes: Vec<ErrorCode> = Vec::new();
    if matches!(e.access, Account | SignedIn | Admin) {
        codes.extend(TOKEN);
    }
    if matches!(e.access, SignedIn | Admin) {
        codes.push(C::PasswordChangeRequired);
    }
    if e.access == Admin {
        codes.push(C::ForbiddenRole);
    }
    let body = &op["requestBody"]["content"];
    if body.get("application/json").is_some() {
        codes.extend(JSON_BODY);
    }
    if body.get("text/csv").is_some() {
        codes.extend(CSV_BODY);
    }
    let has_query = op["parameters"]
        .as_array()
        .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
    if has_query {
        codes.push(C::InvalidQuery);
    }
    codes.extend(e.codes);
    if e.access != Open {
        codes.extend(STORAGE);
    }
    let mut by_status: BTreeMap<u16, BTreeSet<&'static str>> = BTreeMap::new();
    for c in codes {
        by_status
            .entry(c.status().as_u16())
            .or_default()
            .insert(c.as_str());
    }
    for (status, codes) in by_status {
        let listed = codes
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let response = &mut op["responses"][status.to_string()];
        if response.is_object() {
            // The handler describes this answer's own body (an import's report beside the
            // error): name the codes in its description.
            let said = response["description"].as_str().unwrap_or_default();
            response["description"] = json!(format!("{said} Codes: {listed}."));
            response["x-error-codes"] = json!(codes);
            continue;
        }
        // The codes as a list too, for programs: `x-error-codes`.
        *response = json!({
            "description": format!("An error; `error.code` is one of {listed}."),
            "x-error-codes": codes,
            "content": {
                "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } }
            }
        });
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use strum::IntoEnumIterator;

    use super::*;

    /// The document's operations, `(method, path)`.
    fn operations(doc: &Value) -> BTreeSet<(String, String)> {
        let mut ops = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                ops.insert((method.clone(), path.clone()));
            }
        }
        ops
    }

    #[test]
    fn every_annotated_operation_has_its_row_in_endpoints_and_every_row_an_operation() {
        let doc = document();
        let rows: BTreeSet<(String, String)> = ENDPOINTS
            .iter()
            .map(|e| (e.method.to_owned(), e.path.to_owned()))
            .collect();
        assert_eq!(
            rows.len(),
            ENDPOINTS.len(),
            "a row of ENDPOINTS is repeated"
        );
        assert_eq!(
            operations(&doc),
            rows,
            "paths(...) of the OpenApi derive and ENDPOINTS must name the same operations"
        );
    }

    #[test]
    fn operation_ids_are_unique() {
        let doc = document();
        let mut seen = BTreeSet::new();
        for item in doc["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                let id = op["operationId"].as_str().unwrap().to_owned();
                assert!(seen.insert(id.clone()), "operationId {id} is repeated");
            }
        }
    }

    #[test]
    fn every_error_code_is_answered_by_some_operation_of_the_document() {
        let doc = document();
        let mut found = std::collections::HashSet::new();
        for item in doc["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                for (_, response) in op["responses"].as_object().unwrap() {
                    let text = response.to_string();
                    for c in ErrorCode::iter() {
                        if text.contains(&format!("`{}`", c.as_str())) {
                            found.insert(c);
                        }
                    }
                }
            }
        }
        // `not_found` is the answer of no operation: of a path or method that has none. The
        // document's description says so.
        let missing: Vec<&str> = ErrorCode::iter()
            .filter(|c| *c != C::NotFound && !found.contains(c))
            .map(ErrorCode::as_str)
            .collect();
        assert!(
            missing.is_empty(),
            "codes no operation answers: {missing:?}"
        );
        assert!(
            doc["info"]["description"]
                .as_str()
                .unwrap()
                .contains("`not_found`")
        );
        let listed = doc["components"]["schemas"]["ErrorCode"]["enum"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(listed, ErrorCode::iter().count());
    }

    #[test]
    fn every_error_answer_carries_the_codes_of_its_own_status_only() {
        let doc = document();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                for (status, response) in op["responses"].as_object().unwrap() {
                    let status: u16 = status.parse().unwrap();
                    let text = response["description"].as_str().unwrap();
                    for c in ErrorCode::iter() {
                        if text.contains(&format!("`{}`", c.as_str())) {
                            assert_eq!(
                                c.status().as_u16(),
                                status,
                                "{method} {path}: `{}` under {status}",
                                c.as_str()
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn signed_in_operations_require_the_bearer_token_and_open_ones_do_not() {
        let doc = document();
        for e in ENDPOINTS {
            let op = &doc["paths"][e.path][e.method];
            let secured = op.get("security").is_some();
            assert_eq!(
                secured,
                matches!(e.access, Account | SignedIn | Admin),
                "{} {}",
                e.method,
                e.path
            );
        }
        assert_eq!(
            doc["components"]["securitySchemes"][BEARER]["scheme"],
            "bearer"
        );
    }
}
