//! Supervisors' reports over the typed query tables: coverage (with overdue), aid, officer
//! activity, household conditions and suspect locations. Each is grouped rows within the
//! caller's scope, as JSON or CSV. One file per report; this module holds what they share:
//! the period and its months, the grouping, the scope and the answer's format.
//!
//! Months are calendar months in WIB (UTC+7), Banyuwangi's time: a visit at 23:30 on
//! 31 October in the field is an October visit for the supervisor who reads the report,
//! though it is 16:30 UTC. A date without a time (`2026-11-01`) is that day in WIB too.

mod aid;
mod conditions;
mod coverage;
mod csv;
mod explain;
mod locations;
mod officers;

pub use aid::aid_report;
pub use conditions::conditions_report;
pub use coverage::coverage_report;
pub use explain::sample_statements;
pub use locations::locations_report;
pub use officers::officers_report;

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use sync_protocol::rows::utc_text;

use crate::api::admin_reports::CsvRow;
use crate::db::admin_reports::{Bucket, Group};
use crate::error::{ApiError, ErrorCode};

/// Most months a report with `group_by=month` (and the conditions report) spans.
pub const MAX_MONTHS: usize = 120;

/// WIB, UTC+7.
fn wib() -> FixedOffset {
    match FixedOffset::east_opt(7 * 3600) {
        Some(o) => o,
        None => unreachable!("seven hours is a valid offset"),
    }
}

fn invalid(param: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::InvalidQuery, format!("`{param}`: {message}"))
}

/// An answer as asked: the report as JSON, or its rows as CSV.
#[derive(Debug)]
pub enum Answer<T> {
    /// The JSON report.
    Json(T),
    /// The CSV text, and the file name offered for it.
    Csv {
        /// File name, e.g. `coverage.csv`.
        filename: &'static str,
        /// The text, a header row first.
        text: String,
    },
}

/// Whether CSV was asked for (`format=csv`); JSON otherwise.
pub(crate) fn wants_csv(format: Option<&str>) -> Result<bool, ApiError> {
    match format {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(f) => Err(invalid(
            "format",
            format!("`{f}` is neither `json` nor `csv`"),
        )),
    }
}

/// The answer: `rows` as CSV when asked, else `report`.
pub(crate) fn answer<T, R: CsvRow>(
    csv: bool,
    filename: &'static str,
    rows: &[R],
    report: impl FnOnce() -> T,
) -> Answer<T> {
    if csv {
        Answer::Csv {
            filename,
            text: csv::write(rows),
        }
    } else {
        Answer::Json(report())
    }
}

/// The grouping asked for, among those the report supports.
pub(crate) fn group(group_by: Option<&str>, allowed: &[Group]) -> Result<Group, ApiError> {
    let g = match group_by {
        None => return Ok(Group::None),
        Some("kecamatan") => Group::Kecamatan,
        Some("desa") => Group::Desa,
        Some("agency") => Group::Agency,
        Some("month") => Group::Month,
        Some(other) => {
            return Err(invalid(
                "group_by",
                format!("unknown grouping `{other}`: {}", names(allowed)),
            ));
        }
    };
    if allowed.contains(&g) {
        Ok(g)
    } else {
        Err(invalid(
            "group_by",
            format!(
                "this report is not grouped by {}: {}",
                group_name(g),
                names(allowed)
            ),
        ))
    }
}

fn group_name(g: Group) -> &'static str {
    match g {
        Group::None => "nothing",
        Group::Kecamatan => "kecamatan",
        Group::Desa => "desa",
        Group::Agency => "agency",
        Group::Month => "month",
    }
}

fn names(allowed: &[Group]) -> String {
    let n: Vec<&str> = allowed.iter().map(|g| group_name(*g)).collect();
    format!("one of {}", n.join(", "))
}

/// The grouping's name for the answer, `None` for no grouping.
pub(crate) fn group_label(g: Group) -> Option<String> {
    (g != Group::None).then(|| group_name(g).to_owned())
}

/// A report's period: `[from, to)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    /// Start, inclusive.
    pub from: DateTime<Utc>,
    /// End, exclusive.
    pub to: DateTime<Utc>,
}

impl Period {
    /// From and to as the typed tables store instants.
    pub fn texts(&self) -> (String, String) {
        (utc_text(self.from), utc_text(self.to))
    }

    /// The period as one bucket, labelled with its start's month.
    pub fn whole(&self) -> Vec<Bucket> {
        let (from, to) = self.texts();
        vec![Bucket {
            label: month_label(self.from),
            from,
            to,
        }]
    }

    /// The WIB calendar months the period meets, each cut to the period.
    pub fn months(&self) -> Result<Vec<Bucket>, ApiError> {
        let mut out = Vec::new();
        let mut start = self.from;
        while start < self.to {
            if out.len() == MAX_MONTHS {
                return Err(invalid(
                    "from",
                    format!("the period spans more than {MAX_MONTHS} months"),
                ));
            }
            let end = next_month_start(start).min(self.to);
            out.push(Bucket {
                label: month_label(start),
                from: utc_text(start),
                to: utc_text(end),
            });
            start = end;
        }
        Ok(out)
    }

    /// The buckets for `group`: the months, which a month grouping reports and the other
    /// groupings read one at a time (`db::admin_reports`); a period of more months than a
    /// month grouping may have is, for the others, read whole.
    pub fn buckets(&self, group: Group) -> Result<Vec<Bucket>, ApiError> {
        match self.months() {
            Err(_) if group != Group::Month => Ok(self.whole()),
            months => months,
        }
    }
}

/// `YYYY-MM` of `t` in WIB.
fn month_label(t: DateTime<Utc>) -> String {
    let l = t.with_timezone(&wib());
    format!("{:04}-{:02}", l.year(), l.month())
}

/// Midnight WIB of `d`, in UTC.
fn wib_midnight(d: NaiveDate) -> DateTime<Utc> {
    let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    wib()
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&naive))
}

/// The start of `d`'s month shifted by `months` (may be negative), midnight WIB.
fn month_start(d: NaiveDate, months: i32) -> DateTime<Utc> {
    let index = d.year() * 12 + d.month0() as i32 + months;
    let (y, m) = (index.div_euclid(12), index.rem_euclid(12) as u32 + 1);
    wib_midnight(NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(d))
}

/// The start of the WIB month after the one `t` is in.
fn next_month_start(t: DateTime<Utc>) -> DateTime<Utc> {
    month_start(t.with_timezone(&wib()).date_naive(), 1)
}

/// Reads `from` and `to` (RFC 3339, or a WIB date: `from` its start, `to` its end). Without
/// `to` the period ends `now`; without `from` it starts at the beginning of the WIB month
/// eleven months before the end's: twelve calendar months, this one included.
pub(crate) fn period(
    from: Option<&str>,
    to: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Period, ApiError> {
    let to = match to {
        None => now,
        Some(s) => instant("to", s, true)?,
    };
    let from = match from {
        None => month_start(
            (to - Duration::milliseconds(1))
                .with_timezone(&wib())
                .date_naive(),
            -11,
        ),
        Some(s) => instant("from", s, false)?,
    };
    if from >= to {
        return Err(invalid(
            "from",
            "the period is empty: `from` must be before `to`",
        ));
    }
    Ok(Period { from, to })
}

/// `s` as an instant: RFC 3339 as given, or a date at midnight WIB (the next midnight when
/// `end`, so that `to=2026-11-30` includes that day).
fn instant(param: &str, s: &str, end: bool) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) if s.len() == 10 => {
            let d = if end { d.succ_opt().unwrap_or(d) } else { d };
            Ok(wib_midnight(d))
        }
        _ => Err(invalid(
            param,
            format!("`{s}` is neither an RFC 3339 date-time nor a date YYYY-MM-DD"),
        )),
    }
}

/// The name of a group's key (an area or agency), from `names`.
pub(crate) fn name_of(
    group: Group,
    key: &Option<String>,
    names: &HashMap<String, String>,
) -> Option<String> {
    match group {
        Group::Kecamatan | Group::Desa | Group::Agency => {
            key.as_ref().and_then(|k| names.get(k).cloned())
        }
        Group::Month | Group::None => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn dates_are_wib_days_and_to_includes_its_day() {
        let p = period(Some("2026-11-01"), Some("2026-11-30"), Utc::now()).unwrap();
        assert_eq!(p.from, at("2026-10-31T17:00:00Z"));
        assert_eq!(p.to, at("2026-11-30T17:00:00Z"));
    }

    #[test]
    fn months_are_cut_at_wib_midnight_and_to_the_period() {
        let p = period(
            Some("2026-10-15T00:00:00Z"),
            Some("2026-12-10T00:00:00Z"),
            Utc::now(),
        )
        .unwrap();
        let m = p.months().unwrap();
        let got: Vec<(&str, &str, &str)> = m
            .iter()
            .map(|b| (b.label.as_str(), b.from.as_str(), b.to.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "2026-10",
                    "2026-10-15T00:00:00.000Z",
                    "2026-10-31T17:00:00.000Z"
                ),
                (
                    "2026-11",
                    "2026-10-31T17:00:00.000Z",
                    "2026-11-30T17:00:00.000Z"
                ),
                (
                    "2026-12",
                    "2026-11-30T17:00:00.000Z",
                    "2026-12-10T00:00:00.000Z"
                ),
            ]
        );
    }

    #[test]
    fn the_default_period_is_twelve_calendar_months() {
        let now = at("2026-12-03T13:00:00Z");
        let p = period(None, None, now).unwrap();
        assert_eq!(p.from, at("2025-12-31T17:00:00Z"));
        assert_eq!(p.months().unwrap().len(), 12);
    }

    #[test]
    fn bad_dates_and_empty_periods_name_the_parameter() {
        let e = period(Some("2026-13-01"), None, Utc::now()).unwrap_err();
        assert!(e.to_string().contains("`from`"), "{e}");
        let e = period(None, Some("yesterday"), Utc::now()).unwrap_err();
        assert!(e.to_string().contains("`to`"), "{e}");
        let e = period(Some("2026-11-02"), Some("2026-11-01"), Utc::now()).unwrap_err();
        assert!(e.to_string().contains("`from`"), "{e}");
    }
}
