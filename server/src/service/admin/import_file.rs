//! What the household and user imports share: reading the file and its header, finding a
//! row's cells, looking officers up, and the administrator the command line acts as.

use std::collections::HashMap;

use crate::api::accounts::UserView;
use crate::api::assignments::RefusedRow;
use crate::auth::Role;
use crate::db::users::{self, UserRow};
use crate::db::{AnyConnection, devices};
use crate::error::{ApiError, ErrorCode};
use crate::ids::UserId;
use crate::service::authorize::Principal;
use crate::service::csv_rows::{self, Row, Unreadable};

use super::assign_household::within_agency;

/// A refused row.
pub(super) fn refusal(line: usize, column: Option<&str>, reason: String) -> RefusedRow {
    RefusedRow {
        line,
        column: column.map(str::to_owned),
        reason,
    }
}

/// The header and the records of `file`, or why the file as a whole is refused.
/// `columns` is a hint for the message of an empty file.
pub(super) fn read(
    file: &[u8],
    columns: &str,
) -> Result<(Row, Vec<Result<Row, Unreadable>>), RefusedRow> {
    let text = std::str::from_utf8(file).map_err(|e| {
        let line = 1 + file[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        refusal(
            line,
            None,
            "not UTF-8 text: save the file as CSV UTF-8".into(),
        )
    })?;
    let mut records = csv_rows::rows(text).into_iter();
    match records.next() {
        None => Err(refusal(
            1,
            None,
            format!("the file is empty: its first line names the columns, {columns}"),
        )),
        Some(Err(e)) => Err(refusal(e.line, None, e.reason)),
        Some(Ok(header)) => Ok((header, records.collect())),
    }
}

/// Where each column of the header is.
pub(super) struct Columns {
    at: HashMap<String, usize>,
    count: usize,
}

impl Columns {
    /// Reads the header: every name one of `allowed`, none twice, every one of `required`.
    pub(super) fn of(
        header: &Row,
        allowed: &[&str],
        required: &[&str],
    ) -> Result<Columns, RefusedRow> {
        let mut at = HashMap::new();
        for (i, raw) in header.fields.iter().enumerate() {
            let name = raw.trim().to_lowercase();
            if !allowed.contains(&name.as_str()) {
                return Err(refusal(
                    header.line,
                    Some(&name),
                    format!("an unknown column: the columns are {}", allowed.join(", ")),
                ));
            }
            if at.insert(name.clone(), i).is_some() {
                return Err(refusal(header.line, Some(&name), "named twice".into()));
            }
        }
        if let Some(missing) = required.iter().find(|r| !at.contains_key(**r)) {
            return Err(refusal(
                header.line,
                Some(missing),
                format!("the header has no {missing} column"),
            ));
        }
        Ok(Columns {
            at,
            count: header.fields.len(),
        })
    }

    /// Whether the header has the column.
    pub(super) fn has(&self, name: &str) -> bool {
        self.at.contains_key(name)
    }

    /// The row has no more fields than the header (fewer: the rest are empty).
    pub(super) fn fits(&self, row: &Row) -> Result<(), RefusedRow> {
        let n = row.fields.len();
        if n > self.count {
            return Err(refusal(
                row.line,
                None,
                format!("{n} fields where the header names {}", self.count),
            ));
        }
        Ok(())
    }

    /// The cell of column `name`, trimmed; `None` when the header or the row lacks it.
    pub(super) fn cell<'r>(&self, row: &'r Row, name: &str) -> Option<&'r str> {
        self.at
            .get(name)
            .and_then(|i| row.fields.get(*i))
            .map(|f| f.trim())
    }
}

/// The officers a file names, looked up once each, with the rules of the assignment
/// import: an officer, and of the administrator's agency for an agency admin.
pub(super) struct Officers<'p> {
    by: &'p Principal,
    known: HashMap<String, Result<UserRow, String>>,
}

impl<'p> Officers<'p> {
    pub(super) fn new(by: &'p Principal) -> Self {
        Officers {
            by,
            known: HashMap::new(),
        }
    }

    /// The officer a cell names by user name or user id, or why it names none to assign.
    pub(super) fn officer(
        &mut self,
        c: &mut AnyConnection,
        named: &str,
    ) -> Result<Result<UserRow, String>, ApiError> {
        if let Some(known) = self.known.get(named) {
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
            Some(u) if !u.active => Err(format!("{} is deactivated", u.username)),
            Some(u) => match within_agency(self.by, u.agency_id.as_deref()) {
                Ok(()) => Ok(u),
                Err(e) if e.code() == ErrorCode::OtherAgency => Err(format!(
                    "{} is an officer of another agency: agency admins assign their own \
                     agency's officers only",
                    u.username
                )),
                Err(e) => return Err(e),
            },
        };
        self.known.insert(named.to_owned(), verdict.clone());
        Ok(verdict)
    }
}

/// The administrator a command-line import acts as (`--as`): active, and an agency or
/// regency admin. Their console device writes what the import creates.
pub(super) fn operator_as(conn: &mut AnyConnection, username: &str) -> Result<Principal, ApiError> {
    let user = users::by_username(conn, &username.to_lowercase())?
        .ok_or_else(|| ApiError::new(ErrorCode::UserNotFound, format!("no user {username}")))?;
    if !user.active {
        return Err(ApiError::user_deactivated());
    }
    let view = UserView::try_from(user)?;
    if view.role == Role::Officer {
        return Err(ApiError::forbidden_role());
    }
    Ok(Principal {
        device: devices::console_of(conn, view.id)?,
        user_id: view.id,
        username: view.username,
        role: view.role,
        agency_id: view.agency_id,
        remote_addr: None,
    })
}
