//! Slow clients: a request that does not arrive within the configured time is cut off, and
//! other clients are served meanwhile.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use kampung_sync_tests::*;

/// What the server did with a trickling connection: `Some(answer)` once it answered or
/// closed the connection, `None` if it still held it when the test gave up.
fn trickle(s: &TestServer, head: &str, byte_every: Duration, give_up: Duration) -> Option<String> {
    let addr = s.base.trim_start_matches("http://");
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(byte_every)).unwrap();
    conn.write_all(head.as_bytes()).unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    while started.elapsed() < give_up {
        let mut buf = [0u8; 4096];
        match conn.read(&mut buf) {
            Ok(0) => return Some(String::from_utf8_lossy(&answer).into_owned()),
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if !answer.is_empty() {
                    return Some(String::from_utf8_lossy(&answer).into_owned());
                }
                // The server may have closed its side already: a failed write says so.
                if conn.write_all(b"{").is_err() {
                    return Some(String::new());
                }
            }
            Err(_) => return Some(String::from_utf8_lossy(&answer).into_owned()),
        }
    }
    None
}

#[test]
fn a_body_trickled_one_byte_at_a_time_is_cut_off_at_the_body_timeout_while_health_answers() {
    let db = TestDb::new(Backend::Sqlite);
    let s = TestServer::start_with(&db, |a| a.body_timeout_secs = 2);
    let head = "POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                Content-Length: 10000\r\n\r\n";
    let started = Instant::now();
    std::thread::scope(|sc| {
        let cut = sc.spawn(|| {
            trickle(
                &s,
                head,
                Duration::from_millis(200),
                Duration::from_secs(10),
            )
        });
        // Served meanwhile.
        std::thread::sleep(Duration::from_millis(500));
        let (status, body) = s.get("/healthz", None);
        assert_eq!(status, 200, "{body}");
        let answer = cut
            .join()
            .unwrap()
            .expect("the trickling connection is cut off, not held");
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(5),
            "cut off after {took:?}; the body timeout is 2 s"
        );
        assert!(
            answer.is_empty()
                || (answer.starts_with("HTTP/1.1 408") && answer.contains("request_timeout")),
            "{answer}"
        );
    });
}

#[test]
fn headers_trickled_one_byte_at_a_time_are_cut_off_at_the_header_timeout() {
    let db = TestDb::new(Backend::Sqlite);
    let s = TestServer::start_with(&db, |a| a.header_timeout_secs = 1);
    let addr = s.base.trim_start_matches("http://").to_owned();
    let started = Instant::now();
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    conn.write_all(b"GET /healthz HTTP/1.1\r\n").unwrap();
    let mut answer = Vec::new();
    let closed = loop {
        if started.elapsed() > Duration::from_secs(10) {
            break false;
        }
        let mut buf = [0u8; 1024];
        match conn.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if conn.write_all(b"X").is_err() {
                    break true;
                }
            }
            Err(_) => break true,
        }
    };
    let took = started.elapsed();
    assert!(closed, "the connection is still open after {took:?}");
    assert!(
        took < Duration::from_secs(3),
        "cut off after {took:?}; the header timeout is 1 s"
    );
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_keep_alive_time() {
    let db = TestDb::new(Backend::Sqlite);
    let s = TestServer::start_with(&db, |a| a.keep_alive_secs = 1);
    let addr = s.base.trim_start_matches("http://").to_owned();
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = conn.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let started = Instant::now();
    // Idle from now on: the server closes it.
    loop {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(4),
        "an idle connection was kept {took:?}; keep-alive is 1 s"
    );
}
