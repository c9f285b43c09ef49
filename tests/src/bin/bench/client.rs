//! The devices' side: HTTP calls, signing officers in, pushing prepared batches, pulling
//! page after page (optionally gzip-compressed, decoded here with flate2 so that the bytes
//! on the wire are known).

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::server::Server;
use crate::stats::Progress;

/// The password every benchmark officer gets.
pub const OFFICER_PASSWORD: &str = "bench-password-1";

/// An HTTP client for one device: its own connection, kept alive.
pub fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

/// A JSON call for setup (admin API, sign-in): status and parsed body.
pub fn call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> anyhow::Result<(u16, Value)> {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let resp = if method == "GET" {
        let mut r = agent.get(url);
        if let Some(b) = &bearer {
            r = r.header("Authorization", b);
        }
        r.call()
    } else {
        let mut r = agent.post(url);
        if let Some(b) = &bearer {
            r = r.header("Authorization", b);
        }
        r.send_json(body.cloned().unwrap_or(Value::Null))
    };
    let mut resp = resp.map_err(|e| anyhow::anyhow!("{method} {url}: {e}"))?;
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_json()
        .unwrap_or(Value::Null);
    Ok((status, body))
}

/// Signs `user` in on a new device: the access token and the device id.
pub fn login(
    agent: &ureq::Agent,
    base: &str,
    user: &str,
    password: &str,
) -> anyhow::Result<(String, Uuid)> {
    let device = Uuid::now_v7();
    let (st, body) = call(
        agent,
        "POST",
        &format!("{base}/v1/auth/login"),
        None,
        Some(&json!({"username": user, "password": password, "device_id": device})),
    )?;
    anyhow::ensure!(st == 200, "sign-in of {user}: {st} {body}");
    let token = body["access_token"].as_str().unwrap_or_default().to_owned();
    Ok((token, device))
}

/// An officer signed in on its own device.
#[derive(Clone, Debug)]
pub struct Officer {
    /// Sign-in name.
    pub user: String,
    /// Access token.
    pub token: String,
    /// The device (installation id).
    pub device: Uuid,
}

/// Creates an agency and `n` officers through the admin API and signs each in on its own
/// device, with `threads` sign-ins at a time (each costs the server two Argon2 hashes).
pub fn sign_in_officers(server: &Server, n: usize, threads: usize) -> anyhow::Result<Vec<Officer>> {
    let base = &server.base;
    let a = agent(Duration::from_secs(120));
    let (admin_token, _) = login(&a, base, "admin", &server.admin_password)?;
    let (st, agency) = call(
        &a,
        "POST",
        &format!("{base}/v1/admin/agencies"),
        Some(&admin_token),
        Some(&json!({"name": "Dinas Sosial", "kind": "opd"})),
    )?;
    anyhow::ensure!(st == 201 || st == 200, "agency: {st} {agency}");
    let agency = agency["id"].as_str().unwrap_or_default().to_owned();
    let next = AtomicUsize::new(0);
    let progress = Progress::start(format!("sign in {n} officers"), Some(n as u64), "officers");
    let signed: anyhow::Result<Vec<(usize, Officer)>> = std::thread::scope(|sc| {
        let workers: Vec<_> =
            (0..threads.clamp(1, n.max(1)))
                .map(|_| {
                    sc.spawn(|| -> anyhow::Result<Vec<(usize, Officer)>> {
                    let a = agent(Duration::from_secs(120));
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            return Ok(mine);
                        }
                        let user = format!("officer-{i:04}");
                        // Regency scope: the workloads share households among devices and
                        // push visits of households nobody registered, which an officer's
                        // scope refuses. The scope's own cost is not measured here yet.
                        let (st, body) = call(
                            &a,
                            "POST",
                            &format!("{base}/v1/admin/users"),
                            Some(&admin_token),
                            Some(&json!({"username": user, "display_name": user, "role": "regency_admin",
                                         "agency_id": agency, "password": OFFICER_PASSWORD})),
                        )?;
                        anyhow::ensure!(st == 201, "create {user}: {st} {body}");
                        let (token, device) = login(&a, base, &user, OFFICER_PASSWORD)?;
                        mine.push((
                            i,
                            Officer {
                                user,
                                token,
                                device,
                            },
                        ));
                        progress.add(1);
                    }
                })
                })
                .collect();
        let mut all = Vec::new();
        for w in workers {
            all.extend(w.join().unwrap()?);
        }
        Ok(all)
    });
    drop(progress);
    let mut signed = signed?;
    signed.sort_by_key(|(i, _)| *i);
    Ok(signed.into_iter().map(|(_, o)| o).collect())
}

/// An answer's status, its body (decoded), and how many bytes its body took on the wire.
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// The body, decompressed.
    pub body: Vec<u8>,
    /// Body bytes as received (compressed if it was).
    pub wire_bytes: usize,
}

fn read_reply(
    resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> anyhow::Result<Reply> {
    let mut resp = resp.map_err(|e| anyhow::anyhow!("{e}"))?;
    let status = resp.status().as_u16();
    let gzip = resp
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    let raw = resp
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_vec()
        .map_err(|e| anyhow::anyhow!("reading the answer: {e}"))?;
    let wire_bytes = raw.len();
    let body = if gzip {
        let mut out = Vec::with_capacity(raw.len() * 8);
        flate2::read::GzDecoder::new(raw.as_slice()).read_to_end(&mut out)?;
        out
    } else {
        raw
    };
    Ok(Reply {
        status,
        body,
        wire_bytes,
    })
}

/// Posts a prepared JSON body.
pub fn post_raw(agent: &ureq::Agent, url: &str, token: &str, body: &str) -> anyhow::Result<Reply> {
    read_reply(
        agent
            .post(url)
            .header("Authorization", format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .send(body),
    )
}

/// A GET, asking for gzip when `gzip` is set.
pub fn get_raw(agent: &ureq::Agent, url: &str, token: &str, gzip: bool) -> anyhow::Result<Reply> {
    let mut r = agent
        .get(url)
        .header("Authorization", format!("Bearer {token}"));
    if gzip {
        r = r.header("Accept-Encoding", "gzip");
    }
    read_reply(r.call())
}

#[derive(Deserialize)]
struct PushAnswer {
    acked_seq: u64,
    results: Vec<OpAnswer>,
}

#[derive(Deserialize)]
struct OpAnswer {
    seq: u64,
    status: String,
    #[serde(default)]
    record: Option<IgnoredAny>,
}

/// One push answered: how long it took and how many bytes the answer had.
pub struct Pushed {
    /// Milliseconds from sending to the last byte of the answer.
    pub ms: f64,
    /// Answer body bytes (not compressed: pushes here do not ask for gzip).
    pub bytes: usize,
}

/// Sends one prepared push of the operations `first_seq..=last_seq` and checks that every
/// one was `applied`, with the record in its result exactly when `records_expected`.
pub fn push(
    agent: &ureq::Agent,
    base: &str,
    token: &str,
    body: &str,
    (first_seq, last_seq): (u64, u64),
    records_expected: bool,
) -> anyhow::Result<Pushed> {
    let t = Instant::now();
    let reply = post_raw(agent, &format!("{base}/v1/sync/push"), token, body)?;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    anyhow::ensure!(
        reply.status == 200,
        "push: {} {}",
        reply.status,
        String::from_utf8_lossy(&reply.body)
    );
    let answer: PushAnswer = serde_json::from_slice(&reply.body)?;
    anyhow::ensure!(
        answer.acked_seq == last_seq,
        "push acked {} instead of {last_seq}",
        answer.acked_seq
    );
    anyhow::ensure!(
        answer.results.len() as u64 == last_seq + 1 - first_seq,
        "push answered {} results for {} operations",
        answer.results.len(),
        last_seq + 1 - first_seq
    );
    for r in &answer.results {
        anyhow::ensure!(r.status == "applied", "seq {} was {}", r.seq, r.status);
        anyhow::ensure!(
            r.record.is_some() == records_expected,
            "seq {}: record {} in the result",
            r.seq,
            if records_expected {
                "missing"
            } else {
                "present"
            }
        );
    }
    Ok(Pushed {
        ms,
        bytes: reply.body.len(),
    })
}

#[derive(Deserialize)]
struct Page {
    changes: Vec<IgnoredAny>,
    cursor: String,
    has_more: bool,
}

/// What a pull (all pages until `has_more` is false) carried.
#[derive(Clone, Copy, Debug, Default)]
pub struct Pulled {
    /// Records received.
    pub records: usize,
    /// Pages.
    pub pages: usize,
    /// Body bytes on the wire (compressed when gzip was asked for).
    pub wire_bytes: usize,
    /// Body bytes once decoded.
    pub json_bytes: usize,
}

/// Pulls from `cursor` (none: from the beginning) until the device is up to date. Returns
/// what came and the newest cursor.
pub fn pull(
    agent: &ureq::Agent,
    base: &str,
    token: &str,
    mut cursor: Option<String>,
    gzip: bool,
    progress: Option<&Progress>,
) -> anyhow::Result<(Pulled, String)> {
    let mut got = Pulled::default();
    loop {
        let q = cursor
            .as_ref()
            .map(|c| format!("?cursor={c}"))
            .unwrap_or_default();
        let reply = get_raw(agent, &format!("{base}/v1/sync/pull{q}"), token, gzip)?;
        anyhow::ensure!(
            reply.status == 200,
            "pull: {} {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
        let page: Page = serde_json::from_slice(&reply.body)?;
        got.records += page.changes.len();
        got.pages += 1;
        got.wire_bytes += reply.wire_bytes;
        got.json_bytes += reply.body.len();
        if let Some(p) = progress {
            p.add(page.changes.len() as u64);
        }
        cursor = Some(page.cursor);
        if !page.has_more {
            return Ok((got, cursor.unwrap_or_default()));
        }
    }
}
