//! Refresh credentials: `<token id>.<secret>`, where only a hash of the secret is stored.

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A freshly issued credential.
pub struct Issued {
    /// The id half (stored as is).
    pub id: String,
    /// What the client receives.
    pub credential: String,
    /// SHA-256 of the secret half, to store.
    pub secret_hash: String,
}

/// Makes a new credential.
pub fn issue() -> anyhow::Result<Issued> {
    let id = Uuid::now_v7().to_string();
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let secret = hex::encode(secret);
    Ok(Issued {
        credential: format!("{id}.{secret}"),
        secret_hash: digest(&secret),
        id,
    })
}

/// Splits a presented credential into its id and the hash of its secret.
pub fn parse(credential: &str) -> Option<(&str, String)> {
    let (id, secret) = credential.split_once('.')?;
    (Uuid::parse_str(id).is_ok() && secret.len() == 64).then(|| (id, digest(secret)))
}

fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}
