//! Query parameters, decoded so that an error names the parameter (`limit: invalid digit
//! found in string`), which actix's `web::Query` does not.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode};

/// The query string of a request as `T`.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<T> QueryParams<T> {
    /// The decoded parameters.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned> FromRequest for QueryParams<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let pairs = url::form_urlencoded::parse(req.query_string().as_bytes());
        let decoded = serde_path_to_error::deserialize(serde_urlencoded::Deserializer::new(pairs))
            .map(QueryParams)
            .map_err(|e| {
                let path = e.path().to_string();
                let message = if path == "." {
                    format!("the query: {}", e.inner())
                } else {
                    format!("`{path}`: {}", e.inner())
                };
                ApiError::new(ErrorCode::InvalidQuery, message)
            });
        ready(decoded)
    }
}
