//! CSV exports, streamed: any list (and any report that follows the same `format=csv`
//! convention) is written as one header row and then its rows, read a page at a time, so
//! that memory stays constant whatever the size.
//!
//! A blocking task reads a page of [`PAGE_ROWS`] rows in its own short read transaction,
//! with a connection taken from the pool for that page only, writes it as CSV and hands the
//! bytes to the response through a channel of a few pages: a slow client holds no
//! connection and no transaction, and the reader waits while the channel is full. Each page
//! is consistent in itself; a row written during the export shows with its new values, and
//! one whose sort key moves past the read position in the meantime may be missed or listed
//! twice. A database that is not written to meanwhile exports exactly the list's rows.
//! An error after the first bytes can no longer change the status: the stream is cut, so
//! that the client sees an incomplete body rather than a short file that looks whole.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::HttpResponse;
use actix_web::web::Bytes;
use tokio::sync::mpsc;

use crate::db::{AnyConnection, Pool};
use crate::error::ApiError;
use crate::service::listing::{List, Query};

/// Rows read per page of an export.
pub const PAGE_ROWS: i64 = 1000;

/// Pages written ahead of a slow client.
const PAGES_AHEAD: usize = 4;

/// A row of an export.
pub trait CsvRecord {
    /// The header row.
    fn header() -> Vec<&'static str>;
    /// This row's cells, in the header's order.
    fn cells(&self) -> Vec<Cell>;
}

/// One cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// Empty.
    Null,
    /// Text (from people or devices: guarded against spreadsheet formulas).
    Text(String),
    /// A number or a boolean, written as is.
    Plain(String),
}

impl Cell {
    /// An optional text.
    pub fn text(v: &Option<String>) -> Cell {
        v.as_ref().map_or(Cell::Null, |s| Cell::Text(s.clone()))
    }
    /// An optional number or boolean.
    pub fn plain<T: ToString>(v: Option<T>) -> Cell {
        v.map_or(Cell::Null, |x| Cell::Plain(x.to_string()))
    }
}

/// Appends one CSV line (RFC 4180, `\r\n`) to `out`. A text cell that a spreadsheet would
/// run as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a
/// leading `'`: names typed on a phone end up in Excel here.
pub fn write_line(out: &mut Vec<u8>, cells: &[Cell]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let text: std::borrow::Cow<'_, str> = match cell {
            Cell::Null => continue,
            Cell::Plain(s) => s.into(),
            Cell::Text(s) if s.starts_with(['=', '+', '-', '@', '\t', '\r']) => {
                format!("'{s}").into()
            }
            Cell::Text(s) => s.into(),
        };
        if text.contains([',', '"', '\r', '\n']) {
            out.push(b'"');
            out.extend_from_slice(text.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(text.as_bytes());
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// The header line of `names`.
pub fn header_line(names: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    let cells: Vec<Cell> = names.iter().map(|h| Cell::Plain((*h).to_owned())).collect();
    write_line(&mut out, &cells);
    out
}

/// A `200 text/csv` answer whose body `next` writes, chunk by chunk, each with a pooled
/// connection of its own, until it answers `None`. `filename` is offered for saving.
pub fn stream<F>(pool: Pool, filename: &str, first: Vec<u8>, mut next: F) -> HttpResponse
where
    F: FnMut(&mut AnyConnection) -> Result<Option<Vec<u8>>, ApiError> + Send + 'static,
{
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(PAGES_AHEAD);
    actix_web::rt::task::spawn_blocking(move || {
        if tx.blocking_send(Ok(Bytes::from(first))).is_err() {
            return;
        }
        loop {
            let chunk = pool
                .get()
                .map_err(|e| ApiError::from(crate::db::DbError::Pool(e)))
                .and_then(|mut conn| next(&mut conn));
            let sent = match chunk {
                Ok(Some(bytes)) => tx.blocking_send(Ok(Bytes::from(bytes))),
                Ok(None) => return,
                Err(e) => {
                    tracing::error!(error = %e, "a CSV export stopped");
                    let _ = tx.blocking_send(Err(std::io::Error::other("export stopped")));
                    return;
                }
            };
            // The client went away: stop reading.
            if sent.is_err() {
                return;
            }
        }
    });
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .streaming(Chunks(rx))
}

/// Every row of `query` as a streamed CSV answer.
pub fn stream_list<L: List>(pool: Pool, filename: &str, mut query: Query<L>) -> HttpResponse {
    let mut done = false;
    let header = header_line(&query.list.header());
    stream(pool, filename, header, move |conn| {
        if done {
            return Ok(None);
        }
        let items = query.next_page(conn)?;
        done = !query.has_more();
        let mut out = Vec::with_capacity(items.len() * 160);
        for item in &items {
            write_line(&mut out, &item.cells());
        }
        Ok(Some(out))
    })
}

struct Chunks(mpsc::Receiver<Result<Bytes, std::io::Error>>);

impl futures_core::Stream for Chunks {
    type Item = Result<Bytes, std::io::Error>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        let mut out = Vec::new();
        write_line(
            &mut out,
            &[
                Cell::Text("a,b".into()),
                Cell::Null,
                Cell::Text("say \"hi\"".into()),
                Cell::Text("=HYPERLINK(1)".into()),
                Cell::Plain("-5".into()),
            ],
        );
        assert_eq!(
            String::from_utf8(out).ok().as_deref(),
            Some("\"a,b\",,\"say \"\"hi\"\"\",'=HYPERLINK(1),-5\r\n")
        );
    }
}
