//! The household a record belongs to: the unit of an officer's scope. A household is its
//! own; a visit or an aid record belongs to its `household_id`. A device syncs the records
//! of the households its officer is assigned, and only those.

use crate::schema::Collection;
use crate::state::RecordState;

/// The field of visits and aid that names their household.
pub const HOUSEHOLD_FIELD: &str = "household_id";

/// The household of `state`, as its id is stored (lower case, hyphenated); `None` for a
/// record without one (nothing written yet).
pub fn household_of(state: &RecordState) -> Option<String> {
    if state.collection == Collection::Households {
        return Some(state.id.to_string());
    }
    state.registers.values().find_map(|reg| {
        reg.winner()?
            .value
            .get(HOUSEHOLD_FIELD)?
            .as_str()
            .map(str::to_ascii_lowercase)
    })
}
