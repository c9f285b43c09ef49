//! What a caller may sync: every record, or the records of some households.

use std::collections::BTreeSet;

/// The households whose records a device pulls and may write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every record: regency administrators.
    All,
    /// The records of these households (ids as stored, lower case).
    Households(BTreeSet<String>),
}

impl Scope {
    /// Whether a record of `household` is in the scope.
    pub fn contains(&self, household: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Households(h) => h.contains(household),
        }
    }
}
