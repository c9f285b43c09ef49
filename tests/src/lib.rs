//! Test support: real databases (a temporary SQLite file, or a fresh PostgreSQL database per
//! test), the real server over real HTTP on a loopback port, and a small sync client.
#![allow(clippy::unwrap_used)] // test support: a failed setup should stop the test loudly

use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use diesel::{OptionalExtension, RunQueryDsl};
use kampung_sync::api::accounts::NewUserRequest;
use kampung_sync::auth::{Keys, Role};
use kampung_sync::config::ServeArgs;
use kampung_sync::db::{self, AnyConnection, provision};
use kampung_sync::ids::AgencyId;
use kampung_sync::service::accounts;
use kampung_sync::startup::Application;
use serde_json::{Value, json};
use sync_protocol::DeviceId;
use uuid::Uuid;

pub mod client_transport;
pub mod doc_blocks;
pub mod logs;
mod shared;
pub mod sim;
pub use shared::{PG_ENV, WAIT, pg_admin_url, pg_lock_waiters, wait_until};

/// The token secret every test server shares, so that two instances accept each other's
/// tokens.
pub const SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

/// Which backend a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A temporary SQLite file.
    Sqlite,
    /// A fresh PostgreSQL database.
    Postgres,
}

impl Backend {
    /// PostgreSQL when the leg is turned on; `None` (and a note) when it is not; a failed
    /// test in CI when it is not ([`pg_admin_url`]).
    pub fn postgres() -> Option<Backend> {
        pg_admin_url().map(|_| Backend::Postgres)
    }
}

/// A database that exists for one test and is removed after it.
pub struct TestDb {
    /// Its URL.
    pub url: String,
    /// Backend.
    pub backend: Backend,
    dir: PathBuf,
    pg_name: Option<String>,
}

impl TestDb {
    /// A new empty database.
    pub fn new(backend: Backend) -> TestDb {
        let tag = Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir().join(format!("kampung-test-{tag}"));
        std::fs::create_dir_all(&dir).unwrap();
        match backend {
            Backend::Sqlite => TestDb {
                url: format!("sqlite://{}", dir.join("sync.db").display()),
                backend,
                dir,
                pg_name: None,
            },
            Backend::Postgres => {
                let admin = std::env::var(PG_ENV).unwrap();
                let name = format!("kampung_test_{tag}");
                let url = provision::create_database(&admin, &name).unwrap_or_else(|e| {
                    panic!("{PG_ENV} is set but PostgreSQL is unusable: {e:#}")
                });
                TestDb {
                    url,
                    backend,
                    dir,
                    pg_name: Some(name),
                }
            }
        }
    }

    /// A copy of this database as it is now, as a backup would hold it. Stop the servers
    /// on it first (PostgreSQL copies only an idle template).
    pub fn snapshot(&self) -> TestDb {
        let copy = TestDb::new(self.backend);
        match self.backend {
            Backend::Sqlite => {
                let target = copy.dir.join("sync.db");
                let mut c = self.connect();
                diesel::connection::SimpleConnection::batch_execute(
                    &mut c,
                    &format!("VACUUM INTO '{}'", target.display()),
                )
                .unwrap();
            }
            Backend::Postgres => {
                let admin = std::env::var(PG_ENV).unwrap();
                let copy_name = copy.pg_name.clone().unwrap();
                provision::drop_database(&admin, &copy_name).unwrap();
                let mut c = db::connect(&admin).unwrap();
                diesel::connection::SimpleConnection::batch_execute(
                    &mut c,
                    &format!(
                        "CREATE DATABASE {copy_name} TEMPLATE {}",
                        self.pg_name.as_deref().unwrap()
                    ),
                )
                .unwrap();
            }
        }
        copy
    }

    /// The data folder of the servers started on it.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// A direct connection, for holding locks and inspecting rows.
    pub fn connect(&self) -> AnyConnection {
        db::connect(&self.url).unwrap()
    }

    /// A single `BIGINT` value named `n`, read on a fresh connection.
    pub fn scalar(&self, sql: &str) -> i64 {
        scalar(&mut self.connect(), sql)
    }

    /// This PostgreSQL database's name; `None` on SQLite.
    pub fn pg_name(&self) -> Option<&str> {
        self.pg_name.as_deref()
    }

    /// Runs SQL on a fresh connection.
    pub fn execute(&self, sql: &str) {
        let mut c = self.connect();
        diesel::connection::SimpleConnection::batch_execute(&mut c, sql).unwrap();
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let (Some(name), Ok(admin)) = (&self.pg_name, std::env::var(PG_ENV))
            && let Err(e) = provision::drop_database(&admin, name)
        {
            eprintln!("could not drop test database {name}: {e:#}");
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A single `BIGINT` value named `n` read on `conn` (inside its transaction, if any).
pub fn scalar(conn: &mut AnyConnection, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Num {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(sql).get_result::<Num>(conn).unwrap().n
}

/// The password of every user the harness creates.
pub const PASSWORD: &str = "kata-sandi-uji-123";

/// The agency the harness puts officers in.
pub const AGENCY: &str = "0193a000-0000-7000-8000-00000000a9e1";

/// A running server instance on a loopback port.
pub struct TestServer {
    /// `http://127.0.0.1:port`.
    pub base: String,
    /// The database URL it serves.
    pub db_url: String,
    handle: actix_web::dev::ServerHandle,
    thread: Option<JoinHandle<()>>,
    agent: ureq::Agent,
    keys: Keys,
}

impl TestServer {
    /// Starts an instance on `db` with default limits.
    pub fn start(db: &TestDb) -> TestServer {
        Self::start_with(db, |_| {})
    }

    /// Starts an instance on `db`, letting the test adjust its configuration.
    pub fn start_with(db: &TestDb, adjust: impl FnOnce(&mut ServeArgs)) -> TestServer {
        if std::env::var("TEST_LOG").is_ok() {
            // Through the capture, which echoes it: a test that searches the log can then
            // still install it.
            logs::capture();
        }
        let db_url = db.url.clone();
        let mut args = ServeArgs::new(&db.url, "127.0.0.1:0", db.data_dir());
        args.jwt_secret = Some(SECRET.into());
        args.workers = Some(2);
        adjust(&mut args);
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let system = actix_web::rt::System::new();
            system.block_on(async move {
                match Application::build(args) {
                    Ok(app) => {
                        tx.send(Ok((app.port(), app.handle()))).unwrap();
                        app.run().await.unwrap();
                    }
                    Err(e) => tx.send(Err(format!("{e:#}"))).unwrap(),
                }
            });
        });
        let (port, handle) = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap()
            .unwrap_or_else(|e| panic!("server did not start: {e}"));
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        TestServer {
            base: format!("http://127.0.0.1:{port}"),
            db_url,
            handle,
            thread: Some(thread),
            agent,
            keys: Keys::from_secret(SECRET.as_bytes()),
        }
    }

    /// `write_lock_waiters` from `/healthz`: write transactions of this process waiting for
    /// SQLite's write lock.
    pub fn write_lock_waiters(&self) -> i64 {
        let (status, body) = self.get("/healthz", None);
        assert_eq!(status, 200, "{body}");
        body["write_lock_waiters"]
            .as_i64()
            .unwrap_or_else(|| panic!("no write_lock_waiters in /healthz: {body}"))
    }

    /// Stops the instance and waits until its database connections are closed.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(t) = self.thread.take() {
            actix_web::rt::System::new().block_on(self.handle.stop(false));
            let _ = t.join();
        }
    }

    /// The highest change position `(xid, seq)` of any live record, read directly from the
    /// database; `None` when there is none.
    pub fn head_position(&self) -> Option<(i64, i64)> {
        #[derive(diesel::QueryableByName)]
        struct Head {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            change_xid: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            change_seq: i64,
        }
        let head: Option<Head> = diesel::sql_query(
            "SELECT change_xid, change_seq FROM records WHERE version > 0 \
             ORDER BY change_xid DESC, change_seq DESC LIMIT 1",
        )
        .get_result(&mut db::connect(&self.db_url).unwrap())
        .optional()
        .unwrap();
        head.map(|h| (h.change_xid, h.change_seq))
    }

    /// Makes sure a user exists (created directly in the database, as `kampung-sync user
    /// add` would) and returns its id. Officers and agency admins go in [`AGENCY`].
    pub fn ensure_user(&self, username: &str, role: Role) -> String {
        let mut conn = db::connect(&self.db_url).unwrap();
        if let Some(u) = db::users::by_username(&mut conn, username).unwrap() {
            return u.id;
        }
        let agency = agency_for(&mut conn, role);
        let created = accounts::create_user(
            &mut conn,
            NewUserRequest {
                username: username.into(),
                display_name: username.into(),
                role,
                agency_id: agency,
                password: PASSWORD.into(),
            },
        );
        match created {
            Ok(u) => u.id.to_string(),
            Err(e) => {
                db::users::by_username(&mut conn, username)
                    .unwrap()
                    .unwrap_or_else(|| panic!("cannot create user {username}: {e}"))
                    .id
            }
        }
    }

    /// Creates a user directly in the database with the given display name and password
    /// (officers and agency admins in [`AGENCY`]); returns its id.
    pub fn add_user(
        &self,
        username: &str,
        display_name: &str,
        role: Role,
        password: &str,
    ) -> String {
        let mut conn = db::connect(&self.db_url).unwrap();
        let agency = agency_for(&mut conn, role);
        accounts::create_user(
            &mut conn,
            NewUserRequest {
                username: username.into(),
                display_name: display_name.into(),
                role,
                agency_id: agency,
                password: password.into(),
            },
        )
        .unwrap_or_else(|e| panic!("cannot create user {username}: {e}"))
        .id
        .to_string()
    }

    /// Signs in over HTTP: (status, body).
    pub fn login(&self, username: &str, password: &str, device: DeviceId) -> (u16, Value) {
        self.post(
            "/v1/auth/login",
            None,
            &json!({"username": username, "password": password, "device_id": device}),
        )
    }

    /// An access token for the user with id `user` on `device`, signed with the shared
    /// secret (for tokens sign-in would not issue: expired, or for a device not signed in).
    pub fn token(&self, user: &str, device: DeviceId) -> String {
        self.keys.mint(user, device, 3600).unwrap()
    }

    /// An access token that expired an hour ago.
    pub fn expired_token(&self, user: &str, device: DeviceId) -> String {
        self.keys.mint(user, device, -3600).unwrap()
    }

    /// `GET path`, with an optional bearer token: (status, JSON body).
    pub fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        read(req.call().unwrap())
    }

    /// `POST path` with a JSON body.
    pub fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        self.post_raw(
            path,
            token,
            &[("Content-Type", "application/json")],
            body.to_string().into_bytes(),
        )
    }

    /// `POST path` with raw bytes and headers.
    pub fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (u16, Value) {
        let mut req = self.agent.post(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        read(req.send(&body[..]).unwrap())
    }
}

/// A whole answer, for checks of more than the body.
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// The `content-type` header, if any.
    pub content_type: Option<String>,
    /// The body as JSON, or as a JSON string when it is not JSON.
    pub body: Value,
    /// The `retry-after` header, if any.
    pub retry_after: Option<String>,
    /// Every header, names in lowercase.
    pub headers: Vec<(String, String)>,
}

impl Reply {
    /// The first value of header `name` (lowercase), if any.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl TestServer {
    /// Any request as it is given: method, path with query, headers and body.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: Option<Vec<u8>>,
    ) -> Reply {
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let resp = match body {
            Some(b) => self.agent.run(req.body(b).unwrap()),
            None => self.agent.run(req.body(()).unwrap()),
        }
        .unwrap();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header("content-type");
        let retry_after = header("retry-after");
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let (status, body) = read(resp);
        Reply {
            status,
            content_type,
            body,
            retry_after,
            headers,
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn read(mut resp: ureq::http::Response<ureq::Body>) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// A field device: an installation id, a user, a token, a sequence counter, the versions
/// it has seen, and a pull cursor.
pub struct Device {
    /// Installation id.
    pub id: DeviceId,
    /// The user name it is registered to.
    pub user: String,
    /// That user's id.
    pub user_id: String,
    /// Its access token.
    pub token: String,
    /// Its refresh credential.
    pub refresh: String,
    /// The last sequence number used.
    pub seq: u64,
    /// Pull cursor.
    pub cursor: Option<String>,
}

impl Device {
    /// A new device of `user` (created if needed), signed in over HTTP, whose scope is every
    /// record: a regency administrator's. The sync semantics (exactly once, merge, cursor)
    /// are the same in every scope, so their tests use it and create households freely;
    /// tests of scope use [`Device::officer`] and assignments.
    pub fn new(server: &TestServer, user: &str) -> Device {
        Self::with_role(server, user, Role::RegencyAdmin)
    }

    /// A new device of officer `user` (created if needed), signed in over HTTP: it syncs
    /// the households assigned to the officer only.
    pub fn officer(server: &TestServer, user: &str) -> Device {
        Self::with_role(server, user, Role::Officer)
    }

    /// A new device of a user with `role`, signed in over HTTP.
    pub fn with_role(server: &TestServer, user: &str, role: Role) -> Device {
        server.ensure_user(user, role);
        let id = DeviceId(Uuid::now_v7());
        let (status, body) = server.login(user, PASSWORD, id);
        assert_eq!(status, 200, "sign-in failed: {body}");
        Device {
            id,
            user: user.into(),
            user_id: body["user"]["id"].as_str().unwrap().to_owned(),
            token: body["access_token"].as_str().unwrap().to_owned(),
            refresh: body["refresh_token"].as_str().unwrap().to_owned(),
            seq: 0,
            cursor: None,
        }
    }

    /// The next operation's sequence number.
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Pushes raw operations: (status, body).
    pub fn push(&self, server: &TestServer, ops: Vec<Value>) -> (u16, Value) {
        server.post(
            "/v1/sync/push",
            Some(&self.token),
            &json!({"device_id": self.id, "ops": ops}),
        )
    }

    /// Pushes and expects 200.
    pub fn push_ok(&self, server: &TestServer, ops: Vec<Value>) -> Value {
        let (status, body) = self.push(server, ops);
        assert_eq!(status, 200, "push failed: {body}");
        body
    }

    /// Pulls every page since the cursor, moving it, until it has passed every change
    /// committed before the call; returns all changed records.
    ///
    /// On PostgreSQL a pull may stall for a moment behind a transaction that could still
    /// commit (other tests share the cluster), and whether it did cannot be told from the
    /// outside by a second look (`/healthz` takes its own snapshot). So the barrier is read
    /// from the database: the highest change position there is now; the cursor passes it
    /// only once everything at or below it has been delivered.
    pub fn pull_all(&mut self, server: &TestServer) -> Vec<Value> {
        let head = server.head_position();
        let mut out = Vec::new();
        for _ in 0..1000 {
            out.extend(self.pull_once(server));
            if head.is_none_or(|h| self.cursor_position() >= h) {
                return out;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("pulls did not pass {head:?} (cursor {:?})", self.cursor);
    }

    /// `(xid, seq)` of the current cursor (`v1.<epoch>.<xid>.<seq>`), `(0, 0)` without one.
    fn cursor_position(&self) -> (i64, i64) {
        let Some(c) = &self.cursor else {
            return (0, 0);
        };
        let parts: Vec<&str> = c.rsplitn(3, '.').collect();
        (parts[1].parse().unwrap(), parts[0].parse().unwrap())
    }

    /// Pulls every page since the cursor once, moving it.
    pub fn pull_once(&mut self, server: &TestServer) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let (status, page) = self.pull_page(server, None);
            assert_eq!(status, 200, "pull failed: {page}");
            out.extend(page["changes"].as_array().cloned().unwrap_or_default());
            self.cursor = page["cursor"].as_str().map(str::to_owned);
            if page["has_more"] != json!(true) {
                return out;
            }
        }
    }

    /// One pull page from the current cursor (does not move it).
    pub fn pull_page(&self, server: &TestServer, limit: Option<u32>) -> (u16, Value) {
        let mut q = Vec::new();
        if let Some(c) = &self.cursor {
            q.push(format!("cursor={c}"));
        }
        if let Some(l) = limit {
            q.push(format!("limit={l}"));
        }
        server.get(&format!("/v1/sync/pull?{}", q.join("&")), Some(&self.token))
    }
}

/// A household put operation.
pub fn put_household(seq: u64, record: Uuid, seen: u64, epoch: Option<&str>, head: &str) -> Value {
    json!({
        "seq": seq,
        "collection": "households",
        "record_id": record,
        "kind": "put",
        "ctx": {"epoch": epoch, "vv": {"server": seen}},
        "hlc": {"wall_ms": now_ms(), "counter": 0},
        "fields": {"head_name": head, "desa_code": "3510010001", "status": "active"}
    })
}

/// A household patch operation.
pub fn patch_household(
    seq: u64,
    record: Uuid,
    seen: u64,
    epoch: Option<&str>,
    fields: Value,
) -> Value {
    json!({
        "seq": seq,
        "collection": "households",
        "record_id": record,
        "kind": "patch",
        "ctx": {"epoch": epoch, "vv": {"server": seen}},
        "hlc": {"wall_ms": now_ms(), "counter": 0},
        "fields": fields
    })
}

/// A delete operation.
pub fn delete_household(seq: u64, record: Uuid, seen: u64, epoch: Option<&str>) -> Value {
    json!({
        "seq": seq,
        "collection": "households",
        "record_id": record,
        "kind": "delete",
        "ctx": {"epoch": epoch, "vv": {"server": seen}},
        "hlc": {"wall_ms": now_ms(), "counter": 0}
    })
}

/// Wall-clock milliseconds.
pub fn now_ms() -> u64 {
    u64::try_from(kampung_sync::db::now_ms()).unwrap_or(0)
}

/// The statuses of a push response's results.
pub fn statuses(resp: &Value) -> Vec<String> {
    resp["results"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| r["status"].as_str().unwrap_or("?").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Live `(dot, value)` pairs of a field in a record view: the winner alone when the field
/// is not in conflict, every sibling when it is.
pub fn live_values(record: &Value, register: &str, field: &str) -> Vec<(u64, Value)> {
    match record["conflicts"][register].as_array() {
        Some(sibs) => {
            let mut v: Vec<(u64, Value)> = sibs
                .iter()
                .map(|s| {
                    let val = if register == "_exists" {
                        s["value"].clone()
                    } else {
                        s["value"][field].clone()
                    };
                    (s["dot"].as_u64().unwrap_or(0), val)
                })
                .collect();
            v.sort_by_key(|(d, _)| *d);
            v
        }
        None => vec![(0, record["fields"][field].clone())],
    }
}

/// Declares tests that run on SQLite and, when turned on, on PostgreSQL: for each name a
/// function `name(Backend)` must exist in the calling module.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name($crate::Backend::Sqlite) } )*
        }
        mod postgres {
            $( #[test] fn $name() { if let Some(b) = $crate::Backend::postgres() { super::$name(b) } } )*
        }
    };
}

/// The agency a new user of `role` belongs to: [`AGENCY`] (created if needed) for officers
/// and agency admins, none for regency admins.
fn agency_for(conn: &mut AnyConnection, role: Role) -> Option<AgencyId> {
    if role == Role::RegencyAdmin {
        return None;
    }
    let agency: AgencyId = AGENCY.parse().unwrap();
    if !db::agencies::exists(conn, agency).unwrap() {
        db::agencies::insert_unless_named(conn, agency, "Dinas Sosial", "opd", |a, b| a == b)
            .unwrap();
    }
    Some(agency)
}
