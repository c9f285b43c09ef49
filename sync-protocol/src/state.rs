//! A record's merge state: per-register sibling sets, each value tagged with its dot.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::clock::Dot;
use crate::hlc::Hlc;
use crate::ids::RecordId;
use crate::schema::Collection;

/// The register that holds the record's existence: `true` written by puts and patches,
/// `false` (a tombstone) by deletes. Delete concurrent with update leaves both.
pub const EXISTS: &str = "_exists";

/// One stored value and the write that produced it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sibling {
    /// The write's dot.
    pub dot: Dot,
    /// The device's HLC stamp, as sent.
    pub hlc: Hlc,
    /// The stamp used for ordering: the device stamp, or the server's when the device clock
    /// was too far ahead.
    pub order_hlc: Hlc,
    /// Whether the device clock was too far ahead.
    pub clock_skew: bool,
    /// The register's value: an object of the group's fields, or a bool for [`EXISTS`].
    pub value: Value,
}

impl Sibling {
    /// The deterministic display order: newest ordering stamp first, then device id, then
    /// sequence number. Every component travels with the write, so every node agrees.
    pub fn display_cmp(&self, other: &Sibling) -> Ordering {
        other
            .order_hlc
            .cmp(&self.order_hlc)
            .then_with(|| self.dot.device.cmp(&other.dot.device))
            .then_with(|| self.dot.seq.cmp(&other.dot.seq))
    }
}

/// A multi-value register: the maximal writes to one field group, in display order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Register {
    /// Live values, provisional winner first.
    pub siblings: Vec<Sibling>,
}

impl Register {
    /// The provisional winner: the first in display order.
    pub fn winner(&self) -> Option<&Sibling> {
        self.siblings.first()
    }

    /// Whether concurrent writes left different values. Equal concurrent values are kept as
    /// siblings (their dots matter) but are no conflict for a person to resolve.
    pub fn is_conflicted(&self) -> bool {
        self.siblings
            .split_first()
            .is_some_and(|(first, rest)| rest.iter().any(|s| s.value != first.value))
    }
}

/// The whole merge state of one record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordState {
    /// The record id.
    pub id: RecordId,
    /// Its collection, fixed by its first write.
    pub collection: Collection,
    /// The highest dot issued: the record's version vector is `{server: version}`.
    pub version: u64,
    /// Registers by name (field name, group name, or [`EXISTS`]).
    pub registers: BTreeMap<String, Register>,
}

impl RecordState {
    /// A record nothing has been written to yet.
    pub fn empty(id: RecordId, collection: Collection) -> Self {
        RecordState {
            id,
            collection,
            version: 0,
            registers: BTreeMap::new(),
        }
    }

    /// Deleted when every live existence value is a tombstone. Delete concurrent with an
    /// update keeps the record visible.
    pub fn deleted(&self) -> bool {
        self.registers.get(EXISTS).is_some_and(|r| {
            !r.siblings.is_empty() && r.siblings.iter().all(|s| s.value == Value::Bool(false))
        })
    }

    /// The registers holding concurrent, different values.
    pub fn conflicted_registers(&self) -> Vec<String> {
        self.registers
            .iter()
            .filter(|(_, r)| r.is_conflicted())
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Whether any register holds a conflict.
    pub fn conflicted(&self) -> bool {
        self.registers.values().any(Register::is_conflicted)
    }

    /// The provisional value of every field: each register's winner, flattened.
    pub fn fields(&self) -> Map<String, Value> {
        let mut out = Map::new();
        for (name, reg) in &self.registers {
            if name == EXISTS {
                continue;
            }
            if let Some(Value::Object(m)) = reg.winner().map(|w| &w.value) {
                out.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
        out
    }

    /// Every live dot, across registers, without repeats.
    pub fn live_dots(&self) -> Vec<Dot> {
        let mut dots: Vec<Dot> = self
            .registers
            .values()
            .flat_map(|r| r.siblings.iter().map(|s| s.dot))
            .collect();
        dots.sort_by_key(|d| d.server);
        dots.dedup();
        dots
    }
}
