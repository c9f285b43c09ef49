//! The cipher of one master key: AES-256-GCM for the numbers, HMAC-SHA256 for their blind
//! index, both under keys derived from the master key, so that neither use weakens the other.
//!
//! A sealed number is `base64(nonce || ciphertext || tag)`, with a random 96-bit nonce and,
//! as associated data, the household id and the kind of number: a ciphertext copied to
//! another household, or from the KK column to the NIK column, does not open.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::number::{IdentityNumber, NumberKind};

/// Labels of the derived keys. Changing one makes every stored row unreadable.
const ENCRYPTION_LABEL: &[u8] = b"kampung-sync pii encryption v1";
const INDEX_LABEL: &[u8] = b"kampung-sync pii blind index v1";
const KEY_ID_LABEL: &[u8] = b"kampung-sync pii key id v1";

const NONCE_BYTES: usize = 12;

/// Why a sealed number did not open, or could not be sealed. Never holds the number.
#[derive(Debug, thiserror::Error)]
pub enum CipherError {
    /// Not the base64 of a nonce and a ciphertext.
    #[error("the stored ciphertext is not well formed")]
    Malformed,
    /// The key, the household or the kind differs from the sealing ones, or the bytes were
    /// altered.
    #[error("the stored ciphertext does not open with key {0} for this household")]
    WrongKey(String),
    /// The row names a key this server was not given.
    #[error("the stored ciphertext is under key {0}, which is not configured")]
    UnknownKey(String),
    /// The system gave no randomness for a nonce.
    #[error("no randomness for a nonce: {0}")]
    NoRandomness(String),
}

/// The keys derived from one master key.
#[derive(Clone)]
pub struct KeySet {
    id: String,
    encryption: Aes256Gcm,
    index_key: [u8; 32],
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeySet({})", self.id)
    }
}

impl KeySet {
    /// Derives the encryption key, the index key and the key id from `master`.
    pub fn from_master(master: &[u8; 32]) -> KeySet {
        let encryption_key = hmac(master, &[ENCRYPTION_LABEL]);
        KeySet {
            id: hex::encode(&hmac(master, &[KEY_ID_LABEL])[..6]),
            encryption: Aes256Gcm::new(&encryption_key.into()),
            index_key: hmac(master, &[INDEX_LABEL]),
        }
    }

    /// The key id, stored with each row: 12 hex digits, a fingerprint that tells keys
    /// apart without revealing them.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `number` encrypted for `household`.
    pub fn seal(&self, household: &str, number: &IdentityNumber) -> Result<String, CipherError> {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).map_err(|e| CipherError::NoRandomness(e.to_string()))?;
        let aad = associated_data(household, number.kind());
        let sealed = self
            .encryption
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: number.expose().as_bytes(),
                    aad: &aad,
                },
            )
            // AES-GCM fails only on a message over 64 GiB.
            .map_err(|_| CipherError::Malformed)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(STANDARD.encode(out))
    }

    /// The number of `kind` sealed for `household`.
    pub fn open(
        &self,
        household: &str,
        kind: NumberKind,
        sealed: &str,
    ) -> Result<IdentityNumber, CipherError> {
        let bytes = STANDARD
            .decode(sealed)
            .map_err(|_| CipherError::Malformed)?;
        if bytes.len() <= NONCE_BYTES {
            return Err(CipherError::Malformed);
        }
        let (nonce, body) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| CipherError::Malformed)?;
        let aad = associated_data(household, kind);
        let plain = self
            .encryption
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: body,
                    aad: &aad,
                },
            )
            .map_err(|_| CipherError::WrongKey(self.id.clone()))?;
        let text = String::from_utf8(plain).map_err(|_| CipherError::Malformed)?;
        IdentityNumber::parse(kind, &text).map_err(|_| CipherError::Malformed)
    }

    /// The blind index of `number`: HMAC-SHA256 under the index key of the kind and the
    /// digits, in hex. Equal numbers of one kind have equal indexes under one key; without
    /// the key, an index says nothing, not even whether a KK equals a NIK.
    pub fn blind_index(&self, number: &IdentityNumber) -> String {
        hex::encode(hmac(
            &self.index_key,
            &[
                number.kind().as_str().as_bytes(),
                b":",
                number.expose().as_bytes(),
            ],
        ))
    }
}

fn associated_data(household: &str, kind: NumberKind) -> Vec<u8> {
    format!(
        "kampung-sync household_identity {} {household}",
        kind.as_str()
    )
    .into_bytes()
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes a key of any length"),
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const HOUSEHOLD: &str = "0193a000-0000-7000-8000-000000000001";
    const OTHER: &str = "0193a000-0000-7000-8000-000000000002";

    fn keys(byte: u8) -> KeySet {
        KeySet::from_master(&[byte; 32])
    }

    fn kk() -> IdentityNumber {
        IdentityNumber::kk("3510012345678901").unwrap()
    }

    #[test]
    fn round_trip() {
        let k = keys(1);
        let sealed = k.seal(HOUSEHOLD, &kk()).unwrap();
        assert!(!sealed.contains("3510012345678901"));
        assert_eq!(k.open(HOUSEHOLD, NumberKind::Kk, &sealed).unwrap(), kk());
    }

    #[test]
    fn each_seal_has_its_own_nonce() {
        let k = keys(1);
        assert_ne!(
            k.seal(HOUSEHOLD, &kk()).unwrap(),
            k.seal(HOUSEHOLD, &kk()).unwrap()
        );
    }

    #[test]
    fn another_key_does_not_open() {
        let sealed = keys(1).seal(HOUSEHOLD, &kk()).unwrap();
        assert!(matches!(
            keys(2).open(HOUSEHOLD, NumberKind::Kk, &sealed),
            Err(CipherError::WrongKey(_))
        ));
    }

    #[test]
    fn another_household_or_kind_does_not_open() {
        let k = keys(1);
        let sealed = k.seal(HOUSEHOLD, &kk()).unwrap();
        assert!(k.open(OTHER, NumberKind::Kk, &sealed).is_err());
        assert!(k.open(HOUSEHOLD, NumberKind::Nik, &sealed).is_err());
    }

    #[test]
    fn altered_or_malformed_ciphertext_does_not_open() {
        let k = keys(1);
        let mut bytes = STANDARD.decode(k.seal(HOUSEHOLD, &kk()).unwrap()).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(
            k.open(HOUSEHOLD, NumberKind::Kk, &STANDARD.encode(bytes))
                .is_err()
        );
        assert!(matches!(
            k.open(HOUSEHOLD, NumberKind::Kk, "not base64!"),
            Err(CipherError::Malformed)
        ));
    }

    #[test]
    fn the_index_is_stable_keyed_and_kind_specific() {
        let k = keys(1);
        assert_eq!(k.blind_index(&kk()), keys(1).blind_index(&kk()));
        assert_ne!(k.blind_index(&kk()), keys(2).blind_index(&kk()));
        let nik = IdentityNumber::nik("3510012345678901").unwrap();
        assert_ne!(k.blind_index(&kk()), k.blind_index(&nik));
        assert_eq!(k.blind_index(&kk()).len(), 64);
        assert!(!k.blind_index(&kk()).contains("3510012345678901"));
    }

    #[test]
    fn key_ids_tell_keys_apart_and_debug_shows_only_the_id() {
        assert_eq!(keys(1).id(), keys(1).id());
        assert_ne!(keys(1).id(), keys(2).id());
        assert_eq!(keys(1).id().len(), 12);
        assert_eq!(
            format!("{:?}", keys(1)),
            format!("KeySet({})", keys(1).id())
        );
    }
}
