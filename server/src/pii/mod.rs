//! Personal data: the KK (Kartu Keluarga) and NIK numbers of households, kept encrypted at
//! rest (AES-256-GCM) with a keyed blind index (HMAC-SHA256) for lookup and de-duplication.
//!
//! They live outside the sync engine, in `household_identity`: they never sync to devices,
//! and an attribute only administrators write needs no merge. A number is held in an
//! [`IdentityNumber`], whose `Debug` hides the digits and which has no `Display`, so that it
//! cannot reach a log line or an error message by accident; [`IdentityNumber::expose`] is
//! the one way to read them.
//!
//! Keys: one master key ([`keys`]) from which the encryption key, the index key and a short
//! key id are derived ([`cipher`]); old master keys stay readable during a rotation.

pub mod cipher;
pub mod keys;
mod number;

pub use cipher::{CipherError, KeySet};
pub use keys::{PiiKeys, check_configured, generate_master_key, load_keys};
pub use number::{IdentityNumber, NumberError, NumberKind};
