//! The error catalogue and the documents agree: every code a client can receive is
//! documented with its status, and the documents name no code, or status, the server lacks.

use std::collections::{BTreeMap, BTreeSet};

use kampung_sync::error::ErrorCode;
use strum::IntoEnumIterator;
use sync_protocol::{RejectCode, Status};

fn doc(name: &str) -> String {
    let path = format!("{}/../docs/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// Every `(status, code)` a document names: table rows `| 403 | `code` |` and inline
/// mentions `` `403 code` ``.
fn documented_request_codes(text: &str) -> Vec<(u16, String)> {
    let mut found = Vec::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() > 3
            && let Ok(status) = cells[1].parse::<u16>()
            && let Some(code) = backticked(cells[2])
        {
            found.push((status, code.to_owned()));
        }
        for mention in line.split('`').skip(1).step_by(2) {
            if let Some((status, code)) = mention.split_once(' ')
                && let Ok(status) = status.parse::<u16>()
                && is_code(code)
            {
                found.push((status, code.to_owned()));
            }
        }
    }
    found
}

fn backticked(cell: &str) -> Option<&str> {
    cell.strip_prefix('`')
        .and_then(|c| c.strip_suffix('`'))
        .filter(|c| is_code(c))
}

fn is_code(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

/// The first-column codes of the table under `heading`, up to the next heading.
fn table_codes_under(text: &str, heading: &str) -> BTreeSet<String> {
    let start = text
        .find(heading)
        .unwrap_or_else(|| panic!("no section {heading}"));
    let section = &text[start + heading.len()..];
    let end = section.find("\n#").unwrap_or(section.len());
    section[..end]
        .lines()
        .filter_map(|l| l.split('|').nth(1).map(str::trim))
        .filter_map(backticked)
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_request_level_code_is_documented_with_its_status() {
    let docs = format!("{}\n{}", doc("api.md"), doc("sync-protocol.md"));
    let documented: BTreeSet<(u16, String)> = documented_request_codes(&docs).into_iter().collect();
    let missing: Vec<String> = ErrorCode::iter()
        .filter(|c| !documented.contains(&(c.status().as_u16(), c.as_str().to_owned())))
        .map(|c| format!("{} {}", c.status().as_u16(), c.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "codes the docs do not list with their status: {missing:?}"
    );
}

#[test]
fn the_docs_name_no_request_code_or_status_the_catalogue_lacks() {
    let catalogue: BTreeMap<&str, u16> = ErrorCode::iter()
        .map(|c| (c.as_str(), c.status().as_u16()))
        .collect();
    for name in ["api.md", "sync-protocol.md"] {
        for (status, code) in documented_request_codes(&doc(name)) {
            assert_eq!(
                catalogue.get(code.as_str()),
                Some(&status),
                "docs/{name} names `{status} {code}`, which the catalogue does not answer"
            );
        }
    }
}

#[test]
fn each_code_has_one_status() {
    let names: BTreeSet<&str> = ErrorCode::iter().map(ErrorCode::as_str).collect();
    assert_eq!(
        names.len(),
        ErrorCode::iter().count(),
        "a code is spelled twice"
    );
}

#[test]
fn operation_codes_match_the_documented_rejection_codes() {
    let documented = table_codes_under(&doc("sync-protocol.md"), "### 5.4 Rejection codes");
    let catalogue: BTreeSet<String> = RejectCode::iter().map(|c| c.as_str().to_owned()).collect();
    assert_eq!(documented, catalogue);
    let statuses = table_codes_under(&doc("sync-protocol.md"), "### 5.3 Statuses");
    let all: BTreeSet<String> = Status::iter().map(|s| s.as_str().to_owned()).collect();
    assert_eq!(statuses, all, "every push status is in section 5.3");
}
