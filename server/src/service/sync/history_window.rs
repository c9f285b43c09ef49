//! The history an officer's device carries: visits and aid dated within the last months
//! (`--history-months`), with every household of the scope whatever its age. Older records
//! stay on the server for the supervisors; a phone has no use for years of reports, and
//! carrying them is a cost (storage, a first sync) and a risk (a lost phone).

use chrono::{DateTime, Months, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;

/// The oldest date an officer's device pulls at `now`.
pub fn cutoff(now: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    now.checked_sub_months(Months::new(months))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

#[derive(Deserialize)]
struct Dated {
    collection: String,
    deleted: bool,
    fields: DatedFields,
}

#[derive(Deserialize)]
struct DatedFields {
    visited_at: Option<String>,
    given_at: Option<String>,
}

/// Whether a record view (as pulls send it) is a visit or aid record dated before `cutoff`.
/// Tombstones always go: a device may hold the record from when it was recent, and must
/// learn that it was deleted. A record whose view cannot be read goes too: leaving out
/// what should be sent is the worse mistake.
pub fn is_older(view: &RawValue, cutoff: DateTime<Utc>) -> bool {
    let Ok(d) = serde_json::from_str::<Dated>(view.get()) else {
        return false;
    };
    let date = match d.collection.as_str() {
        "visits" => d.fields.visited_at,
        "aid" => d.fields.given_at,
        _ => return false,
    };
    !d.deleted
        && date
            .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
            .is_some_and(|t| t < cutoff)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn view(json: &str) -> Box<RawValue> {
        RawValue::from_string(json.to_owned()).unwrap()
    }

    #[test]
    fn old_visits_and_aid_are_left_out_but_households_and_tombstones_are_not() {
        let now = DateTime::parse_from_rfc3339("2026-12-03T00:00:00Z")
            .unwrap()
            .to_utc();
        let cut = cutoff(now, 12);
        let old_visit = r#"{"collection":"visits","deleted":false,"fields":{"visited_at":"2025-11-30T09:00:00+07:00"}}"#;
        let new_visit = r#"{"collection":"visits","deleted":false,"fields":{"visited_at":"2026-01-30T09:00:00+07:00"}}"#;
        let old_aid =
            r#"{"collection":"aid","deleted":false,"fields":{"given_at":"2024-01-01T00:00:00Z"}}"#;
        let old_tombstone =
            r#"{"collection":"aid","deleted":true,"fields":{"given_at":"2024-01-01T00:00:00Z"}}"#;
        let household =
            r#"{"collection":"households","deleted":false,"fields":{"head_name":"Siti"}}"#;
        assert!(is_older(&view(old_visit), cut));
        assert!(!is_older(&view(new_visit), cut));
        assert!(is_older(&view(old_aid), cut));
        assert!(!is_older(&view(old_tombstone), cut));
        assert!(!is_older(&view(household), cut));
    }
}
