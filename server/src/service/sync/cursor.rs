//! The pull cursor as clients hold it: opaque text, `v1.<epoch>.<xid>.<seq>`.

use sync_protocol::Epoch;

use crate::db::changes::Position;
use crate::error::{ApiError, ErrorCode};

/// The cursor for position `p` in `epoch`.
pub(super) fn format_cursor(epoch: Epoch, p: Position) -> String {
    format!("v1.{epoch}.{}.{}", p.xid, p.seq)
}

/// Reads a cursor this server issued in the current `epoch`.
pub(super) fn parse_cursor(s: &str, epoch: Epoch) -> Result<Position, ApiError> {
    let invalid = cursor_not_issued;
    let mut parts = s.split('.');
    let (Some("v1"), Some(e), Some(xid), Some(seq), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(invalid());
    };
    let e: Epoch = e.parse().map_err(|_| invalid())?;
    if e != epoch {
        return Err(ApiError::new(
            ErrorCode::ResyncRequired,
            "the database was restored since this cursor was issued: push your outbox, \
             then pull without a cursor and replace local records",
        ));
    }
    let xid: i64 = xid.parse().map_err(|_| invalid())?;
    let seq: i64 = seq.parse().map_err(|_| invalid())?;
    if xid < 0 || seq < 0 {
        return Err(invalid());
    }
    Ok(Position { xid, seq })
}

/// The answer to a cursor this server did not issue: damaged, cut short, or made up.
pub(super) fn cursor_not_issued() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidCursor,
        "the cursor is not one this server issued; pull without a cursor to start over",
    )
}
