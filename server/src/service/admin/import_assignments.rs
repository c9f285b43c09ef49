//! Assigning households in bulk from a CSV file: every row is checked first, and the file
//! is applied whole, in one transaction, or not at all.

use std::collections::HashMap;

use crate::api::assignments::{ImportReport, RefusedRow};
use crate::auth::{Caller, Role};
use crate::db::assignments::{self as rows, AssignmentRow};
use crate::db::users::{self, UserRow};
use crate::db::{self, AnyConnection, records};
use crate::error::{ApiError, ErrorCode};
use crate::ids::UserId;
use crate::service::audit::{self, Entry};
use crate::service::authorize::{self, Principal};
use crate::service::csv_rows::{self, Row};
use sync_protocol::RecordId;

use super::assign_household::{hand_over, reason_rule, within_agency};

/// The reason of a row that gives none.
const DEFAULT_REASON: &str = "bulk assignment";

/// Imports `file` (CSV: `household_id,officer[,reason]`) for an administrator, with the
/// rules of [`super::assign_household`] on each row. With any row refused, or in a dry run,
/// nothing is written; the report says which rows and why.
pub fn import_assignments(
    conn: &mut AnyConnection,
    caller: &Caller,
    file: &[u8],
    dry_run: bool,
) -> Result<ImportReport, ApiError> {
    let p = authorize::admin(conn, caller)?;
    import(conn, Some(&p), file, dry_run)
}

/// [`import_assignments`] from the command line: regency-wide, assigned by no user.
pub fn import_assignments_as_operator(
    conn: &mut AnyConnection,
    file: &[u8],
    dry_run: bool,
) -> Result<ImportReport, ApiError> {
    import(conn, None, file, dry_run)
}

fn import(
    conn: &mut AnyConnection,
    by: Option<&Principal>,
    file: &[u8],
    dry_run: bool,
) -> Result<ImportReport, ApiError> {
    let text = match std::str::from_utf8(file) {
        Ok(t) => t,
        Err(e) => {
            let line = 1 + file[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            return Ok(refused_file(
                line,
                "not UTF-8 text: save the file as CSV UTF-8",
                dry_run,
            ));
        }
    };
    let mut records = csv_rows::rows(text).into_iter();
    let header = match records.next() {
        None => {
            return Ok(refused_file(
                1,
                "the file is empty: its first line names the columns, household_id,officer \
                 and optionally reason",
                dry_run,
            ));
        }
        Some(Err(e)) => return Ok(refused_file(e.line, &e.reason, dry_run)),
        Some(Ok(h)) => h,
    };
    let body: Vec<_> = records.collect();
    let columns = match Columns::of(&header) {
        Ok(c) => c,
        Err(refusal) => {
            return Ok(ImportReport {
                rows: body.len(),
                assigned: 0,
                unchanged: 0,
                refused: vec![refusal],
                dry_run,
            });
        }
    };
    let by_id = by.map(|p| p.user_id.to_string());
    let report = db::write_tx(conn, |c| {
        let mut check = Check {
            by,
            columns,
            officers: HashMap::new(),
            first_line: HashMap::new(),
        };
        let (mut planned, mut unchanged, mut refused) = (Vec::new(), 0, Vec::new());
        for record in &body {
            let verdict = match record {
                Ok(row) => check.row(c, row)?,
                Err(e) => Err(refusal(e.line, None, e.reason.clone())),
            };
            match verdict {
                Ok(Some(plan)) => planned.push(plan),
                Ok(None) => unchanged += 1,
                Err(r) => refused.push(r),
            }
        }
        let report = ImportReport {
            rows: body.len(),
            assigned: if refused.is_empty() { planned.len() } else { 0 },
            unchanged,
            refused,
            dry_run,
        };
        if report.refused.is_empty() && !dry_run {
            for plan in &planned {
                let current = plan.current.as_ref();
                hand_over(
                    c,
                    &plan.household,
                    current,
                    &plan.officer,
                    &plan.reason,
                    by_id.as_deref(),
                )?;
            }
        }
        Ok::<_, ApiError>(report)
    })?;
    if report.refused.is_empty() && !dry_run && report.assigned > 0 {
        let detail = serde_json::json!({
            "rows": report.rows, "assigned": report.assigned, "unchanged": report.unchanged,
        });
        let entry = match by {
            Some(p) => p.actor().action("assignments_imported", None, detail),
            None => {
                let mut detail = detail;
                detail["via"] = "command line".into();
                Entry::system("assignments_imported", None, detail)
            }
        };
        audit::append(conn, entry);
    }
    Ok(report)
}

/// A household's new officer, checked and not yet written.
struct Plan {
    household: String,
    current: Option<AssignmentRow>,
    officer: UserRow,
    reason: String,
}

/// Where each column is.
struct Columns {
    household: usize,
    officer: usize,
    reason: Option<usize>,
    count: usize,
}

impl Columns {
    fn of(header: &Row) -> Result<Columns, RefusedRow> {
        let mut found: HashMap<&str, usize> = HashMap::new();
        let names: Vec<String> = header
            .fields
            .iter()
            .map(|f| f.trim().to_lowercase())
            .collect();
        for (i, name) in names.iter().enumerate() {
            if !matches!(name.as_str(), "household_id" | "officer" | "reason") {
                return Err(refusal(
                    header.line,
                    Some(name),
                    "an unknown column: the columns are household_id, officer and optionally \
                     reason"
                        .into(),
                ));
            }
            if found.insert(name, i).is_some() {
                return Err(refusal(header.line, Some(name), "named twice".into()));
            }
        }
        let required = |name: &str| {
            found.get(name).copied().ok_or_else(|| {
                refusal(
                    header.line,
                    Some(name),
                    format!("the header has no {name} column"),
                )
            })
        };
        Ok(Columns {
            household: required("household_id")?,
            officer: required("officer")?,
            reason: found.get("reason").copied(),
            count: names.len(),
        })
    }
}

/// The checks of one file, with what they learnt so far.
struct Check<'a> {
    by: Option<&'a Principal>,
    columns: Columns,
    /// Officers by the name or id the file gives, or why that names none to assign.
    officers: HashMap<String, Result<UserRow, String>>,
    /// The line each household was first named on.
    first_line: HashMap<RecordId, usize>,
}

/// A row's verdict: a plan, `None` when it changes nothing, or its refusal.
type Verdict = Result<Option<Plan>, RefusedRow>;

impl Check<'_> {
    fn row(&mut self, c: &mut AnyConnection, row: &Row) -> Result<Verdict, ApiError> {
        let line = row.line;
        let refuse = |column: &str, reason: String| Ok(Err(refusal(line, Some(column), reason)));
        let n = row.fields.len();
        if n > self.columns.count {
            return Ok(Err(refusal(
                line,
                None,
                format!("{n} fields where the header names {}", self.columns.count),
            )));
        }
        let cell = |i: usize| row.fields.get(i).map(|f| f.trim());
        let missing = format!(
            "missing: the row has {n} of the header's {} fields",
            self.columns.count
        );
        let Some(household) = cell(self.columns.household) else {
            return refuse("household_id", missing);
        };
        let Some(officer) = cell(self.columns.officer) else {
            return refuse("officer", missing);
        };
        for (column, value) in [("household_id", household), ("officer", officer)] {
            if value.is_empty() {
                return refuse(column, "empty".into());
            }
        }
        let Ok(household) = household.parse::<RecordId>() else {
            return refuse(
                "household_id",
                format!("{household:?} is not a household id (a UUID)"),
            );
        };
        if let Some(first) = self.first_line.get(&household) {
            return refuse(
                "household_id",
                format!("named again: the file assigns it on line {first}"),
            );
        }
        self.first_line.insert(household, line);
        if !records::household_exists(c, household)? {
            return refuse(
                "household_id",
                format!("no household {household} (or it is deleted)"),
            );
        }
        let officer = match self.officer(c, officer)? {
            Ok(o) => o,
            Err(why) => return refuse("officer", why),
        };
        let reason = match self.columns.reason.and_then(cell).filter(|r| !r.is_empty()) {
            None => DEFAULT_REASON,
            Some(raw) => match reason_rule(raw) {
                Ok(r) => r,
                Err(why) => return refuse("reason", why),
            },
        };
        let household = household.to_string();
        let current = rows::active_for_household(c, &household)?;
        if let Some(cur) = &current {
            if cur.officer_id == officer.id {
                return Ok(Ok(None));
            }
            if self.outside(cur.agency_id.as_deref())? {
                return refuse(
                    "household_id",
                    "assigned within another agency: agency admins reassign their own \
                     agency's households only"
                        .into(),
                );
            }
        }
        Ok(Ok(Some(Plan {
            household,
            current,
            officer,
            reason: reason.to_owned(),
        })))
    }

    /// The officer a cell names by user name or user id, looked up once per file.
    fn officer(
        &mut self,
        c: &mut AnyConnection,
        named: &str,
    ) -> Result<Result<UserRow, String>, ApiError> {
        if let Some(known) = self.officers.get(named) {
            return Ok(known.clone());
        }
        let user = match named.parse::<UserId>() {
            Ok(id) => users::by_id(c, id)?,
            Err(_) => users::by_username(c, &named.to_lowercase())?,
        };
        let verdict = match user {
            None => Err(format!("no user {named}")),
            Some(u) if u.role != Role::Officer.as_str() => Err(format!(
                "{} is not an officer: households are assigned to officers",
                u.username
            )),
            Some(u) if self.outside(u.agency_id.as_deref())? => Err(format!(
                "{} is an officer of another agency: agency admins assign their own agency's \
                 officers only",
                u.username
            )),
            Some(u) => Ok(u),
        };
        self.officers.insert(named.to_owned(), verdict.clone());
        Ok(verdict)
    }

    /// Whether `agency` is beyond an agency admin's reach.
    fn outside(&self, agency: Option<&str>) -> Result<bool, ApiError> {
        match self.by {
            None => Ok(false),
            Some(p) => match within_agency(p, agency) {
                Ok(()) => Ok(false),
                Err(e) if e.code() == ErrorCode::OtherAgency => Ok(true),
                Err(e) => Err(e),
            },
        }
    }
}

fn refusal(line: usize, column: Option<&str>, reason: String) -> RefusedRow {
    RefusedRow {
        line,
        column: column.map(str::to_owned),
        reason,
    }
}

/// A file refused as a whole before any row was read.
fn refused_file(line: usize, reason: &str, dry_run: bool) -> ImportReport {
    ImportReport {
        rows: 0,
        assigned: 0,
        unchanged: 0,
        refused: vec![refusal(line, None, reason.to_owned())],
        dry_run,
    }
}
