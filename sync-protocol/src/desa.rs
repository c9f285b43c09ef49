//! A household's `desa_code` must name a desa (or kelurahan) the server knows. The areas are
//! the server's reference data, not the protocol's: the batch asks its store once which of
//! the codes it names are known ([`crate::batch::BatchStore::known_desa`]) and refuses the
//! writes naming the others, after every other check.

use std::collections::HashSet;

use crate::outcome::{RejectCode, Rejection};
use crate::schema::Collection;
use crate::wire::{OpKind, Operation};

/// The household field that names the desa.
pub const FIELD: &str = "desa_code";

/// The desa code a household put or patch names, when it gives one as a string. A patch
/// that leaves the `address` group alone names none; a value of another type is refused
/// before this matters (`wrong_type`).
pub fn named(op: &Operation) -> Option<&str> {
    if op.kind == OpKind::Delete || op.collection != Collection::Households.name() {
        return None;
    }
    op.fields.as_ref()?.get(FIELD)?.as_str()
}

/// Refuses `op` when it names a desa that is not in `known`.
pub fn check(op: &Operation, known: &HashSet<String>) -> Result<(), Rejection> {
    match named(op) {
        Some(code) if !known.contains(code) => Err(Rejection::new(
            RejectCode::UnknownDesa,
            format!(
                "`{FIELD}` {code} names no desa or kelurahan the server knows: \
                 correct it, or ask an administrator to add the desa"
            ),
        )),
        _ => Ok(()),
    }
}
