//! Names that people read in lists: an agency's name and kind, a user's display name.
//!
//! A name is what it looks like. Control characters, the bidirectional overrides and
//! isolates (a right-to-left override makes `gnp.exe` read as `exe.png`) and zero-width
//! characters would let two names look alike, or a name look like nothing; they are refused,
//! not removed, so that nothing is stored other than what was sent.

/// Characters that change how a name displays, or display as nothing.
fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}' // soft hyphen
            | '\u{034F}' // combining grapheme joiner
            | '\u{061C}' // Arabic letter mark
            | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' // Hangul fillers
            | '\u{180E}' // Mongolian vowel separator
            | '\u{200B}'..='\u{200F}' // zero-width space, joiners, LRM, RLM
            | '\u{202A}'..='\u{202E}' // embeddings and overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{206F}' // isolates and deprecated format characters
            | '\u{FE00}'..='\u{FE0F}' // variation selectors
            | '\u{FEFF}' // zero-width no-break space
            | '\u{FFF9}'..='\u{FFFB}' // interlinear annotation
        )
}

/// The name as stored: `raw` without white space at its ends, 1 to `max` characters, at
/// least one of them a letter or digit, none invisible. Otherwise why not, for the message.
pub fn visible_name(raw: &str, max: usize) -> Result<&str, String> {
    let name = raw.trim();
    if name.chars().count() > max {
        return Err(format!("is longer than {max} characters"));
    }
    if let Some(c) = name.chars().find(|&c| invisible(c)) {
        return Err(format!(
            "contains U+{:04X}, a control or invisible character; type the name as it should read",
            u32::from(c)
        ));
    }
    if !name.chars().any(char::is_alphanumeric) {
        return Err("has no letter or digit".into());
    }
    Ok(name)
}

/// Two names that read as the same, whatever their case.
pub fn same_name(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_with_an_override_a_zero_width_space_or_no_letter_is_refused() {
        assert!(visible_name("SMPN 1\u{202E}gnp", 200).is_err());
        assert!(visible_name("\u{200B}", 200).is_err());
        assert!(visible_name("  \u{2066}  ", 200).is_err());
        assert!(visible_name("---", 200).is_err());
        assert!(visible_name("tab\there", 200).is_err());
        assert_eq!(visible_name("  Dinas Sosial  ", 200), Ok("Dinas Sosial"));
        assert_eq!(
            visible_name("SDN 3 Giri – Banyuwangi", 200),
            Ok("SDN 3 Giri – Banyuwangi")
        );
    }

    #[test]
    fn names_differing_only_in_case_are_the_same() {
        assert!(same_name("Dinas Sosial", "DINAS SOSIAL"));
        assert!(!same_name("Dinas Sosial", "Dinas Sosial 2"));
    }
}
