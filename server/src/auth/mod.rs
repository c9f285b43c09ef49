//! Who is asking: bearer access tokens, passwords, refresh credentials and roles.

pub mod hashing;
pub mod jwt;
pub mod password;
pub mod refresh;

use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use sync_protocol::DeviceId;

pub use jwt::{Claims, Keys, load_or_create_secret};

use crate::error::{ApiError, ErrorCode};
use crate::ids::UserId;
use crate::in_flight::Slot;
use crate::startup::AppState;

/// What a user may do.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::Display,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Role {
    /// A field officer (ASN): syncs the households assigned to them.
    Officer,
    /// An agency's supervisor (e.g. a school principal): reads their agency.
    AgencyAdmin,
    /// The regency's administrator: everything.
    RegencyAdmin,
}

impl Role {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The bearer of a valid access token. Whether the user is still active and the device not
/// revoked is checked against the database by each service, so revocation takes effect at
/// once rather than when the token expires.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The user id.
    pub user_id: UserId,
    /// The device the token was issued to.
    pub device: DeviceId,
    /// The client's address, for the audit log.
    pub remote_addr: Option<String>,
    /// The request's place among the device's and user's requests in progress.
    _in_flight: Option<Arc<Slot>>,
}

impl Caller {
    /// A caller known without an access token (a refresh credential names them).
    pub fn new(user_id: UserId, device: DeviceId, remote_addr: Option<String>) -> Self {
        Caller {
            user_id,
            device,
            remote_addr,
            _in_flight: None,
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Caller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = caller(req);
        if let Ok(c) = &caller {
            crate::request_log::record_caller(req, c);
        }
        ready(caller)
    }
}

fn caller(req: &HttpRequest) -> Result<Caller, ApiError> {
    let keys = req
        .app_data::<web::Data<Keys>>()
        .ok_or_else(|| ApiError::internal("token keys not configured"))?;
    let missing = || {
        ApiError::new(
            ErrorCode::MissingToken,
            "send Authorization: Bearer <access token>",
        )
    };
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or_else(missing)?;
    let token = header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .ok_or_else(missing)?;
    let claims = keys.verify(token.trim())?;
    let user_id = claims
        .sub
        .parse()
        .map_err(|_| ApiError::new(ErrorCode::InvalidToken, "the access token is not valid"))?;
    // Counted only once the token is good: a bad token must not use up a device's share.
    let in_flight = match req.app_data::<web::Data<AppState>>() {
        Some(state) => Some(Arc::new(state.in_flight.enter(claims.dev, user_id)?)),
        None => None,
    };
    Ok(Caller {
        user_id,
        device: claims.dev,
        remote_addr: remote_addr(req),
        _in_flight: in_flight,
    })
}

/// The peer address of a request. Forwarded headers are not trusted: anyone can send them.
pub fn remote_addr(req: &HttpRequest) -> Option<String> {
    req.peer_addr().map(|a| a.ip().to_string())
}

/// A request's peer address, as an extractor, for unauthenticated endpoints.
#[derive(Clone, Debug)]
pub struct ClientAddr(pub Option<String>);

impl FromRequest for ClientAddr {
    type Error = ApiError;
    type Future = Ready<Result<ClientAddr, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(ClientAddr(remote_addr(req))))
    }
}
