//! Access tokens: short-lived JWTs (HS256) naming the user and the device.

use std::io::Write;
use std::path::Path;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};
use sync_protocol::DeviceId;

use crate::error::{ApiError, ErrorCode};

/// What an access token says.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The device installation id the token was issued to.
    pub dev: DeviceId,
    /// Issued at (seconds since the Unix epoch).
    pub iat: i64,
    /// Expires at (seconds since the Unix epoch).
    pub exp: i64,
}

/// Signing and checking keys (HS256).
#[derive(Clone)]
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl Keys {
    /// Keys from a shared secret.
    pub fn from_secret(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 30;
        Keys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// A token for `subject` on `device`, valid for `ttl_secs`.
    /// `subject` is a user id; any text is signed, so tests can make tokens sign-in would
    /// never issue.
    pub fn mint(&self, subject: &str, device: DeviceId, ttl_secs: i64) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: subject.to_owned(),
            dev: device,
            iat: now,
            exp: now + ttl_secs,
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// Checks a token's signature and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => ApiError::new(
                    ErrorCode::TokenExpired,
                    "the access token has expired: refresh it and retry",
                ),
                _ => ApiError::new(ErrorCode::InvalidToken, "the access token is not valid"),
            })
    }
}

/// Reads the token secret from `dir/jwt-secret`, creating a random one on first start.
/// Several instances on one PostgreSQL must share a secret: give it in the configuration.
pub fn load_or_create_secret(dir: &Path) -> anyhow::Result<Vec<u8>> {
    let path = dir.join("jwt-secret");
    if let Ok(s) = std::fs::read_to_string(&path) {
        let s = s.trim();
        anyhow::ensure!(
            s.len() >= 32,
            "{} is shorter than 32 characters",
            path.display()
        );
        return Ok(s.as_bytes().to_vec());
    }
    std::fs::create_dir_all(dir)?;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let secret = hex::encode(bytes);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&path)?;
    f.write_all(secret.as_bytes())?;
    tracing::info!(path = %path.display(), "generated a new token secret");
    Ok(secret.into_bytes())
}
