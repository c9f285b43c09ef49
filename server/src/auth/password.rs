//! Password hashing: Argon2id with the crate's default parameters (OWASP's minimum).

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};

/// The shortest password accepted.
pub const MIN_LENGTH: usize = 10;

/// Hashes a password into a PHC string (`$argon2id$v=19$...`).
pub fn hash(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash password: {e}"))
}

/// Whether `password` matches `phc`. A malformed stored hash never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

static DUMMY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

/// Spends the time of one verification, so that an unknown user name answers as slowly as a
/// wrong password and the two cannot be told apart.
pub fn verify_dummy(password: &str) {
    if let Some(phc) = DUMMY.get_or_init(dummy_hash) {
        let _ = verify(password, phc);
    }
}

/// Makes the dummy hash now, at start-up, so the first unknown name is not slower either.
pub fn prepare() {
    DUMMY.get_or_init(dummy_hash);
}

fn dummy_hash() -> Option<String> {
    hash("kampung-sync dummy password").ok()
}

/// A random password for the first administrator: 20 characters from an alphabet without
/// look-alikes.
pub fn generate() -> anyhow::Result<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect())
}
