//! Creating officers (and, for a regency admin or the command line, administrators) in
//! bulk from a CSV file: `username,display_name,agency[,role]`. Every row is checked
//! first; then every new user is created in one transaction, or none is. Each gets a
//! generated one-time password, shown once in the report. User names that exist already
//! are skipped and reported, so a file can be run again.

use std::collections::{HashMap, HashSet};

use crate::api::assignments::RefusedRow;
use crate::api::imports::{CreatedUser, DuplicateUser, UserImportReport};
use crate::auth::{Caller, Role, password};
use crate::db::users::{self, NewUser};
use crate::db::{self, AnyConnection, agencies};
use crate::error::ApiError;
use crate::ids::{AgencyId, UserId};
use crate::service::audit::{self, Entry};
use crate::service::authorize::{self, Principal};
use crate::service::names::visible_name;
use crate::service::{accounts, csv_rows::Row};

use super::import_file::{self, Columns, refusal};

const COLUMNS: &[&str] = &["username", "display_name", "agency", "role"];
const REQUIRED: &[&str] = &["username", "display_name"];

/// Imports `file` for an administrator: officers of their own agency for an agency admin.
pub fn import_users(
    conn: &mut AnyConnection,
    caller: &Caller,
    file: &[u8],
    dry_run: bool,
) -> Result<UserImportReport, ApiError> {
    let p = authorize::admin(conn, caller)?;
    import(conn, Some(&p), file, dry_run)
}

/// [`import_users`] from the command line: any role, any agency.
pub fn import_users_as_operator(
    conn: &mut AnyConnection,
    file: &[u8],
    dry_run: bool,
) -> Result<UserImportReport, ApiError> {
    import(conn, None, file, dry_run)
}

/// A row that passed every check.
struct Planned {
    line: usize,
    username: String,
    display_name: String,
    role: Role,
    agency: Option<AgencyId>,
}

fn import(
    conn: &mut AnyConnection,
    by: Option<&Principal>,
    file: &[u8],
    dry_run: bool,
) -> Result<UserImportReport, ApiError> {
    let empty = |rows, refused| UserImportReport {
        rows,
        created: Vec::new(),
        creatable: 0,
        duplicates: Vec::new(),
        refused,
        dry_run,
    };
    let (header, body) = match import_file::read(file, "username,display_name,agency,role") {
        Ok(parts) => parts,
        Err(r) => return Ok(empty(0, vec![r])),
    };
    let columns = match Columns::of(&header, COLUMNS, REQUIRED) {
        Ok(c) => c,
        Err(r) => return Ok(empty(body.len(), vec![r])),
    };
    let own = by.map(Principal::agency_limit).transpose()?.flatten();
    let agencies = Agencies::load(conn)?;
    let mut report = empty(body.len(), Vec::new());
    let mut planned = Vec::new();
    let mut first_line: HashMap<String, usize> = HashMap::new();
    for record in &body {
        let row = match record {
            Ok(row) => row,
            Err(e) => {
                report.refused.push(refusal(e.line, None, e.reason.clone()));
                continue;
            }
        };
        match check_row(&columns, &agencies, own, row) {
            Err(r) => report.refused.push(r),
            Ok(plan) => {
                if first_line.contains_key(&plan.username) {
                    report.duplicates.push(DuplicateUser {
                        line: plan.line,
                        username: plan.username,
                        of: "repeated".into(),
                    });
                } else if users::by_username(conn, &plan.username)?.is_some() {
                    report.duplicates.push(DuplicateUser {
                        line: plan.line,
                        username: plan.username,
                        of: "registered".into(),
                    });
                } else {
                    first_line.insert(plan.username.clone(), plan.line);
                    planned.push(plan);
                }
            }
        }
    }
    report.creatable = if report.refused.is_empty() {
        planned.len()
    } else {
        0
    };
    if !report.refused.is_empty() || dry_run || planned.is_empty() {
        return Ok(report);
    }
    // Hashing is slow on purpose: done before the transaction, which then only inserts.
    let mut ready = Vec::with_capacity(planned.len());
    for plan in planned {
        let password = password::generate().map_err(ApiError::Internal)?;
        let hash = password::hash(&password).map_err(ApiError::Internal)?;
        ready.push((plan, password, hash, UserId::generate()));
    }
    let taken = db::write_tx(conn, |c| {
        let mut taken = Vec::new();
        for (plan, _, hash, id) in &ready {
            let inserted = users::insert(
                c,
                &NewUser {
                    id: *id,
                    username: &plan.username,
                    display_name: &plan.display_name,
                    password_hash: hash,
                    role: plan.role.as_str(),
                    agency_id: plan.agency,
                    must_change_password: true,
                },
            )?;
            if !inserted {
                taken.push(refusal(
                    plan.line,
                    Some("username"),
                    format!("`{}` was taken while the file was checked", plan.username),
                ));
            }
        }
        if taken.is_empty() {
            Ok(taken)
        } else {
            // Roll back every insert: all or nothing.
            Err(Aborted::Taken(taken))
        }
    });
    match taken {
        Ok(_) => {}
        Err(Aborted::Taken(refused)) => {
            report.creatable = 0;
            report.refused = refused;
            return Ok(report);
        }
        Err(Aborted::Db(e)) => return Err(e.into()),
    }
    report.created = ready
        .into_iter()
        .map(|(plan, password, _, id)| CreatedUser {
            line: plan.line,
            id,
            username: plan.username,
            password,
        })
        .collect();
    let detail = serde_json::json!({
        "rows": report.rows, "created": report.created.len(),
        "duplicates": report.duplicates.len(),
        "usernames": report.created.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(),
    });
    let entry = match by {
        Some(p) => p.actor().action("users_imported", None, detail),
        None => {
            let mut detail = detail;
            detail["via"] = "command line".into();
            Entry::system("users_imported", None, detail)
        }
    };
    audit::append(conn, entry);
    Ok(report)
}

/// Why the transaction was rolled back.
enum Aborted {
    /// Rows whose user name was taken while the file was checked.
    Taken(Vec<RefusedRow>),
    /// Storage.
    Db(db::DbError),
}

impl From<db::DbError> for Aborted {
    fn from(e: db::DbError) -> Self {
        Aborted::Db(e)
    }
}

/// Agencies by id and by name in any case, read once per file (they are few).
struct Agencies {
    by_name: HashMap<String, AgencyId>,
    ids: HashSet<AgencyId>,
}

impl Agencies {
    fn load(conn: &mut AnyConnection) -> Result<Agencies, ApiError> {
        let mut by_name = HashMap::new();
        let mut ids = HashSet::new();
        for a in agencies::list(conn, None)? {
            let id: AgencyId =
                a.id.parse()
                    .map_err(|_| ApiError::internal(format!("stored agency id {}", a.id)))?;
            by_name.insert(a.name.to_lowercase(), id);
            ids.insert(id);
        }
        Ok(Agencies { by_name, ids })
    }

    fn find(&self, named: &str) -> Option<AgencyId> {
        match named.parse::<AgencyId>() {
            Ok(id) => self.ids.contains(&id).then_some(id),
            Err(_) => self.by_name.get(&named.to_lowercase()).copied(),
        }
    }
}

/// Checks one row with the rules of creating a user, and the caller's limits: an agency
/// admin (`own`) creates officers of their own agency only.
fn check_row(
    columns: &Columns,
    agencies: &Agencies,
    own: Option<AgencyId>,
    row: &Row,
) -> Result<Planned, RefusedRow> {
    let line = row.line;
    let refuse = |column: &str, reason: String| Err(refusal(line, Some(column), reason));
    columns.fits(row)?;
    let username = columns.cell(row, "username").unwrap_or("").to_lowercase();
    if !accounts::valid_username(&username) {
        return refuse(
            "username",
            format!(
                "{username:?}: a user name is 3 to 64 characters of a-z, 0-9, '.', '_' and '-'"
            ),
        );
    }
    let display_name = match visible_name(columns.cell(row, "display_name").unwrap_or(""), 200) {
        Ok(d) => d.to_owned(),
        Err(why) => return refuse("display_name", format!("the display name {why}")),
    };
    let role = match columns.cell(row, "role").filter(|r| !r.is_empty()) {
        None => Role::Officer,
        Some(raw) => match raw.to_lowercase().parse::<Role>() {
            Ok(r) => r,
            Err(_) => {
                return refuse(
                    "role",
                    format!("{raw:?}: the role is officer, agency_admin or regency_admin"),
                );
            }
        },
    };
    if own.is_some() && role != Role::Officer {
        return refuse("role", "agency admins create officers only".into());
    }
    let agency = match columns.cell(row, "agency").filter(|a| !a.is_empty()) {
        None => own,
        Some(named) => match agencies.find(named) {
            None => return refuse("agency", format!("no agency {named}")),
            Some(a) if own.is_some_and(|o| o != a) => {
                return refuse(
                    "agency",
                    "agency admins create officers of their own agency only".into(),
                );
            }
            Some(a) => Some(a),
        },
    };
    match (role, agency) {
        (Role::Officer | Role::AgencyAdmin, None) => refuse(
            "agency",
            "empty: officers and agency admins belong to an agency".into(),
        ),
        (Role::RegencyAdmin, Some(_)) => refuse(
            "agency",
            "regency admins belong to no agency: leave it empty".into(),
        ),
        _ => Ok(Planned {
            line,
            username,
            display_name,
            role,
            agency,
        }),
    }
}
