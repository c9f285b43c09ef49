//! Text a client sends: no text that reaches the database may hold U+0000.
//!
//! PostgreSQL cannot store NUL in `text`, so one spelled `\u0000` in JSON failed deep in the
//! database as `500 internal_error` while SQLite stored it. One rule on both backends, at the
//! edge: a request whose text holds NUL is refused `400 invalid_request`, naming the field.
//! The sync schema has the same rule for pushed field values (`invalid_value`).

use serde::de::{Deserialize, Deserializer, Error};

/// The message of a refused text.
pub const NUL_REFUSED: &str = "contains the NUL character (U+0000), which no text may hold";

/// A string field of a request body.
pub fn plain<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    if s.contains('\0') {
        return Err(D::Error::custom(NUL_REFUSED));
    }
    Ok(s)
}

/// An optional string field.
pub fn plain_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s = Option::<String>::deserialize(d)?;
    if s.as_deref().is_some_and(|s| s.contains('\0')) {
        return Err(D::Error::custom(NUL_REFUSED));
    }
    Ok(s)
}
