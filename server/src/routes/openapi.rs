//! `GET /openapi.json`: the API's OpenAPI document ([`crate::openapi`]).

use actix_web::HttpResponse;
use actix_web::http::header::ContentType;

/// The document, built from the code once and served as it is.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "health",
    summary = "This OpenAPI document",
    responses((status = 200, description = "The OpenAPI 3.1 document of this server.", content_type = "application/json", body = Object)),
)]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(crate::openapi::json())
}
