//! Collection schemas: which collections devices may write, their fields, types, required
//! fields and field groups. A field group is one merge register: related fields are written
//! together so a merge never builds a combination nobody wrote (an address from one officer
//! and an RT from another).

use chrono::{DateTime, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::outcome::{RejectCode, Rejection};

/// The synced collections a device may write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Collection {
    /// Fostered households: mutable, merged per field group.
    Households,
    /// Visit reports: append-only; corrections are new visits that name the one they amend.
    Visits,
    /// Aid records: append-only ledger; a void is a delete whose tombstone stays.
    Aid,
    /// A supervisor's review of one visit: mutable, one record per visit (its id derived
    /// from the visit's, [`crate::review::review_id`]); written by administrators only.
    Reviews,
}

/// How a collection's records may change after they are created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutability {
    /// Any field may be patched; concurrent edits merge per field group.
    Mutable,
    /// Created once, never modified; it may only be voided (deleted, tombstone kept).
    AppendOnly,
}

/// The type of one field's value. `null` is accepted for every optional field and clears it.
#[derive(Clone, Copy, Debug)]
pub enum FieldType {
    /// A string of at most `max` characters.
    Text {
        /// Maximum length in characters.
        max: usize,
    },
    /// A string of exactly `len` ASCII digits (area codes, RT/RW numbers keep leading zeros).
    Digits {
        /// Required length.
        len: usize,
    },
    /// A whole number within bounds.
    Int {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
    /// A number within bounds.
    Number {
        /// Smallest allowed value.
        min: f64,
        /// Largest allowed value.
        max: f64,
    },
    /// `true` or `false`.
    Bool,
    /// A UUID string.
    Uuid,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// An RFC 3339 date and time with offset, e.g. `2026-11-28T09:30:00+07:00`.
    DateTime,
    /// One of a fixed set of snake_case words.
    Enum(&'static [&'static str]),
    /// A list of strings, each at most `max_len` characters.
    TextList {
        /// Maximum number of items.
        max_items: usize,
        /// Maximum length of each item.
        max_len: usize,
    },
}

/// One field of a collection.
#[derive(Clone, Copy, Debug)]
pub struct FieldDef {
    /// The field's wire name.
    pub name: &'static str,
    /// Its type.
    pub ty: FieldType,
    /// Whether a `put` must give it a non-null value.
    pub required: bool,
    /// The merge register it belongs to; `None` means a register of its own.
    pub group: Option<&'static str>,
}

impl FieldDef {
    /// The name of the register this field is merged in.
    pub fn register(&self) -> &'static str {
        self.group.unwrap_or(self.name)
    }
}

/// A collection's schema.
#[derive(Debug)]
pub struct CollectionSchema {
    /// Which collection.
    pub collection: Collection,
    /// Mutable or append-only.
    pub mutability: Mutability,
    /// The fields a device may write.
    pub fields: &'static [FieldDef],
}

const fn f(name: &'static str, ty: FieldType) -> FieldDef {
    FieldDef {
        name,
        ty,
        required: false,
        group: None,
    }
}
const fn req(name: &'static str, ty: FieldType) -> FieldDef {
    FieldDef {
        name,
        ty,
        required: true,
        group: None,
    }
}
const fn grouped(mut d: FieldDef, group: &'static str) -> FieldDef {
    d.group = Some(group);
    d
}

const NOTE: FieldType = FieldType::Text { max: 2000 };
const SCORE: FieldType = FieldType::Int { min: 1, max: 5 };
const LAT: FieldType = FieldType::Number {
    min: -90.0,
    max: 90.0,
};
const LON: FieldType = FieldType::Number {
    min: -180.0,
    max: 180.0,
};

/// Household status values.
pub const HOUSEHOLD_STATUSES: &[&str] = &["active", "graduated", "moved", "deceased", "inactive"];
/// Where a household's registry entry comes from.
pub const REGISTRY_SOURCES: &[&str] = &["dtks", "dtsen", "p3ke", "local"];
/// Visit outcomes.
pub const VISIT_OUTCOMES: &[&str] = &["completed", "nobody_home", "refused", "moved", "other"];
/// Kinds of aid.
pub const AID_KINDS: &[&str] = &[
    "tunai",
    "beras",
    "sembako",
    "lauk",
    "perlengkapan_sekolah",
    "kesehatan",
    "lainnya",
];
/// A visit's review states, as supervisors know them from ODK Central.
pub const REVIEW_STATES: &[&str] = &["received", "approved", "has_issues", "rejected"];
/// The aspects of life a visit scores, each with `<aspect>_score` (1-5) and `<aspect>_note`.
pub const ASPECTS: &[&str] = &["kesehatan", "pendidikan", "pangan", "papan", "ekonomi"];

static HOUSEHOLDS: CollectionSchema = CollectionSchema {
    collection: Collection::Households,
    mutability: Mutability::Mutable,
    fields: &[
        grouped(f("registry_id", FieldType::Text { max: 64 }), "registry"),
        grouped(
            f("registry_source", FieldType::Enum(REGISTRY_SOURCES)),
            "registry",
        ),
        req("head_name", FieldType::Text { max: 200 }),
        grouped(req("desa_code", FieldType::Digits { len: 10 }), "address"),
        grouped(f("dusun", FieldType::Text { max: 100 }), "address"),
        grouped(f("rt", FieldType::Digits { len: 3 }), "address"),
        grouped(f("rw", FieldType::Digits { len: 3 }), "address"),
        grouped(f("address", FieldType::Text { max: 500 }), "address"),
        f("welfare_decile", FieldType::Int { min: 1, max: 10 }),
        grouped(f("home_lat", LAT), "home_point"),
        grouped(f("home_lon", LON), "home_point"),
        f("status", FieldType::Enum(HOUSEHOLD_STATUSES)),
        f("phone", FieldType::Text { max: 32 }),
        f("notes", NOTE),
    ],
};

static VISITS: CollectionSchema = CollectionSchema {
    collection: Collection::Visits,
    mutability: Mutability::AppendOnly,
    fields: &[
        req("household_id", FieldType::Uuid),
        req("visited_at", FieldType::DateTime),
        req("outcome", FieldType::Enum(VISIT_OUTCOMES)),
        f("kesehatan_score", SCORE),
        f("kesehatan_note", NOTE),
        f("pendidikan_score", SCORE),
        f("pendidikan_note", NOTE),
        f("pangan_score", SCORE),
        f("pangan_note", NOTE),
        f("papan_score", SCORE),
        f("papan_note", NOTE),
        f("ekonomi_score", SCORE),
        f("ekonomi_note", NOTE),
        f(
            "needs",
            FieldType::TextList {
                max_items: 50,
                max_len: 200,
            },
        ),
        grouped(f("gps_lat", LAT), "gps"),
        grouped(f("gps_lon", LON), "gps"),
        grouped(
            f(
                "gps_accuracy_m",
                FieldType::Number {
                    min: 0.0,
                    max: 100_000.0,
                },
            ),
            "gps",
        ),
        grouped(f("gps_mock", FieldType::Bool), "gps"),
        f("notes", NOTE),
        f("next_visit_due", FieldType::Date),
        f("amends", FieldType::Uuid),
    ],
};

static AID: CollectionSchema = CollectionSchema {
    collection: Collection::Aid,
    mutability: Mutability::AppendOnly,
    fields: &[
        req("household_id", FieldType::Uuid),
        req("given_at", FieldType::DateTime),
        req("kind", FieldType::Enum(AID_KINDS)),
        f("quantity", FieldType::Number { min: 0.0, max: 1e9 }),
        f("unit", FieldType::Text { max: 32 }),
        f(
            "value_rupiah",
            FieldType::Int {
                min: 0,
                max: 1_000_000_000_000,
            },
        ),
        f("source", FieldType::Text { max: 100 }),
        f("note", NOTE),
    ],
};

static REVIEWS: CollectionSchema = CollectionSchema {
    collection: Collection::Reviews,
    mutability: Mutability::Mutable,
    fields: &[
        req("visit_id", FieldType::Uuid),
        req(crate::scope::HOUSEHOLD_FIELD, FieldType::Uuid),
        // One register: a decision and its comment are written together, so a merge never
        // pairs one supervisor's state with another's comment.
        grouped(req("state", FieldType::Enum(REVIEW_STATES)), "decision"),
        grouped(f("comment", NOTE), "decision"),
    ],
};

impl Collection {
    /// Every collection, in a stable order.
    pub const ALL: [Collection; 4] = [
        Collection::Households,
        Collection::Visits,
        Collection::Aid,
        Collection::Reviews,
    ];

    /// The wire name (`households`, `visits`, `aid`, `reviews`).
    pub fn name(self) -> &'static str {
        match self {
            Collection::Households => "households",
            Collection::Visits => "visits",
            Collection::Aid => "aid",
            Collection::Reviews => "reviews",
        }
    }

    /// Looks a wire name up.
    pub fn from_name(name: &str) -> Option<Collection> {
        Collection::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The collection's schema.
    pub fn schema(self) -> &'static CollectionSchema {
        match self {
            Collection::Households => &HOUSEHOLDS,
            Collection::Visits => &VISITS,
            Collection::Aid => &AID,
            Collection::Reviews => &REVIEWS,
        }
    }
}

/// A write checked against its schema: the registers it writes, each with the value of
/// every field in that register (`null` for cleared fields).
pub type RegisterWrites = std::collections::BTreeMap<&'static str, Value>;

impl CollectionSchema {
    fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|d| d.name == name)
    }

    fn register_fields(&self, register: &str) -> impl Iterator<Item = &FieldDef> {
        self.fields.iter().filter(move |d| d.register() == register)
    }

    /// Checks a `put` (a whole record): every required field given, every register written.
    pub fn check_put(&self, fields: &Map<String, Value>) -> Result<RegisterWrites, Rejection> {
        self.check_known(fields)?;
        if let Some(missing) = self
            .fields
            .iter()
            .find(|d| d.required && fields.get(d.name).is_none_or(Value::is_null))
        {
            return Err(Rejection::new(
                RejectCode::MissingField,
                format!(
                    "`{}` is required in {}",
                    missing.name,
                    self.collection.name()
                ),
            ));
        }
        let mut writes = RegisterWrites::new();
        for d in self.fields {
            let value = fields.get(d.name).map_or(Value::Null, |v| canonical(d, v));
            register_object(&mut writes, d.register()).insert(d.name.to_owned(), value);
        }
        Ok(writes)
    }

    /// Checks a `patch`: at least one field, no required field cleared, and every register
    /// it touches written whole.
    pub fn check_patch(&self, fields: &Map<String, Value>) -> Result<RegisterWrites, Rejection> {
        if fields.is_empty() {
            return Err(Rejection::new(
                RejectCode::EmptyPatch,
                "a patch must set at least one field",
            ));
        }
        self.check_known(fields)?;
        let mut writes = RegisterWrites::new();
        for (name, value) in fields {
            let Some(d) = self.field(name) else { continue };
            if d.required && value.is_null() {
                return Err(Rejection::new(
                    RejectCode::MissingField,
                    format!("`{name}` is required and cannot be cleared"),
                ));
            }
            register_object(&mut writes, d.register()).insert(name.clone(), canonical(d, value));
        }
        for (register, value) in &writes {
            for d in self.register_fields(register) {
                if value.get(d.name).is_none() {
                    return Err(Rejection::new(
                        RejectCode::IncompleteGroup,
                        format!(
                            "`{}` belongs to the field group `{register}`, which is written as a \
                             whole: send every field of the group (null to clear)",
                            d.name
                        ),
                    ));
                }
            }
        }
        Ok(writes)
    }

    fn check_known(&self, fields: &Map<String, Value>) -> Result<(), Rejection> {
        for (name, value) in fields {
            let Some(d) = self.field(name) else {
                return Err(Rejection::new(
                    RejectCode::UnknownField,
                    format!("{} has no field `{name}`", self.collection.name()),
                ));
            };
            if !value.is_null() {
                check_value(d, value)?;
            }
            if d.required && value.as_str().is_some_and(|t| t.trim().is_empty()) {
                return Err(Rejection::new(
                    RejectCode::MissingField,
                    format!("`{name}` is required and cannot be blank"),
                ));
            }
        }
        Ok(())
    }
}

fn register_object<'a>(
    writes: &'a mut RegisterWrites,
    register: &'static str,
) -> &'a mut Map<String, Value> {
    let entry = writes
        .entry(register)
        .or_insert_with(|| Value::Object(Map::new()));
    match entry {
        Value::Object(m) => m,
        other => {
            *other = Value::Object(Map::new());
            match other {
                Value::Object(m) => m,
                _ => unreachable!("just set to an object"),
            }
        }
    }
}

/// The value as stored: a UUID in its one spelling (lower case, hyphenated, no braces or
/// `urn:uuid:`), as `record_id` is, so that ids join whatever the device's platform writes
/// (iOS spells them in upper case). Other values as given. Run after [`check_value`].
fn canonical(d: &FieldDef, v: &Value) -> Value {
    match (d.ty, v.as_str().map(uuid::Uuid::parse_str)) {
        (FieldType::Uuid, Some(Ok(id))) => Value::String(id.hyphenated().to_string()),
        _ => v.clone(),
    }
}

/// PostgreSQL cannot hold U+0000 in text, and the consolidated tables are text: one rule
/// for both backends.
const NUL_REFUSED: &str = "contains the NUL character (U+0000), which no text may hold";

fn check_value(d: &FieldDef, v: &Value) -> Result<(), Rejection> {
    let wrong = |expected: &str| {
        Err(Rejection::new(
            RejectCode::WrongType,
            format!("`{}` must be {expected}", d.name),
        ))
    };
    let invalid = |why: String| {
        Err(Rejection::new(
            RejectCode::InvalidValue,
            format!("`{}` {why}", d.name),
        ))
    };
    match d.ty {
        FieldType::Text { max } => match v.as_str() {
            None => wrong("a string"),
            Some(s) if s.chars().count() > max => {
                invalid(format!("is longer than {max} characters"))
            }
            Some(s) if s.contains('\0') => invalid(NUL_REFUSED.into()),
            Some(_) => Ok(()),
        },
        FieldType::Digits { len } => match v.as_str() {
            None => wrong("a string of digits"),
            Some(s) if s.len() != len || !s.bytes().all(|b| b.is_ascii_digit()) => {
                invalid(format!("must be exactly {len} digits"))
            }
            Some(_) => Ok(()),
        },
        FieldType::Int { min, max } => match v.as_i64() {
            None => wrong("a whole number"),
            Some(n) if n < min || n > max => invalid(format!("must be between {min} and {max}")),
            Some(_) => Ok(()),
        },
        FieldType::Number { min, max } => match v.as_f64() {
            None => wrong("a number"),
            Some(n) if !(min..=max).contains(&n) => {
                invalid(format!("must be between {min} and {max}"))
            }
            Some(_) => Ok(()),
        },
        FieldType::Bool => match v {
            Value::Bool(_) => Ok(()),
            _ => wrong("true or false"),
        },
        FieldType::Uuid => match v.as_str() {
            None => wrong("a UUID string"),
            Some(s) if uuid::Uuid::parse_str(s).is_err() => invalid("is not a valid UUID".into()),
            Some(_) => Ok(()),
        },
        FieldType::Date => match v.as_str() {
            None => wrong("a date string"),
            Some(s) if !is_date(s) => invalid("must be a date like 2026-11-28".into()),
            Some(_) => Ok(()),
        },
        FieldType::DateTime => match v.as_str() {
            None => wrong("a date-time string"),
            Some(s) if !is_datetime(s) => {
                invalid("must be an RFC 3339 date-time like 2026-11-28T09:30:00+07:00".into())
            }
            Some(_) => Ok(()),
        },
        FieldType::Enum(allowed) => match v.as_str() {
            None => wrong("a string"),
            Some(s) if !allowed.contains(&s) => {
                invalid(format!("must be one of: {}", allowed.join(", ")))
            }
            Some(_) => Ok(()),
        },
        FieldType::TextList { max_items, max_len } => match v.as_array() {
            None => wrong("a list of strings"),
            Some(items) if items.len() > max_items => {
                invalid(format!("has more than {max_items} items"))
            }
            Some(items) => {
                for item in items {
                    match item.as_str() {
                        None => return wrong("a list of strings"),
                        Some(s) if s.chars().count() > max_len => {
                            return invalid(format!(
                                "has an item longer than {max_len} characters"
                            ));
                        }
                        Some(s) if s.contains('\0') => {
                            return invalid(format!("has an item that {NUL_REFUSED}"));
                        }
                        Some(_) => {}
                    }
                }
                Ok(())
            }
        },
    }
}

/// `YYYY-MM-DD`, exactly ten ASCII characters, naming a day of the calendar. The shape is
/// checked here because chrono's `%Y` and `%m` also take signs and shorter numbers.
fn is_date(s: &str) -> bool {
    let shaped = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    shaped && NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// RFC 3339 `date-time` as the RFC's grammar has it (section 5.6): chrono's parser checks the
/// calendar, the clock and the offset range, and is looser in three ways that are refused
/// here first: a space in place of `T`, more than nine fraction digits, and a Unicode minus
/// sign in the offset.
fn is_datetime(s: &str) -> bool {
    if !s.is_ascii() || !matches!(s.as_bytes().get(10), Some(b'T' | b't')) {
        return false;
    }
    let fraction_digits = s
        .get(19..)
        .and_then(|rest| rest.strip_prefix('.'))
        .map_or(0, |f| f.bytes().take_while(u8::is_ascii_digit).count());
    fraction_digits <= 9 && DateTime::parse_from_rfc3339(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_are_checked() {
        assert!(is_date("2024-02-29"));
        assert!(!is_date("2023-02-29"));
        assert!(!is_date("2023-13-01"));
        assert!(is_datetime("2026-11-28T09:30:00+07:00"));
        assert!(is_datetime("2026-11-28T02:30:00.123Z"));
        assert!(!is_datetime("2026-11-28 09:30:00"));
        assert!(!is_datetime("2026-11-28T25:30:00Z"));
        assert!(!is_datetime("2026-11-28T09:30:00+0700"));

        // The calendar: leap years by the Gregorian rule, month lengths.
        for ok in ["2000-02-29", "2026-12-31", "2026-04-30", "0001-01-01"] {
            assert!(is_date(ok), "{ok} is a date");
        }
        for bad in [
            "1900-02-29",
            "2026-04-31",
            "2026-00-10",
            "2026-01-00",
            "2026-01-32",
            // The shape: exactly YYYY-MM-DD in ASCII digits, nothing around it.
            "2026-1-05",
            "2026-01-5",
            "+2026-01-05",
            "02026-01-05",
            "2026/01/05",
            "2026-01-05 ",
            "2026-01-05T00:00:00Z",
            "\u{ff12}026-01-05",
            "",
        ] {
            assert!(!is_date(bad), "{bad:?} is not a date");
        }
    }

    /// Section 3.2 of docs/sync-protocol.md: RFC 3339 with seconds, a fraction of 1 to 9
    /// digits, `Z` or `±HH:MM`; `T` and `Z` may be lowercase, and a leap second is accepted.
    #[test]
    fn date_times_follow_the_strict_rfc_3339_rules_of_the_docs() {
        for ok in [
            "2026-03-16T09:35:00+07:00",
            "2026-03-16T02:35:00Z",
            "2026-03-16t02:35:00z",
            "2026-03-16T02:35:00.5Z",
            "2026-03-16T02:35:00.123456789Z",
            "2026-03-16T09:35:00-05:30",
            "2026-03-16T09:35:00+23:59",
            "2026-03-16T09:35:00-00:00",
            "2016-12-31T23:59:60Z",
            "2024-02-29T00:00:00Z",
        ] {
            assert!(is_datetime(ok), "{ok} is a date-time");
        }
        for bad in [
            "2023-02-29T09:35:00Z",
            "2026-03-16 09:35:00Z",
            "2026-03-16T09:35:00",
            "2026-03-16T09:35Z",
            "2026-03-16T9:35:00Z",
            "2026-03-16T09:35:00.Z",
            "2026-03-16T09:35:00.1234567890Z",
            "2026-03-16T24:00:00Z",
            "2026-03-16T09:60:00Z",
            "2026-03-16T09:35:61Z",
            "2026-03-16T09:35:00+07",
            "2026-03-16T09:35:00+24:00",
            "2026-03-16T09:35:00+07:60",
            "2026-03-16T09:35:00\u{2212}07:00",
            "2026-03-16T09:35:00UTC",
            "2026-03-16T09:35:00Z ",
            "2026-03-16T09:35:00+07:00:00",
            "2026-3-16T09:35:00Z",
        ] {
            assert!(!is_datetime(bad), "{bad:?} is not a date-time");
        }
    }

    #[test]
    fn every_field_group_has_a_member_and_names_are_unique() {
        for c in Collection::ALL {
            let s = c.schema();
            let mut names: Vec<_> = s.fields.iter().map(|d| d.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), s.fields.len(), "{c:?} has a duplicate field");
            assert!(
                !names.contains(&crate::state::EXISTS),
                "reserved register name used"
            );
        }
    }
}
