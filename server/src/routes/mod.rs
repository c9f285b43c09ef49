//! HTTP routes: thin handlers that extract, call one service, and answer.

pub mod admin;
pub mod auth;
pub mod conflicts;
pub mod health;
pub mod lists;
pub mod openapi;
pub mod reports;
pub mod sync;

pub use crate::service::with_conn;

use actix_web::{HttpResponse, web};
use sync_protocol::wire::ErrorBody;

use crate::error::ErrorCode;

/// Registers every route. Each is described in the OpenAPI document: see `crate::openapi`
/// for the recipe (a test fails for a route the document lacks).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        // Probes that ask with HEAD get the same status; actix leaves the body out.
        .route("/healthz", web::head().to(health::healthz))
        .route("/openapi.json", web::get().to(openapi::document))
        .route("/v1/me", web::get().to(auth::me))
        .service(
            web::scope("/v1/auth")
                .route("/login", web::post().to(auth::login))
                .route("/refresh", web::post().to(auth::refresh))
                .route("/password", web::post().to(auth::change_password)),
        )
        .service(
            web::scope("/v1/sync")
                // Pages of records compress about tenfold: gzip when the device accepts it.
                .wrap(actix_web::middleware::Compress::default())
                .route("/push", web::post().to(sync::push))
                .route("/pull", web::get().to(sync::pull)),
        )
        .service(
            web::scope("/v1/admin")
                .route("/agencies", web::get().to(admin::list_agencies))
                .route("/agencies", web::post().to(admin::create_agency))
                .route("/areas", web::get().to(admin::list_areas))
                .route("/areas", web::post().to(admin::add_area))
                .route("/users", web::get().to(admin::list_users))
                .route("/users", web::post().to(admin::create_user))
                .route("/users/import", web::post().to(admin::import_users))
                .route(
                    "/users/{id}/deactivate",
                    web::post().to(admin::deactivate_user),
                )
                .route("/users/{id}/activate", web::post().to(admin::activate_user))
                .route("/devices", web::get().to(lists::devices))
                .route("/devices/{id}/revoke", web::post().to(admin::revoke_device))
                .route("/audit", web::get().to(admin::audit_log))
                .route("/households", web::get().to(lists::households))
                .route("/visits", web::get().to(lists::visits))
                .route("/aid", web::get().to(lists::aid))
                .route("/officers", web::get().to(lists::officers))
                .route("/households/{id}", web::get().to(admin::read_household))
                .route("/assignments", web::get().to(lists::assignments))
                .route("/reports/coverage", web::get().to(reports::coverage))
                .route("/reports/aid", web::get().to(reports::aid))
                .route("/reports/officers", web::get().to(reports::officers))
                .route("/reports/conditions", web::get().to(reports::conditions))
                .route("/reports/locations", web::get().to(reports::locations))
                .route("/held-writes", web::get().to(admin::list_held_writes))
                .route("/assignments", web::post().to(admin::assign_household))
                .route(
                    "/assignments/import",
                    web::post().to(admin::import_assignments),
                )
                .route(
                    "/assignments/{id}/end",
                    web::post().to(admin::end_assignment),
                )
                .route(
                    "/households/lookup",
                    web::post().to(admin::lookup_households),
                )
                .route(
                    "/households/{id}/identity",
                    web::put().to(admin::set_household_identity),
                )
                .route(
                    "/households/{id}/identity",
                    web::get().to(admin::read_household_identity),
                )
                .route(
                    "/households/import",
                    web::post().to(admin::import_households),
                )
                .route(
                    "/records/{collection}/{id}",
                    web::get().to(admin::read_record),
                )
                .route(
                    "/records/{collection}/{id}",
                    web::put().to(admin::put_record),
                )
                .route(
                    "/records/{collection}/{id}",
                    web::patch().to(admin::patch_record),
                )
                .route(
                    "/records/{collection}/{id}",
                    web::delete().to(admin::delete_record),
                )
                .route(
                    "/visits/{id}/review",
                    web::get().to(admin::read_visit_review),
                )
                .route("/visits/{id}/review", web::post().to(admin::review_visit))
                .route(
                    "/records/{collection}/{id}/history",
                    web::get().to(conflicts::record_history),
                )
                .route("/conflicts", web::get().to(conflicts::list_conflicts))
                .route(
                    "/conflicts/{collection}/{id}/resolve",
                    web::post().to(conflicts::resolve_conflict),
                ),
        );
}

/// The answer for unknown paths.
pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(ErrorBody::new(
        ErrorCode::NotFound.as_str(),
        "no such endpoint",
    ))
}
