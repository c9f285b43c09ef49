//! Who is asking: bearer access tokens, passwords, refresh credentials and roles.

pub mod jwt;
pub mod password;
pub mod refresh;

use std::fmt;
use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use sync_protocol::DeviceId;

pub use jwt::{Claims, Keys, load_or_create_secret};

use crate::error::ApiError;

/// What a user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
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
        match self {
            Role::Officer => "officer",
            Role::AgencyAdmin => "agency_admin",
            Role::RegencyAdmin => "regency_admin",
        }
    }

    /// Parses a stored or wire name.
    pub fn parse(s: &str) -> Option<Role> {
        [Role::Officer, Role::AgencyAdmin, Role::RegencyAdmin]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The bearer of a valid access token. Whether the user is still active and the device not
/// revoked is checked against the database by each service, so revocation takes effect at
/// once rather than when the token expires.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The user id.
    pub user_id: String,
    /// The device the token was issued to.
    pub device: DeviceId,
    /// The client's address, for the audit log.
    pub remote_addr: Option<String>,
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Caller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(caller(req))
    }
}

fn caller(req: &HttpRequest) -> Result<Caller, ApiError> {
    let keys = req
        .app_data::<web::Data<Keys>>()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("token keys not configured")))?;
    let missing =
        || ApiError::unauthorized("missing_token", "send Authorization: Bearer <access token>");
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
    Ok(Caller {
        user_id: claims.sub,
        device: claims.dev,
        remote_addr: remote_addr(req),
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
