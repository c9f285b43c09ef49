//! A small CSV writer (RFC 4180) for report rows: a header row, then one line per row, every
//! line ended by CRLF. A field is quoted when it holds a comma, quote or line end. A field a
//! spreadsheet would run as a formula (starting `=`, `+`, `-` or `@`) and that is not a
//! number gets a leading `'`: names come from the field and must not run in an
//! administrator's spreadsheet.

use crate::api::admin_reports::CsvRow;

/// `rows` as CSV text.
pub fn write<R: CsvRow>(rows: &[R]) -> String {
    let mut out = String::new();
    line(&mut out, R::header().iter().map(|h| (*h).to_owned()));
    for r in rows {
        line(&mut out, r.fields().into_iter());
    }
    out
}

fn line(out: &mut String, fields: impl Iterator<Item = String>) {
    for (i, f) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(out, &f);
    }
    out.push_str("\r\n");
}

fn field(out: &mut String, f: &str) {
    let formula = f.starts_with(['=', '+', '-', '@']) && f.parse::<f64>().is_err();
    let f = if formula {
        format!("'{f}")
    } else {
        f.to_owned()
    };
    if f.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&f.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Row(&'static str, &'static str);
    impl CsvRow for Row {
        fn header() -> &'static [&'static str] {
            &["a", "b"]
        }
        fn fields(&self) -> Vec<String> {
            vec![self.0.into(), self.1.into()]
        }
    }

    #[test]
    fn quotes_what_needs_it_and_defuses_formulas() {
        let text = write(&[Row("Kec. \"Giri\", Utara", "=1+1"), Row("-3.5", "")]);
        assert_eq!(
            text,
            "a,b\r\n\"Kec. \"\"Giri\"\", Utara\",'=1+1\r\n-3.5,\r\n"
        );
    }
}
