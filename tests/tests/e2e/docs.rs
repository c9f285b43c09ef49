//! The HTTP exchanges of docs/sync-protocol.md, section 7, are real: each documented request
//! is sent as written to a real server, and its answer must be the documented one, once the
//! values that differ from run to run (ids, tokens, epochs, cursors) are swapped for this
//! run's, after checking their form.

use std::io::Write;

use diesel::connection::SimpleConnection;
use kampung_sync::auth::{Keys, Role};
use kampung_sync::db::AnyConnection;
use kampung_sync_tests::doc_blocks::{self, Block};
use kampung_sync_tests::*;
use serde_json::{Value, json};
use sync_protocol::DeviceId;
use uuid::Uuid;

kampung_sync_tests::on_both_backends!(
    the_sync_session_of_7_9_runs_as_documented,
    the_refusals_and_the_empty_push_of_7_1_to_7_4_are_as_documented,
);

const DOC: &str = include_str!("../../../docs/sync-protocol.md");

/// One documented HTTP message, or a JSON body shown on its own.
#[derive(Clone, Debug)]
struct Message {
    /// Line of its first block in the document.
    line: usize,
    /// `POST /v1/sync/push HTTP/1.1`, `HTTP/1.1 200 OK`, or empty for a body alone.
    start: String,
    headers: Vec<(String, String)>,
    body: Option<Value>,
}

impl Message {
    fn request(&self) -> (&str, &str) {
        let mut parts = self.start.split(' ');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(method), Some(target), Some("HTTP/1.1")) => (method, target),
            _ => panic!("line {}: not a request: {}", self.line, self.start),
        }
    }

    /// (status, reason) of a documented response.
    fn status(&self) -> (u16, &str) {
        let rest = self
            .start
            .strip_prefix("HTTP/1.1 ")
            .unwrap_or_else(|| panic!("line {}: not a response: {}", self.line, self.start));
        let (code, reason) = rest.split_once(' ').unwrap();
        (code.parse().unwrap(), reason)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn body(&self) -> &Value {
        self.body
            .as_ref()
            .unwrap_or_else(|| panic!("line {}: no body", self.line))
    }
}

/// A block with a `<placeholder>` is a template, not output (the document says so).
fn is_template(b: &Block) -> bool {
    b.text.split('<').skip(1).any(|rest| {
        rest.split_once('>').is_some_and(|(name, _)| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == ' ')
        })
    })
}

/// The messages of section 7, templates left out. A JSON block right after a message
/// without a body is that message's body.
fn section_7() -> Vec<(Block, Message)> {
    let mut out: Vec<(Block, Message)> = Vec::new();
    let blocks = doc_blocks::blocks(DOC)
        .into_iter()
        .filter(|b| b.section.starts_with("7. ") && !is_template(b));
    for b in blocks {
        if b.lang == "json" {
            let body: Value = serde_json::from_str(&b.text)
                .unwrap_or_else(|e| panic!("line {}: not JSON: {e}", b.line));
            if let Some((_, m)) = out
                .last_mut()
                .filter(|(_, m)| m.body.is_none() && !m.start.is_empty())
            {
                m.body = Some(body);
            } else {
                let m = Message {
                    line: b.line,
                    start: String::new(),
                    headers: Vec::new(),
                    body: Some(body),
                };
                out.push((b, m));
            }
            continue;
        }
        assert_eq!(b.lang, "", "line {}: unexpected block type", b.line);
        let (head, body) = b.text.split_once("\n\n").unwrap_or((&b.text, ""));
        let mut lines = head.lines();
        let start = lines.next().unwrap_or_default().trim().to_owned();
        let headers = lines
            .map(|l| {
                let (k, v) = l
                    .split_once(':')
                    .unwrap_or_else(|| panic!("line {}: not a header: {l}", b.line));
                (k.trim().to_owned(), v.trim().to_owned())
            })
            .collect();
        let body = (!body.trim().is_empty()).then(|| {
            serde_json::from_str(body.trim())
                .unwrap_or_else(|e| panic!("line {}: body is not JSON: {e}", b.line))
        });
        let m = Message {
            line: b.line,
            start,
            headers,
            body,
        };
        out.push((b, m));
    }
    out
}

/// The documented answer refused with `code`; there must be exactly one.
fn refusal(code: &str) -> Message {
    let found: Vec<Message> = section_7()
        .into_iter()
        .map(|(_, m)| m)
        .filter(|m| m.body.as_ref().is_some_and(|b| b["error"]["code"] == code))
        .collect();
    assert_eq!(found.len(), 1, "one documented `{code}` answer: {found:?}");
    found.into_iter().next().unwrap()
}

/// The bodies shown on their own in the subsection starting with `subsection`.
fn bare_bodies(subsection: &str) -> Vec<Message> {
    section_7()
        .into_iter()
        .filter(|(b, m)| b.subsection.starts_with(subsection) && m.start.is_empty())
        .map(|(_, m)| m)
        .collect()
}

/// The messages of 7.9, in order.
fn session() -> Vec<Message> {
    section_7()
        .into_iter()
        .filter(|(b, _)| b.subsection.starts_with("7.9 "))
        .map(|(_, m)| m)
        .collect()
}

/// Every section 7 block that is not a template is one the tests here check.
#[test]
fn every_exchange_of_section_7_is_checked_here_or_is_a_template() {
    let all = doc_blocks::blocks(DOC);
    let templates: Vec<&Block> = all
        .iter()
        .filter(|b| b.section.starts_with("7. ") && is_template(b))
        .collect();
    assert!(
        templates
            .iter()
            .all(|b| b.text.contains("HTTP/1.1") || b.text.starts_with("Authorization: Bearer <")),
        "templates are the request forms: {templates:?}"
    );
    let mut checked: Vec<usize> = Vec::new();
    for code in [
        "token_expired",
        "device_mismatch",
        "invalid_seq",
        "database_unavailable",
        "resync_required",
    ] {
        checked.push(refusal(code).line);
    }
    let empty_push = bare_bodies("7.2 ");
    assert_eq!(
        empty_push.len(),
        1,
        "7.2 shows one bare body: the empty push"
    );
    let health = bare_bodies("7.7 ");
    assert_eq!(health.len(), 1, "7.7 shows one bare body: /healthz");
    let session = session();
    assert_eq!(session.len(), 10, "7.9: {session:?}");
    checked.extend(
        empty_push
            .iter()
            .chain(&health)
            .chain(&session)
            .map(|m| m.line),
    );
    for (b, m) in section_7() {
        assert!(
            checked.contains(&m.line),
            "docs/sync-protocol.md line {}: an exchange no test here checks; check it, or \
             write it as a template with <placeholders>: {b:?}",
            b.line
        );
    }
}

/// Values that differ between the documented run and this one: the document's value, and
/// this run's.
#[derive(Default)]
struct Vars(Vec<(String, String)>);

impl Vars {
    fn set(&mut self, documented: &str, real: &str) {
        self.0.retain(|(d, _)| d != documented);
        self.0.push((documented.to_owned(), real.to_owned()));
        // Longest first: a cursor contains the epoch.
        self.0.sort_by_key(|(d, _)| std::cmp::Reverse(d.len()));
    }

    fn text(&self, documented: &str) -> String {
        self.0
            .iter()
            .fold(documented.to_owned(), |t, (d, r)| t.replace(d, r))
    }

    fn json(&self, documented: &Value) -> Value {
        serde_json::from_str(&self.text(&documented.to_string())).unwrap()
    }
}

fn is_uuid(v: &Value) -> bool {
    v.as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .is_some_and(|u| v.as_str() == Some(u.hyphenated().to_string().as_str()))
}

/// Checks the form of this run's epoch and records it in place of the documented one.
fn take_epoch(vars: &mut Vars, documented: &Value, real: &Value) {
    assert!(is_uuid(&real["epoch"]), "epoch: {real}");
    vars.set(
        documented["epoch"].as_str().unwrap(),
        real["epoch"].as_str().unwrap(),
    );
}

/// The cursor: on SQLite fully determined once the epoch is (`v1.<epoch>.0.<change seq>`);
/// on PostgreSQL its xid and position are this run's, so only its form is checked.
fn take_cursor(vars: &mut Vars, b: Backend, documented: &Value, real: &Value) {
    let (doc, got) = (
        documented["cursor"].as_str().unwrap(),
        real["cursor"].as_str().unwrap_or_default(),
    );
    if b == Backend::Postgres {
        let epoch = real["epoch"].as_str().unwrap();
        let rest = got
            .strip_prefix(&format!("v1.{epoch}."))
            .unwrap_or_default();
        let parts: Vec<&str> = rest.split('.').collect();
        assert!(
            parts.len() == 2 && parts.iter().all(|p| p.parse::<u64>().is_ok()),
            "cursor form v1.<epoch>.<xid>.<seq>: {got}"
        );
        vars.set(doc, got);
    }
}

/// Sends a documented request, with this run's values in place of the document's.
fn send(s: &TestServer, vars: &Vars, m: &Message, body: Option<Vec<u8>>) -> Reply {
    let (method, target) = m.request();
    let headers: Vec<(String, String)> = m
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), vars.text(v)))
        .collect();
    let body = body.or_else(|| m.body.as_ref().map(|b| vars.text(&b.to_string()).into()));
    s.send(method, &vars.text(target), &headers, body)
}

/// The documented status line and content type.
fn assert_head(documented: &Message, real: &Reply) {
    let (code, reason) = documented.status();
    assert_eq!(
        real.status, code,
        "line {}: {:?}",
        documented.line, real.body
    );
    let canonical = ureq::http::StatusCode::from_u16(code)
        .unwrap()
        .canonical_reason();
    assert_eq!(Some(reason), canonical, "line {}", documented.line);
    assert_eq!(
        real.content_type.as_deref(),
        documented.header("content-type"),
        "line {}",
        documented.line
    );
}

fn assert_body(documented: &Message, vars: &Vars, real: &Value) {
    assert_eq!(
        real,
        &vars.json(documented.body()),
        "docs/sync-protocol.md line {}: the server answers\n{}",
        documented.line,
        serde_json::to_string_pretty(real).unwrap()
    );
}

/// A pull, repeated on PostgreSQL until the answer is the documented one: a pull there may
/// stall behind a transaction the server cannot place (section 7.7), which is allowed; a
/// different answer is not, and is what the final comparison reports.
fn pull_as_documented(
    s: &TestServer,
    b: Backend,
    vars: &mut Vars,
    request: &Message,
    documented: &Message,
) -> Reply {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let reply = send(s, vars, request, None);
        take_epoch(vars, documented.body(), &reply.body);
        take_cursor(vars, b, documented.body(), &reply.body);
        if b == Backend::Sqlite
            || reply.body == vars.json(documented.body())
            || std::time::Instant::now() > deadline
        {
            return reply;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn the_sync_session_of_7_9_runs_as_documented(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let m = session();
    let [
        login,
        login_answer,
        push,
        push_answer,
        page1,
        page1_answer,
        page2,
        page2_answer,
        empty,
        next,
    ] = &m[..]
    else {
        panic!("7.9 has ten messages: {m:?}")
    };
    let sign_in = login.body();
    let officer = &login_answer.body()["user"];
    let user = s.add_user(
        sign_in["username"].as_str().unwrap(),
        officer["display_name"].as_str().unwrap(),
        Role::Officer,
        sign_in["password"].as_str().unwrap(),
    );
    let mut vars = Vars::default();
    vars.set(officer["id"].as_str().unwrap(), &user);
    vars.set(officer["agency_id"].as_str().unwrap(), AGENCY);

    // Sign in.
    let reply = send(&s, &vars, login, None);
    assert_head(login_answer, &reply);
    let (doc, got) = (login_answer.body(), &reply.body);
    let token = got["access_token"].as_str().unwrap_or_default();
    let doc_token = doc["access_token"].as_str().unwrap();
    assert_eq!(
        token.split('.').next(),
        doc_token.split('.').next(),
        "the same JWT header (HS256): {got}"
    );
    assert_eq!(token.split('.').count(), 3, "a JWT: {got}");
    let refresh = got["refresh_token"].as_str().unwrap_or_default();
    assert!(
        refresh.split_once('.').is_some_and(|(id, secret)| {
            is_uuid(&json!(id))
                && secret.len() == 64
                && secret.bytes().all(|c| c.is_ascii_hexdigit())
        }),
        "refresh credential form <uuid>.<64 hex digits>: {got}"
    );
    vars.set(doc_token, token);
    vars.set(doc["refresh_token"].as_str().unwrap(), refresh);
    assert_body(login_answer, &vars, got);

    // "The token's claims are `{...}`": the same, but for the time it was issued.
    let claims_text = DOC
        .split_once("The token's claims are\n`")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(claims, _)| claims)
        .expect("7.9 shows the token's claims");
    let documented: Value = serde_json::from_str(&vars.text(claims_text)).unwrap();
    let claims = Keys::from_secret(SECRET.as_bytes()).verify(token).unwrap();
    assert_eq!(
        (
            json!(claims.sub),
            json!(claims.dev),
            claims.exp - claims.iat
        ),
        (
            documented["sub"].clone(),
            documented["dev"].clone(),
            documented["exp"].as_i64().unwrap() - documented["iat"].as_i64().unwrap()
        )
    );

    // 1. Push the outbox.
    let reply = send(&s, &vars, push, None);
    assert_head(push_answer, &reply);
    take_epoch(&mut vars, push_answer.body(), &reply.body);
    assert_body(push_answer, &vars, &reply.body);

    // 3., 4. Two pages of one record each.
    let reply = pull_as_documented(&s, b, &mut vars, page1, page1_answer);
    assert_head(page1_answer, &reply);
    assert_body(page1_answer, &vars, &reply.body);
    let reply = pull_as_documented(&s, b, &mut vars, page2, page2_answer);
    assert_head(page2_answer, &reply);
    assert_body(page2_answer, &vars, &reply.body);

    // Nothing changed since: an empty page with the same cursor (PostgreSQL may move it).
    let cursor = reply.body["cursor"].as_str().unwrap().to_owned();
    let again = Message {
        line: empty.line,
        start: format!("GET /v1/sync/pull?cursor={cursor} HTTP/1.1"),
        headers: page2.headers.clone(),
        body: None,
    };
    let reply = pull_as_documented(&s, b, &mut vars, &again, empty);
    assert_body(empty, &vars, &reply.body);

    // The next sync: the aid put (seq 3) and its void (seq 4) in one gzip push, as the
    // text tells; the record is the one the documented pull brings.
    let aid = &next.body()["changes"][0];
    let fields: serde_json::Map<String, Value> = aid["fields"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let device = login.body()["device_id"].as_str().unwrap();
    let ops = json!({"device_id": device, "ops": [
        {"seq": 3, "collection": "aid", "record_id": aid["id"], "kind": "put", "ctx": {},
         "hlc": {"wall_ms": now_ms()}, "fields": fields},
        {"seq": 4, "collection": "aid", "record_id": aid["id"], "kind": "delete",
         "ctx": {"vv": {device: 3}}, "hlc": {"wall_ms": now_ms()}},
    ]});
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(ops.to_string().as_bytes()).unwrap();
    let gzip_push = Message {
        line: next.line,
        start: "POST /v1/sync/push HTTP/1.1".into(),
        headers: vec![
            ("Authorization".into(), format!("Bearer {token}")),
            ("Content-Type".into(), "application/json".into()),
            ("Content-Encoding".into(), "gzip".into()),
        ],
        body: None,
    };
    let reply = send(&s, &vars, &gzip_push, Some(gz.finish().unwrap()));
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(
        statuses(&reply.body),
        ["applied", "applied"],
        "{:?}",
        reply.body
    );
    let from_stored = Message {
        line: next.line,
        start: format!(
            "GET /v1/sync/pull?cursor={} HTTP/1.1",
            reply_cursor(&vars, empty)
        ),
        headers: page2.headers.clone(),
        body: None,
    };
    let reply = pull_as_documented(&s, b, &mut vars, &from_stored, next);
    assert_body(next, &vars, &reply.body);
}

/// This run's value of the cursor a documented page shows.
fn reply_cursor(vars: &Vars, page: &Message) -> String {
    vars.text(page.body()["cursor"].as_str().unwrap())
}

/// A push of raw JSON with `token`.
fn push_raw(s: &TestServer, token: &str, body: &Value) -> Reply {
    s.send(
        "POST",
        "/v1/sync/push",
        &[
            ("Authorization".into(), format!("Bearer {token}")),
            ("Content-Type".into(), "application/json".into()),
        ],
        Some(body.to_string().into_bytes()),
    )
}

fn the_refusals_and_the_empty_push_of_7_1_to_7_4_are_as_documented(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let vars = Vars::default();

    // 7.1: an expired token.
    let d = Device::new(&s, "officer");
    let expired = s.expired_token(&d.user_id, d.id);
    let documented = refusal("token_expired");
    let reply = push_raw(&s, &expired, &json!({"device_id": d.id, "ops": []}));
    assert_head(&documented, &reply);
    assert_body(&documented, &vars, &reply.body);

    // 7.1: a device pushing for another; the document's two devices.
    let documented = refusal("device_mismatch");
    let ids: Vec<Uuid> = documented.body()["error"]["message"]
        .as_str()
        .unwrap()
        .split([' ', ';'])
        .filter_map(|w| Uuid::parse_str(w).ok())
        .collect();
    let [signed_in, other] = ids[..] else {
        panic!("device_mismatch names two devices: {documented:?}")
    };
    s.ensure_user("dewi", Role::Officer);
    let (status, login) = s.login("dewi", PASSWORD, DeviceId(signed_in));
    assert_eq!(status, 200, "{login}");
    let token = login["access_token"].as_str().unwrap();
    let reply = push_raw(&s, token, &json!({"device_id": other, "ops": []}));
    assert_head(&documented, &reply);
    assert_body(&documented, &vars, &reply.body);

    // 7.2: after seq 1 and 2, an empty push tells the epoch and acked_seq 2.
    let (r1, r2) = (Uuid::now_v7(), Uuid::now_v7());
    d.push_ok(
        &s,
        vec![
            put_household(1, r1, 0, None, "Siti"),
            put_household(2, r2, 0, None, "Sri"),
        ],
    );
    let [documented] = &bare_bodies("7.2 ")[..] else {
        panic!("7.2 shows the empty push's answer")
    };
    let mut vars = Vars::default();
    let reply = push_raw(&s, &d.token, &json!({"device_id": d.id, "ops": []}));
    assert_eq!(reply.status, 200);
    take_epoch(&mut vars, documented.body(), &reply.body);
    assert_body(documented, &vars, &reply.body);

    // 7.2: ops[1] without a usable seq refuses the whole push; nothing is processed.
    let documented = refusal("invalid_seq");
    let mut unusable = put_household(4, Uuid::now_v7(), 0, None, "Ani");
    unusable["seq"] = json!("4");
    let ops = json!([put_household(3, Uuid::now_v7(), 0, None, "Tini"), unusable]);
    let reply = push_raw(&s, &d.token, &json!({"device_id": d.id, "ops": ops}));
    assert_head(&documented, &reply);
    assert_body(&documented, &vars, &reply.body);
    let after = push_raw(&s, &d.token, &json!({"device_id": d.id, "ops": []}));
    assert_eq!(
        after.body["acked_seq"], 2,
        "nothing processed: {:?}",
        after.body
    );

    // 7.4: a cursor from before an epoch change.
    let documented = refusal("resync_required");
    let (_, page) = d.pull_page(&s, None);
    let old = page["cursor"].as_str().unwrap().to_owned();
    kampung_sync::db::meta::bump_epoch(&mut db.connect()).unwrap();
    let reply = s.send(
        "GET",
        &format!("/v1/sync/pull?cursor={old}"),
        &[("Authorization".into(), format!("Bearer {}", d.token))],
        None,
    );
    assert_head(&documented, &reply);
    assert_body(&documented, &vars, &reply.body);
}

/// 7.7: `/healthz` on PostgreSQL while a session holds a transaction (with an xid) open and
/// a device pushes one record.
#[test]
fn postgres_health_shows_a_held_back_change_as_documented() {
    let Some(b) = Backend::postgres() else { return };
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let d = Device::new(&s, "officer");
    let mut open: AnyConnection = db.connect();
    open.batch_execute("BEGIN; SELECT pg_current_xact_id();")
        .unwrap();
    d.push_ok(&s, vec![put_household(1, Uuid::now_v7(), 0, None, "Siti")]);
    let [documented] = &bare_bodies("7.7 ")[..] else {
        panic!("7.7 shows the /healthz answer")
    };
    let (status, health) = s.get("/healthz", None);
    assert_eq!(status, 200);
    // Counted per process, and this process runs other tests' servers too.
    let waiters = health["write_lock_waiters"].as_i64();
    assert!(waiters.is_some_and(|n| n >= 0), "{health}");
    let mut vars = Vars::default();
    vars.set(
        "\"write_lock_waiters\":0",
        &format!("\"write_lock_waiters\":{}", waiters.unwrap_or(0)),
    );
    assert_body(documented, &vars, &health);
    open.batch_execute("ROLLBACK").unwrap();
}

/// 7.2: the answer when the database stays unavailable (here: PostgreSQL refuses this
/// database's connections, and the pool gives up after its 10-second wait).
#[test]
fn postgres_database_unavailable_is_answered_as_documented() {
    let Some(b) = Backend::postgres() else { return };
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let d = Device::new(&s, "officer");
    let name = db.pg_name().unwrap().to_owned();
    let mut admin = kampung_sync::db::connect(&pg_admin_url().unwrap()).unwrap();
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {name} ALLOW_CONNECTIONS false; \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}';"
        ))
        .unwrap();
    let documented = refusal("database_unavailable");
    let reply = push_raw(&s, &d.token, &json!({"device_id": d.id, "ops": []}));
    admin
        .batch_execute(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true;"))
        .unwrap();
    assert_head(&documented, &reply);
    assert_body(&documented, &Vars::default(), &reply.body);
}
