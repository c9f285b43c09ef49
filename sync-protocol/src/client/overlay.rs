//! What the officer sees: the server copy with the pending edits applied on top, by the
//! server's own merge ([`crate::apply`]), so the screen predicts what the push will do.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::apply::{ApplyEnv, apply};
use crate::clock::Dot;
use crate::hlc::Hlc;
use crate::ids::{DeviceId, Epoch};
use crate::schema::Collection;
use crate::state::{EXISTS, RecordState, Register, Sibling};
use crate::wire::{Operation, RecordView};

use super::replica::ServerCopy;

/// The view of one record: `copy` (if any) with `pending` (oldest first) merged on top as
/// `device`'s writes. `None` when there is neither a copy nor a pending write that creates
/// the record.
///
/// A view does not say which write produced an unconflicted value, so such a value is
/// taken to be as new as the copy: a pending edit based on an older version than the copy
/// then shows as a conflict wherever the values differ, which is what the server will say
/// if another device wrote there.
pub fn display(
    copy: Option<&ServerCopy>,
    pending: &[Operation],
    device: DeviceId,
) -> Option<RecordView> {
    if pending.is_empty() {
        return copy.map(|c| c.view.clone());
    }
    let mut state = copy.and_then(|c| state_from_view(&c.view));
    let epoch = copy
        .map(|c| c.epoch)
        .or_else(|| pending.iter().find_map(|op| op.ctx.epoch))
        .unwrap_or(Epoch(Uuid::nil()));
    for op in pending {
        let env = ApplyEnv {
            epoch,
            now: op.hlc,
            max_drift_ms: u64::MAX,
        };
        let applied = apply(state.clone(), device, op, &env);
        if let Some(next) = applied.state {
            state = Some(next);
        }
    }
    match (state, copy) {
        (Some(s), _) => Some(RecordView::from(&s)),
        (None, Some(c)) => Some(c.view.clone()),
        (None, None) => None,
    }
}

/// Rebuilds a merge state from a view: conflicted registers from their listed values,
/// every other register as one value of unknown origin at the view's version.
fn state_from_view(view: &RecordView) -> Option<RecordState> {
    let collection = Collection::from_name(&view.collection)?;
    let unknown = Dot {
        server: view.version,
        device: DeviceId(Uuid::nil()),
        seq: 0,
    };
    let single = |value: Value| Register {
        siblings: vec![Sibling {
            dot: unknown,
            hlc: Hlc::default(),
            order_hlc: Hlc::default(),
            clock_skew: false,
            value,
        }],
    };
    let mut values: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for d in collection.schema().fields {
        let v = view.fields.get(d.name).cloned().unwrap_or(Value::Null);
        values
            .entry(d.register().to_owned())
            .or_default()
            .insert(d.name.to_owned(), v);
    }
    let mut registers: BTreeMap<String, Register> = values
        .into_iter()
        .map(|(name, m)| (name, single(Value::Object(m))))
        .collect();
    registers.insert(EXISTS.to_owned(), single(Value::Bool(!view.deleted)));
    for (name, siblings) in &view.conflicts {
        let siblings = siblings
            .iter()
            .map(|s| Sibling {
                dot: Dot {
                    server: s.dot,
                    device: s.device,
                    seq: s.seq,
                },
                hlc: s.hlc,
                order_hlc: s.hlc,
                clock_skew: s.clock_skew,
                value: s.value.clone(),
            })
            .collect();
        registers.insert(name.clone(), Register { siblings });
    }
    Some(RecordState {
        id: view.id,
        collection,
        version: view.version,
        registers,
    })
}
