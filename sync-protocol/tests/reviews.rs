//! The `reviews` collection in the pure merge: one record per visit under the derived id,
//! its household fixed, and concurrent decisions a conflict of the one `decision` register.

mod common;

use common::*;
use serde_json::{Value, json};
use sync_protocol::review::review_id;
use sync_protocol::rows::{TypedRow, typed_row};
use sync_protocol::{Context, OpKind, Operation, Outcome, RecordId, RejectCode};
use uuid::Uuid;

const VISIT: u128 = 0x5151;
const HOUSEHOLD: u128 = 0x4848;

fn visit() -> RecordId {
    RecordId(Uuid::from_u128(VISIT))
}

fn review_op(seq: u64, kind: OpKind, id: RecordId, seen: u64, f: Value) -> Operation {
    Operation {
        seq,
        op_id: None,
        collection: "reviews".into(),
        record_id: id,
        kind,
        ctx: if seen == 0 {
            Context::default()
        } else {
            Context::seen(epoch(1), seen)
        },
        hlc: sync_protocol::Hlc::at(T0 - 1000 + seq),
        fields: Some(fields(f)),
    }
}

fn first_review(state: &str) -> Value {
    json!({"visit_id": visit().to_string(),
           "household_id": RecordId(Uuid::from_u128(HOUSEHOLD)).to_string(),
           "state": state, "comment": "mohon kunjungi ulang"})
}

fn rejected_code(o: &Outcome) -> Option<RejectCode> {
    match o {
        Outcome::Rejected(r) => Some(r.code),
        _ => None,
    }
}

#[test]
fn a_review_lives_only_under_the_id_derived_from_its_visit() {
    let mut rec = Rec::new();
    let wrong = RecordId(Uuid::from_u128(0x9999));
    let a = rec.push(
        dev(1),
        review_op(1, OpKind::Put, wrong, 0, first_review("has_issues")),
    );
    assert_eq!(rejected_code(&a.outcome), Some(RejectCode::InvalidValue));

    let id = review_id(visit());
    let a = rec.push(
        dev(1),
        review_op(2, OpKind::Put, id, 0, first_review("has_issues")),
    );
    assert_eq!(a.outcome, Outcome::Applied);
    let Some(TypedRow::Review(row)) = typed_row(rec.state()) else {
        panic!("a review row");
    };
    assert_eq!(row.visit_id, Some(visit().to_string()));
    assert_eq!(row.state.as_deref(), Some("has_issues"));
    assert_eq!(row.device_id, Some(dev(1)));
    assert!(row.reviewed_at.is_some());

    // Its visit and its household are fixed.
    let other_visit = json!({"visit_id": RecordId(Uuid::from_u128(0x5152)).to_string()});
    let a = rec.push(dev(1), review_op(3, OpKind::Patch, id, 1, other_visit));
    assert_eq!(rejected_code(&a.outcome), Some(RejectCode::InvalidValue));
    let mut moved = first_review("approved");
    moved["household_id"] = json!(RecordId(Uuid::from_u128(0x4849)).to_string());
    let a = rec.push(dev(1), review_op(4, OpKind::Put, id, 1, moved));
    assert_eq!(rejected_code(&a.outcome), Some(RejectCode::InvalidValue));
    assert_eq!(rec.version(), 1, "nothing written");
}

#[test]
fn two_supervisors_deciding_at_once_conflict_on_the_decision_and_a_covering_write_settles_it() {
    let mut rec = Rec::new();
    let id = review_id(visit());
    rec.push(
        dev(1),
        review_op(1, OpKind::Put, id, 0, first_review("approved")),
    );
    // The second supervisor had not seen the first decision.
    let a = rec.push(
        dev(2),
        review_op(
            1,
            OpKind::Patch,
            id,
            0,
            json!({"state": "rejected", "comment": null}),
        ),
    );
    let Outcome::Conflict { fields } = &a.outcome else {
        panic!("a conflict: {:?}", a.outcome);
    };
    assert_eq!(fields, &["decision"]);
    // State and comment travel together: no value pairs one's state with the other's comment.
    let decision = &rec.state().registers["decision"];
    let pairs: Vec<(Value, Value)> = decision
        .siblings
        .iter()
        .map(|s| (s.value["state"].clone(), s.value["comment"].clone()))
        .collect();
    assert!(pairs.contains(&(json!("approved"), json!("mohon kunjungi ulang"))));
    assert!(pairs.contains(&(json!("rejected"), Value::Null)));

    let seen = rec.version();
    let a = rec.push(
        dev(1),
        review_op(
            2,
            OpKind::Patch,
            id,
            seen,
            json!({"state": "received", "comment": "ditinjau ulang"}),
        ),
    );
    assert_eq!(a.outcome, Outcome::Applied);
    assert!(!rec.state().conflicted());
    let Some(TypedRow::Review(row)) = typed_row(rec.state()) else {
        panic!("a review row");
    };
    assert_eq!(row.state, None, "received reads as no decision");
    assert_eq!(row.comment.as_deref(), Some("ditinjau ulang"));
}
