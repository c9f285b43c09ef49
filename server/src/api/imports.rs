//! Reports of the household and user imports. Their shape follows the assignment import's
//! ([`super::assignments::ImportReport`]): counts, every refused row with its line and
//! column, and the dry-run flag; with any row refused nothing was written.

use serde::{Deserialize, Serialize};
use sync_protocol::RecordId;

use super::assignments::RefusedRow;
use crate::ids::UserId;

/// What a household import did, or would do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HouseholdImportReport {
    /// The rows of the file, the header not counted.
    pub rows: usize,
    /// Households created (in a dry run: that would be); 0 when any row was refused.
    pub created: usize,
    /// Of those, the ones assigned to the row's officer.
    pub assigned: usize,
    /// Rows not created because their registry entry is registered already, or repeats an
    /// earlier row: skipped, so that running a file again changes nothing.
    pub duplicates: Vec<DuplicateRow>,
    /// Each row refused, in file order; with any, nothing was written.
    pub refused: Vec<RefusedRow>,
    /// Whether this was a dry run.
    pub dry_run: bool,
}

/// A row skipped as a duplicate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DuplicateRow {
    /// The line it starts on.
    pub line: usize,
    /// The household it is the same as.
    pub household_id: RecordId,
    /// `registered` (the server holds it) or `repeated` (an earlier row of the file).
    pub of: String,
}

/// What a user import did, or would do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UserImportReport {
    /// The rows of the file, the header not counted.
    pub rows: usize,
    /// The users created, each with their one-time password (shown this once); empty when
    /// any row was refused or in a dry run.
    pub created: Vec<CreatedUser>,
    /// How many would be created, in a dry run (else `created.len()`).
    pub creatable: usize,
    /// Rows whose user name exists already (or repeats an earlier row): skipped.
    pub duplicates: Vec<DuplicateUser>,
    /// Each row refused, in file order; with any, nothing was written.
    pub refused: Vec<RefusedRow>,
    /// Whether this was a dry run.
    pub dry_run: bool,
}

/// A user the import created.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreatedUser {
    /// The line of the file.
    pub line: usize,
    /// Id.
    pub id: UserId,
    /// Sign-in name.
    pub username: String,
    /// A one-time password: it must be changed at the first sign-in.
    pub password: String,
}

/// A row skipped because the user name is taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DuplicateUser {
    /// The line of the file.
    pub line: usize,
    /// The user name.
    pub username: String,
    /// `registered` or `repeated`.
    pub of: String,
}

/// The `422 import_refused` answer of any import: the error, and beside it the report.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Refused<R> {
    /// `{"code": "import_refused", "message": ...}`.
    #[serde(flatten)]
    pub error: sync_protocol::wire::ErrorBody,
    /// The report.
    #[serde(flatten)]
    pub report: R,
}
