//! A small CSV reader (RFC 4180): fields separated by commas, records by line ends (`\n`,
//! `\r\n`), a field in double quotes may hold commas, quotes (doubled) and line ends. Each
//! record keeps the line it starts on, so that a refusal can name it; a record that cannot
//! be read is reported and the reading goes on at the next line. Blank lines are skipped:
//! spreadsheets leave them at the end of a file.

use std::iter::Peekable;
use std::str::Chars;

/// A record and the line it starts on (from 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// Line.
    pub line: usize,
    /// Its fields, unquoted.
    pub fields: Vec<String>,
}

/// A record that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable {
    /// The line it starts on.
    pub line: usize,
    /// Why, for people.
    pub reason: String,
}

/// The records of `text` (a leading byte order mark, as Excel writes one, is ignored).
pub fn rows(text: &str) -> Vec<Result<Row, Unreadable>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut chars = text.chars().peekable();
    let mut line = 1;
    let mut out = Vec::new();
    while chars.peek().is_some() {
        let start = line;
        match record(&mut chars, &mut line) {
            Ok(None) => {}
            Ok(Some(fields)) => out.push(Ok(Row {
                line: start,
                fields,
            })),
            Err(reason) => out.push(Err(Unreadable {
                line: start,
                reason: reason.into(),
            })),
        }
    }
    out
}

/// One record, `None` for a blank line; on an error the rest of the line is skipped.
fn record(
    chars: &mut Peekable<Chars<'_>>,
    line: &mut usize,
) -> Result<Option<Vec<String>>, &'static str> {
    let mut fields = Vec::new();
    let mut blank = true;
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            blank = false;
            loop {
                match chars.next() {
                    None => return Err("a quoted field is not closed: a closing \" is missing"),
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => {
                        if c == '\n' {
                            *line += 1;
                        }
                        field.push(c);
                    }
                }
            }
            if !matches!(chars.peek(), None | Some(',' | '\n' | '\r')) {
                skip_line(chars, line);
                return Err("text after a closing quote: quote the whole field");
            }
        } else {
            while let Some(&c) = chars.peek() {
                match c {
                    ',' | '\n' | '\r' => break,
                    '"' => {
                        skip_line(chars, line);
                        return Err(
                            "a quote inside a field: quote the whole field and double the quote",
                        );
                    }
                    _ => {
                        blank = false;
                        field.push(c);
                        chars.next();
                    }
                }
            }
        }
        fields.push(field);
        match chars.next() {
            Some(',') => blank = false,
            Some('\r') => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                *line += 1;
                return Ok((!blank).then_some(fields));
            }
            Some('\n') => {
                *line += 1;
                return Ok((!blank).then_some(fields));
            }
            _ => return Ok((!blank).then_some(fields)),
        }
    }
}

fn skip_line(chars: &mut Peekable<Chars<'_>>, line: &mut usize) {
    for c in chars.by_ref() {
        if c == '\n' {
            *line += 1;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: usize, fields: &[&str]) -> Result<Row, Unreadable> {
        Ok(Row {
            line,
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
        })
    }

    #[test]
    fn quoted_fields_hold_commas_quotes_and_line_ends_and_keep_their_first_line() {
        let text = "\u{feff}a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\n\"two\nlines\",z\nlast,";
        assert_eq!(
            rows(text),
            vec![
                ok(1, &["a", "b"]),
                ok(2, &["x, y", "say \"hi\""]),
                ok(4, &["two\nlines", "z"]),
                ok(6, &["last", ""]),
            ]
        );
    }

    #[test]
    fn a_bad_record_is_reported_on_its_line_and_the_next_line_is_read() {
        let got = rows("a,b\nx\"y,z\n\"q\"r,s\nok,1\n\"open,2\n");
        let lines: Vec<(usize, bool)> = got
            .iter()
            .map(|r| match r {
                Ok(row) => (row.line, true),
                Err(e) => (e.line, false),
            })
            .collect();
        assert_eq!(
            lines,
            [(1, true), (2, false), (3, false), (4, true), (5, false)]
        );
        assert_eq!(got[3], ok(4, &["ok", "1"]));
    }
}
