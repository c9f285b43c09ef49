//! Helpers shared by the scenario and property tests.
#![allow(dead_code)]

use serde_json::{Map, Value, json};
use sync_protocol::{
    Applied, ApplyEnv, Context, DeviceId, Epoch, Hlc, OpKind, Operation, RecordId, RecordState,
    apply,
};
use uuid::Uuid;

pub const T0: u64 = 1_764_300_000_000; // 2025-11-28, an arbitrary fixed "now"
pub const DAY_MS: u64 = 86_400_000;

pub fn dev(n: u128) -> DeviceId {
    DeviceId(Uuid::from_u128(0xD000 + n))
}

pub fn epoch(n: u128) -> Epoch {
    Epoch(Uuid::from_u128(0xE000 + n))
}

pub fn env() -> ApplyEnv {
    ApplyEnv {
        epoch: epoch(1),
        now: Hlc::at(T0),
        max_drift_ms: 5 * 60_000,
    }
}

/// A household put whose head_name is `name` (so the head_name register holds `name`).
pub fn household(name: &str) -> Map<String, Value> {
    let v = json!({"head_name": name, "desa_code": "3510010001", "status": "active"});
    v.as_object().cloned().unwrap_or_default()
}

pub fn fields(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

pub fn op(seq: u64, kind: OpKind, seen: u64, fields: Option<Map<String, Value>>) -> Operation {
    Operation {
        seq,
        op_id: None,
        collection: "households".into(),
        record_id: RecordId(Uuid::from_u128(0xAAAA)),
        kind,
        ctx: Context::seen(epoch(1), seen),
        hlc: Hlc::at(T0 - 1000 + seq),
        fields,
    }
}

pub fn put(seq: u64, seen: u64, name: &str) -> Operation {
    op(seq, OpKind::Put, seen, Some(household(name)))
}

pub fn patch(seq: u64, seen: u64, f: Value) -> Operation {
    op(seq, OpKind::Patch, seen, Some(fields(f)))
}

pub fn delete(seq: u64, seen: u64) -> Operation {
    op(seq, OpKind::Delete, seen, None)
}

/// One record on a pure server: apply operations in arrival order.
pub struct Rec {
    pub state: Option<RecordState>,
    pub env: ApplyEnv,
}

impl Rec {
    pub fn new() -> Self {
        Rec {
            state: None,
            env: env(),
        }
    }

    pub fn push(&mut self, device: DeviceId, op: Operation) -> Applied {
        let applied = apply(self.state.clone(), device, &op, &self.env);
        if let Some(s) = &applied.state {
            self.state = Some(s.clone());
        }
        applied
    }

    pub fn state(&self) -> &RecordState {
        self.state.as_ref().expect("record exists")
    }

    pub fn version(&self) -> u64 {
        self.state().version
    }

    /// The live values of one field, in display order.
    pub fn live(&self, field: &str) -> Vec<Value> {
        let reg = self
            .state()
            .registers
            .get(register_of(field))
            .cloned()
            .unwrap_or_default();
        reg.siblings
            .iter()
            .map(|s| {
                if field == "_exists" {
                    s.value.clone()
                } else {
                    s.value[field].clone()
                }
            })
            .collect()
    }

    /// The live values of one field, sorted, as strings (for order-free comparison).
    pub fn live_sorted(&self, field: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .live(field)
            .iter()
            .map(|x| x.to_string().replace('"', ""))
            .collect();
        v.sort();
        v
    }

    /// (dot, value) pairs of one field, by dot.
    pub fn dots(&self, field: &str) -> Vec<(u64, String)> {
        let reg = self
            .state()
            .registers
            .get(register_of(field))
            .cloned()
            .unwrap_or_default();
        let mut v: Vec<(u64, String)> = reg
            .siblings
            .iter()
            .map(|s| {
                let val = if field == "_exists" {
                    s.value.clone()
                } else {
                    s.value[field].clone()
                };
                (s.dot.server, val.to_string().replace('"', ""))
            })
            .collect();
        v.sort();
        v
    }
}

pub fn register_of(field: &str) -> &str {
    match field {
        "desa_code" | "dusun" | "rt" | "rw" | "address" => "address",
        "home_lat" | "home_lon" => "home_point",
        "registry_id" | "registry_source" => "registry",
        f => f,
    }
}
