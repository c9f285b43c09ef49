//! CSV request bodies (`Content-Type: text/csv`): the bytes as sent, read within the body
//! limit as JSON bodies are. Parsing is the service's, which reports per line.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use crate::error::{ApiError, ErrorCode};
use crate::json_body::{media_type, read_within_limit};

/// A request body of type `text/csv`.
#[derive(Debug)]
pub struct CsvBody(pub Vec<u8>);

impl CsvBody {
    /// The body's bytes.
    pub fn into_inner(self) -> Vec<u8> {
        self.0
    }
}

impl FromRequest for CsvBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_csv = media_type(req).is_some_and(|m| m == "text/csv");
        let body = read_within_limit(req, payload);
        Box::pin(async move {
            if !is_csv {
                return Err(ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    "send the file as CSV, with Content-Type: text/csv",
                ));
            }
            Ok(CsvBody(body.await?.to_vec()))
        })
    }
}
