//! A supervisor reviews a visit: the decision is a write of the visit's review record (in
//! `reviews`, its id derived from the visit's) by the supervisor's console device, so it
//! syncs to the officer's device like any edit and a concurrent decision becomes a
//! conflict (see [`super::console_writes`]).

use serde_json::{Map, Value, json};
use sync_protocol::review::{VISIT_FIELD, review_id};
use sync_protocol::scope::{HOUSEHOLD_FIELD, household_of};
use sync_protocol::wire::OpKind;
use sync_protocol::{Collection, RecordId, Status};

use crate::api::reviews::{ReviewDone, ReviewRequest};
use crate::auth::Caller;
use crate::db::{self, AnyConnection, records};
use crate::error::{ApiError, ErrorCode};
use crate::service::audit;
use crate::service::authorize;

use super::console_writes::{ConsoleEdit, ConsoleWriter};
use super::read_record::load_in_scope;
use super::read_visit_review::review_view;

/// Writes `req` as the review of visit `visit`, for an administrator who may see the visit
/// (an agency admin: their agency's households only). The first review creates the record
/// (a put naming the visit and its household); later ones patch the decision, superseding
/// what `req.ctx` covers. A value the schema refuses (a comment over 2,000 characters)
/// answers `edit_rejected` and writes nothing. Audited as `visit_reviewed`.
pub fn review_visit(
    conn: &mut AnyConnection,
    caller: &Caller,
    visit: RecordId,
    req: ReviewRequest,
) -> Result<ReviewDone, ApiError> {
    let p = authorize::admin(conn, caller)?;
    let id = review_id(visit);
    let (done, device, household) = db::write_tx(conn, |c| {
        let visit_state = load_in_scope(c, &p, Collection::Visits.name(), visit)?;
        let household = household_of(&visit_state)
            .ok_or_else(|| ApiError::internal(format!("visit {visit} names no household")))?;
        let mut writer = ConsoleWriter::open(c, p.user_id)?;
        let existing = records::load_many(c, &[id])?
            .remove(&id)
            .filter(|s| s.version > 0 && !s.deleted());
        let mut fields = Map::new();
        fields.insert("state".into(), Value::from(req.state.as_str()));
        fields.insert(
            "comment".into(),
            req.comment.clone().map_or(Value::Null, Value::from),
        );
        let kind = if existing.is_some() {
            OpKind::Patch
        } else {
            fields.insert(VISIT_FIELD.into(), Value::from(visit.to_string()));
            fields.insert(HOUSEHOLD_FIELD.into(), Value::from(household.clone()));
            OpKind::Put
        };
        let result = writer
            .write(
                c,
                vec![ConsoleEdit {
                    collection: Collection::Reviews.name().to_owned(),
                    record_id: id,
                    kind,
                    ctx: req.ctx.clone(),
                    fields: Some(fields),
                }],
            )?
            .pop()
            .ok_or_else(|| ApiError::internal("a console batch of one answered nothing"))?;
        if result.status == Status::Rejected {
            let why = result
                .error
                .map_or_else(String::new, |e| format!("{}: {}", e.code, e.message));
            return Err(ApiError::new(
                ErrorCode::EditRejected,
                format!("the review was rejected, nothing was written: {why}"),
            ));
        }
        let review = review_view(c, visit)?;
        Ok::<_, ApiError>((
            ReviewDone {
                status: result.status,
                review,
            },
            writer.device(),
            household,
        ))
    })?;
    audit::append(
        conn,
        p.actor().action(
            "visit_reviewed",
            Some(&visit.to_string()),
            json!({
                "review_id": id,
                "household_id": household,
                "state": req.state,
                // The comment is the officer's to read in the record, not the log's to copy.
                "comment_chars": req.comment.as_deref().map_or(0, |c| c.chars().count()),
                "status": done.status,
                "console_device": device,
            }),
        ),
    );
    Ok(done)
}
