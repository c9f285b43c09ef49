//! The log of every server this test process runs, kept in memory so that a test can search
//! it: everything at debug level, in the server's text format (with the request spans).
//!
//! One global subscriber per process: once a test calls [`capture`], every later log line
//! of every test goes to the buffer (and to standard error with `TEST_LOG`).

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

/// The captured log, from the first [`capture`] on.
#[derive(Clone)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

struct Writer(Arc<Mutex<Vec<u8>>>, bool);

impl Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        if self.1 {
            std::io::stderr().write_all(buf)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Starts capturing (once per process). Panics when another subscriber was installed
/// first: then nothing can be captured.
pub fn capture() -> LogCapture {
    let buffer = BUFFER.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        let echo = std::env::var("TEST_LOG").is_ok();
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
            .with_ansi(false)
            .with_writer(move || Writer(sink.clone(), echo))
            .try_init()
            .unwrap_or_else(|e| {
                panic!("cannot capture the log: another subscriber is installed ({e})")
            });
        buffer
    });
    LogCapture(buffer.clone())
}
