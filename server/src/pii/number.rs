//! KK and NIK numbers: 16 digits, validated once and never shown.

use std::fmt;

/// Which number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NumberKind {
    /// Nomor Kartu Keluarga: the family card, one per household.
    Kk,
    /// Nomor Induk Kependudukan of the head of the household.
    Nik,
}

impl NumberKind {
    /// The field name: `kk` or `nik`.
    pub fn as_str(self) -> &'static str {
        match self {
            NumberKind::Kk => "kk",
            NumberKind::Nik => "nik",
        }
    }

    /// The name people use: `KK` or `NIK`.
    pub fn label(self) -> &'static str {
        match self {
            NumberKind::Kk => "KK",
            NumberKind::Nik => "NIK",
        }
    }
}

/// A KK or NIK number, normalised to its 16 digits. Its `Debug` shows the kind only.
#[derive(Clone, PartialEq, Eq)]
pub struct IdentityNumber {
    kind: NumberKind,
    digits: String,
}

/// Why a text is not a KK or NIK number. The message never repeats the text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NumberError(String);

/// The length of both numbers.
const DIGITS: usize = 16;

impl IdentityNumber {
    /// A KK number from `raw`.
    pub fn kk(raw: &str) -> Result<Self, NumberError> {
        Self::parse(NumberKind::Kk, raw)
    }

    /// A NIK number from `raw`.
    pub fn nik(raw: &str) -> Result<Self, NumberError> {
        Self::parse(NumberKind::Nik, raw)
    }

    /// A number of `kind` from `raw`: 16 digits once spaces, dots and dashes are removed,
    /// and the leading apostrophe a spreadsheet adds to keep digits as text.
    pub fn parse(kind: NumberKind, raw: &str) -> Result<Self, NumberError> {
        let trimmed = raw.trim().strip_prefix('\'').unwrap_or(raw.trim());
        let digits: String = trimmed
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-'))
            .collect();
        let label = kind.label();
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(NumberError(format!(
                "a {label} number is {DIGITS} digits: the value given has other characters"
            )));
        }
        if digits.len() != DIGITS {
            return Err(NumberError(format!(
                "a {label} number is {DIGITS} digits: the value given has {}",
                digits.len()
            )));
        }
        Ok(IdentityNumber { kind, digits })
    }

    /// Which number it is.
    pub fn kind(&self) -> NumberKind {
        self.kind
    }

    /// The 16 digits: for the cipher, the blind index and the one audited read only.
    pub fn expose(&self) -> &str {
        &self.digits
    }
}

impl fmt::Debug for IdentityNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(hidden)", self.kind.label())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn separators_and_a_spreadsheet_apostrophe_are_removed() {
        let n = IdentityNumber::kk(" '3510.0123-4567 8901 ").unwrap();
        assert_eq!(n.expose(), "3510012345678901");
        assert_eq!(n.kind(), NumberKind::Kk);
    }

    #[test]
    fn a_wrong_length_or_a_letter_is_refused_without_echoing_the_value() {
        let short = IdentityNumber::nik("351001234567").unwrap_err().to_string();
        assert!(short.contains("has 12"), "{short}");
        assert!(!short.contains("351001234567"), "{short}");
        let letter = IdentityNumber::nik("35100123456789O1")
            .unwrap_err()
            .to_string();
        assert!(!letter.contains("3510"), "{letter}");
        assert!(IdentityNumber::kk("").is_err());
    }

    #[test]
    fn debug_hides_the_digits() {
        let n = IdentityNumber::nik("3510012345678901").unwrap();
        assert_eq!(format!("{n:?}"), "NIK(hidden)");
    }
}
