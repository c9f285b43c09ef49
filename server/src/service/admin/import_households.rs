//! Registering households in bulk from a registry's CSV file. Every row is checked with
//! the households schema, the areas and the officers first; then the whole file is written
//! in one transaction, through the administrator's console device (so the households
//! reach devices as any write does), or nothing is. A row whose registry entry is already
//! registered, or repeats an earlier row, is skipped and reported: running a file again
//! changes nothing. So is a row whose KK number a household has already (a family is
//! registered once, whatever registry lists it); the `kk` and `nik` columns are sealed into
//! `household_identity` (`crate::pii`), never into the record, so they never sync.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};
use sync_protocol::wire::OpKind;
use sync_protocol::{Collection, Context, RecordId, Status};
use uuid::Uuid;

use crate::api::assignments::RefusedRow;
use crate::api::imports::{DuplicateRow, HouseholdImportReport};
use crate::auth::Caller;
use crate::db::users::UserRow;
use crate::db::{self, AnyConnection, areas, assignments, registry};
use crate::error::ApiError;
use crate::pii::{IdentityNumber, NumberKind, PiiKeys};
use crate::service::audit;
use crate::service::authorize::{self, Principal};
use crate::service::csv_rows::Row;
use crate::service::identity;

use super::console_writes::{ConsoleEdit, ConsoleWriter};
use super::import_file::{self, Columns, Officers, refusal};

/// Operations per console batch: one `process_batch` writes them in a few statements.
const BATCH: usize = 1000;
/// How often a long import reports progress, in rows.
const PROGRESS_EVERY: usize = 10_000;
const REASON: &str = "registered by import";

/// The columns, in the order the documentation gives them.
const COLUMNS: &[&str] = &[
    "registry_id",
    "registry_source",
    "head_name",
    "desa_code",
    "dusun",
    "rt",
    "rw",
    "address",
    "welfare_decile",
    "home_lat",
    "home_lon",
    "status",
    "phone",
    "notes",
    "officer",
    "kk",
    "nik",
];
const REQUIRED: &[&str] = &["registry_id", "registry_source", "head_name", "desa_code"];

/// Where a long import is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Rows in the file.
    pub rows: usize,
    /// Rows checked so far.
    pub validated: usize,
    /// Households written so far (within the transaction: nothing is visible before it
    /// commits).
    pub written: usize,
}

/// Imports `file` for an administrator. With any row refused, or in a dry run, nothing is
/// written; the report says which rows and why.
pub fn import_households(
    conn: &mut AnyConnection,
    caller: &Caller,
    keys: &PiiKeys,
    file: &[u8],
    dry_run: bool,
) -> Result<HouseholdImportReport, ApiError> {
    let p = authorize::admin(conn, caller)?;
    import(conn, &p, keys, file, dry_run, &mut |_| {})
}

/// [`import_households`] from the command line, as administrator `username`, reporting
/// progress to `progress`.
pub fn import_households_as(
    conn: &mut AnyConnection,
    keys: &PiiKeys,
    username: &str,
    file: &[u8],
    dry_run: bool,
    progress: &mut dyn FnMut(Progress),
) -> Result<HouseholdImportReport, ApiError> {
    let p = import_file::operator_as(conn, username)?;
    import(conn, &p, keys, file, dry_run, progress)
}

/// A row that passed every check.
struct Planned {
    line: usize,
    id: RecordId,
    fields: Map<String, Value>,
    officer: Option<UserRow>,
    kk: Option<IdentityNumber>,
    nik: Option<IdentityNumber>,
}

/// Why the write was abandoned: an error, or rows the merge refused after all.
enum Abort {
    Api(ApiError),
    Refused(Vec<RefusedRow>),
}

impl From<ApiError> for Abort {
    fn from(e: ApiError) -> Self {
        Abort::Api(e)
    }
}

impl From<db::DbError> for Abort {
    fn from(e: db::DbError) -> Self {
        Abort::Api(e.into())
    }
}

fn import(
    conn: &mut AnyConnection,
    p: &Principal,
    keys: &PiiKeys,
    file: &[u8],
    dry_run: bool,
    progress: &mut dyn FnMut(Progress),
) -> Result<HouseholdImportReport, ApiError> {
    let empty = |rows, refused| HouseholdImportReport {
        rows,
        created: 0,
        assigned: 0,
        duplicates: Vec::new(),
        refused,
        dry_run,
    };
    let (header, body) =
        match import_file::read(file, "registry_id,registry_source,head_name,desa_code,...") {
            Ok(parts) => parts,
            Err(r) => return Ok(empty(0, vec![r])),
        };
    let columns = match Columns::of(&header, COLUMNS, REQUIRED) {
        Ok(c) => c,
        Err(r) => return Ok(empty(body.len(), vec![r])),
    };
    let agency_limited = p.agency_limit()?.is_some();
    if agency_limited && !columns.has("officer") {
        let why = "agency admins import households for their own agency's officers: add an \
                   officer column";
        return Ok(empty(
            body.len(),
            vec![refusal(header.line, Some("officer"), why.into())],
        ));
    }
    let rows = body.len();
    let outcome = db::write_tx(conn, |c| {
        registry::lock_imports(c)?;
        identity::lock_for_import(c)?;
        let mut officers = Officers::new(p);
        let mut planned = Vec::new();
        let mut refused = Vec::new();
        for (i, record) in body.iter().enumerate() {
            let verdict = match record {
                Ok(row) => check_row(c, &columns, &mut officers, agency_limited, row)?,
                Err(e) => Err(refusal(e.line, None, e.reason.clone())),
            };
            match verdict {
                Ok(plan) => planned.push(plan),
                Err(r) => refused.push(r),
            }
            if (i + 1) % PROGRESS_EVERY == 0 {
                progress(Progress {
                    rows,
                    validated: i + 1,
                    written: 0,
                });
            }
        }
        refused.extend(unknown_desa(c, &planned)?);
        refused.sort_by_key(|r| r.line);
        let (fresh, duplicates) = without_duplicates(c, keys, planned)?;
        refused.extend(nik_taken(c, keys, &fresh)?);
        refused.sort_by_key(|r| r.line);
        let mut report = HouseholdImportReport {
            rows,
            created: fresh.len(),
            assigned: fresh.iter().filter(|h| h.officer.is_some()).count(),
            duplicates,
            refused,
            dry_run,
        };
        progress(Progress {
            rows,
            validated: rows,
            written: 0,
        });
        if !report.refused.is_empty() {
            report.created = 0;
            report.assigned = 0;
            return Ok(report);
        }
        if dry_run {
            return Ok(report);
        }
        write(c, p, keys, &fresh, rows, progress)?;
        Ok(report)
    });
    let report = match outcome {
        Ok(r) => r,
        Err(Abort::Api(e)) => return Err(e),
        Err(Abort::Refused(refused)) => empty(rows, refused),
    };
    if report.refused.is_empty() && !dry_run && report.created > 0 {
        let detail = serde_json::json!({
            "rows": report.rows, "created": report.created, "assigned": report.assigned,
            "duplicates": report.duplicates.len(),
        });
        audit::append(conn, p.actor().action("households_imported", None, detail));
    }
    Ok(report)
}

/// Writes the checked rows: the records through the console device, a thousand a batch,
/// then the assignments, then the personal numbers. Any operation the merge refuses after
/// all abandons the whole transaction.
fn write(
    c: &mut AnyConnection,
    p: &Principal,
    keys: &PiiKeys,
    fresh: &[Planned],
    rows: usize,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), Abort> {
    let mut writer = ConsoleWriter::open(c, p.user_id)?;
    // An agency admin's households are theirs once assigned to their officer, below in
    // this transaction; the rows' officers were checked to be of their agency.
    writer.admit(fresh.iter().map(|h| h.id.to_string()));
    let mut written = 0;
    for chunk in fresh.chunks(BATCH) {
        let edits = chunk
            .iter()
            .map(|h| ConsoleEdit {
                collection: Collection::Households.name().to_owned(),
                record_id: h.id,
                kind: OpKind::Put,
                ctx: Context::default(),
                fields: Some(h.fields.clone()),
            })
            .collect();
        let results = writer.write(c, edits)?;
        let refused: Vec<RefusedRow> = results
            .iter()
            .zip(chunk)
            .filter(|(r, _)| r.status != Status::Applied)
            .map(|(r, h)| {
                let why = r
                    .error
                    .as_ref()
                    .map_or_else(|| r.status.as_str().to_owned(), |e| e.message.clone());
                refusal(h.line, None, why)
            })
            .collect();
        if !refused.is_empty() {
            return Err(Abort::Refused(refused));
        }
        written += chunk.len();
        progress(Progress {
            rows,
            validated: rows,
            written,
        });
    }
    let now = db::now_ms();
    let ids: Vec<(String, String, &UserRow)> = fresh
        .iter()
        .filter_map(|h| {
            h.officer
                .as_ref()
                .map(|o| (Uuid::now_v7().to_string(), h.id.to_string(), o))
        })
        .collect();
    let by = p.user_id.to_string();
    let new: Vec<assignments::NewAssignment<'_>> = ids
        .iter()
        .map(|(id, household, officer)| assignments::NewAssignment {
            id,
            household_id: household,
            officer_id: &officer.id,
            agency_id: officer.agency_id.as_deref(),
            starts_at: now,
            reason: REASON,
            assigned_by: Some(&by),
        })
        .collect();
    assignments::insert_many(c, &new)?;
    // New households have no numbers yet, and theirs were found to be no one's above,
    // under the identity lock this transaction holds.
    let numbers: Vec<_> = fresh
        .iter()
        .filter(|h| h.kk.is_some() || h.nik.is_some())
        .map(|h| (h.id, h.kk.as_ref(), h.nik.as_ref()))
        .collect();
    identity::store_new(c, keys, &numbers)?;
    Ok(())
}

/// Checks one row: its cells, the households schema, its officer.
fn check_row(
    c: &mut AnyConnection,
    columns: &Columns,
    officers: &mut Officers<'_>,
    agency_limited: bool,
    row: &Row,
) -> Result<Result<Planned, RefusedRow>, ApiError> {
    let line = row.line;
    let refuse = |column: &str, reason: String| Ok(Err(refusal(line, Some(column), reason)));
    if let Err(r) = columns.fits(row) {
        return Ok(Err(r));
    }
    let mut fields = Map::new();
    for name in COLUMNS {
        let Some(raw) = columns.cell(row, name).filter(|v| !v.is_empty()) else {
            continue;
        };
        let value = match *name {
            "officer" | "kk" | "nik" => continue,
            "registry_source" | "status" => Value::String(raw.to_lowercase()),
            "rt" | "rw" if raw.len() < 3 && raw.bytes().all(|b| b.is_ascii_digit()) => {
                // Spreadsheets drop the leading zeros of RT 001.
                Value::String(format!("{raw:0>3}"))
            }
            "welfare_decile" => match raw.parse::<i64>() {
                Ok(n) => Value::from(n),
                Err(_) => return refuse(name, format!("{raw:?} is not a whole number (1-10)")),
            },
            "home_lat" | "home_lon" => match raw.parse::<f64>() {
                Ok(x) if x.is_finite() => Value::from(x),
                _ => return refuse(name, format!("{raw:?} is not a number")),
            },
            _ => Value::String(raw.to_owned()),
        };
        fields.insert((*name).to_owned(), value);
    }
    for name in REQUIRED {
        if !fields.contains_key(*name) {
            return refuse(name, "empty".into());
        }
    }
    fields
        .entry("status")
        .or_insert_with(|| Value::String("active".into()));
    if let Err(r) = Collection::Households.schema().check_put(&fields) {
        let column = r
            .message
            .split('`')
            .nth(1)
            .filter(|c| COLUMNS.contains(c))
            .map(str::to_owned);
        return Ok(Err(RefusedRow {
            line,
            column,
            reason: format!("{}: {}", r.code.as_str(), r.message),
        }));
    }
    let officer = match columns.cell(row, "officer").filter(|v| !v.is_empty()) {
        None if agency_limited => {
            return refuse(
                "officer",
                "empty: agency admins import households for their own agency's officers".into(),
            );
        }
        None => None,
        Some(named) => match officers.officer(c, named)? {
            Ok(o) => Some(o),
            Err(why) => return refuse("officer", why),
        },
    };
    let mut numbers = [None, None];
    for (slot, kind) in numbers.iter_mut().zip([NumberKind::Kk, NumberKind::Nik]) {
        let Some(raw) = columns.cell(row, kind.as_str()).filter(|v| !v.is_empty()) else {
            continue;
        };
        // The message says what is wrong with the number, never the number.
        match IdentityNumber::parse(kind, raw) {
            Ok(n) => *slot = Some(n),
            Err(e) => return refuse(kind.as_str(), format!("invalid_identity_number: {e}")),
        }
    }
    let [kk, nik] = numbers;
    Ok(Ok(Planned {
        line,
        id: RecordId(Uuid::now_v7()),
        fields,
        officer,
        kk,
        nik,
    }))
}

/// Rows whose desa code the server does not know, asked once for the whole file.
fn unknown_desa(c: &mut AnyConnection, planned: &[Planned]) -> Result<Vec<RefusedRow>, ApiError> {
    let code = |h: &Planned| {
        h.fields
            .get("desa_code")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let mut codes: Vec<String> = planned.iter().filter_map(code).collect();
    codes.sort_unstable();
    codes.dedup();
    let asked: Vec<&str> = codes.iter().map(String::as_str).collect();
    let known = areas::known_desa(c, &asked)?;
    Ok(planned
        .iter()
        .filter_map(|h| {
            let c = code(h)?;
            (!known.contains(&c)).then(|| {
                refusal(
                    h.line,
                    Some("desa_code"),
                    format!("unknown_desa: no desa or kelurahan has code {c}"),
                )
            })
        })
        .collect())
}

/// Splits the rows into the households to create and the duplicates: rows whose
/// `(registry_source, registry_id)` the server holds, or an earlier row of the file names,
/// and rows whose KK number a household holds or an earlier row gives.
fn without_duplicates(
    c: &mut AnyConnection,
    keys: &PiiKeys,
    planned: Vec<Planned>,
) -> Result<(Vec<Planned>, Vec<DuplicateRow>), ApiError> {
    let key = |h: &Planned| {
        let text = |f: &str| {
            h.fields
                .get(f)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        (text("registry_source"), text("registry_id"))
    };
    let ids: HashSet<String> = planned.iter().map(|h| key(h).1).collect();
    let asked: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut known: HashMap<(String, String), RecordId> = HashMap::new();
    for r in registry::by_registry_ids(c, &asked)? {
        let (Some(source), Some(id)) = (r.registry_source, r.registry_id) else {
            continue;
        };
        let household =
            r.id.parse()
                .map_err(|_| ApiError::internal(format!("stored household id {}", r.id)))?;
        known.insert((source, id), household);
    }
    let kks: Vec<&IdentityNumber> = planned.iter().filter_map(|h| h.kk.as_ref()).collect();
    let kk_holders = identity::holders(c, keys, NumberKind::Kk, &kks)?;
    let mut seen: HashMap<(String, String), RecordId> = HashMap::new();
    let mut seen_kk: HashMap<String, RecordId> = HashMap::new();
    let (mut fresh, mut duplicates) = (Vec::new(), Vec::new());
    for h in planned {
        let k = key(&h);
        let kk_holder =
            h.kk.as_ref()
                .and_then(|kk| kk_holders.get(kk.expose()).copied());
        let kk_earlier =
            h.kk.as_ref()
                .and_then(|kk| seen_kk.get(kk.expose()).copied());
        if let Some(existing) = known.get(&k) {
            duplicates.push(DuplicateRow {
                line: h.line,
                household_id: *existing,
                of: "registered".into(),
            });
        } else if let Some(earlier) = seen.get(&k) {
            duplicates.push(DuplicateRow {
                line: h.line,
                household_id: *earlier,
                of: "repeated".into(),
            });
        } else if let Some(existing) = kk_holder {
            duplicates.push(DuplicateRow {
                line: h.line,
                household_id: existing,
                of: "registered_kk".into(),
            });
        } else if let Some(earlier) = kk_earlier {
            duplicates.push(DuplicateRow {
                line: h.line,
                household_id: earlier,
                of: "repeated_kk".into(),
            });
        } else {
            seen.insert(k, h.id);
            if let Some(kk) = &h.kk {
                seen_kk.insert(kk.expose().to_owned(), h.id);
            }
            fresh.push(h);
        }
    }
    Ok((fresh, duplicates))
}

/// Rows to create whose NIK another household holds, or an earlier row gives: a person is
/// the head of one family. Refused (not skipped): the file says two different things.
fn nik_taken(
    c: &mut AnyConnection,
    keys: &PiiKeys,
    fresh: &[Planned],
) -> Result<Vec<RefusedRow>, ApiError> {
    let niks: Vec<&IdentityNumber> = fresh.iter().filter_map(|h| h.nik.as_ref()).collect();
    let nik_holders = identity::holders(c, keys, NumberKind::Nik, &niks)?;
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut out = Vec::new();
    for h in fresh {
        let Some(nik) = &h.nik else { continue };
        if let Some(holder) = nik_holders.get(nik.expose()) {
            out.push(refusal(
                h.line,
                Some("nik"),
                format!("duplicate_nik: the NIK is the head's of household {holder}"),
            ));
        } else if let Some(line) = seen.insert(nik.expose(), h.line) {
            out.push(refusal(
                h.line,
                Some("nik"),
                format!("duplicate_nik: the NIK is given on line {line} too"),
            ));
        }
    }
    Ok(out)
}
