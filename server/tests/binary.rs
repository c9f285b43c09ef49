//! The real binary: first start, the command line, and a crash in the middle of a push.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use kampung_sync::db::{self, provision};
use serde_json::{Value, json};
use uuid::Uuid;

#[path = "../../tests/src/shared.rs"]
mod shared;
use shared::{pg_admin_url, pg_lock_waiters, wait_until};

const SECRET: &str = "binary-test-secret-binary-test-secret-0123";
const BIN: &str = env!("CARGO_BIN_EXE_kampung-sync");

/// A database for one test: a SQLite file, or, when `pg` is asked for, a PostgreSQL database
/// if the PostgreSQL leg is on ([`pg_admin_url`]).
struct Db {
    url: String,
    dir: std::path::PathBuf,
    pg: Option<(String, String)>,
}

impl Db {
    fn new(pg: bool) -> Option<Db> {
        let tag = Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir().join(format!("kampung-bin-{tag}"));
        std::fs::create_dir_all(&dir).unwrap();
        if !pg {
            return Some(Db {
                url: format!("sqlite://{}", dir.join("sync.db").display()),
                dir,
                pg: None,
            });
        }
        let admin = pg_admin_url()?;
        let name = format!("kampung_bin_{tag}");
        let url = provision::create_database(&admin, &name).unwrap();
        Some(Db {
            url,
            dir,
            pg: Some((admin, name)),
        })
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg {
            let _ = provision::drop_database(admin, name);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct Server {
    child: Child,
    base: String,
    stdout: mpsc::Receiver<String>,
}

impl Server {
    fn start(db: &Db) -> Server {
        Self::start_with_env(db, &[])
    }

    /// Starts the server with extra environment variables (settings).
    fn start_with_env(db: &Db, env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(BIN)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .envs(env.iter().copied())
            .env("DATABASE_URL", &db.url)
            .env("KAMPUNG_DATA_DIR", db.dir.join("data"))
            .env("KAMPUNG_JWT_SECRET", SECRET)
            .env("KAMPUNG_LOG_FORMAT", "json")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (out_tx, stdout) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = out_tx.send(line);
            }
        });
        let (addr_tx, addr_rx) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line)
                    && let Some(a) = v["fields"]["address"].as_str()
                {
                    let _ = addr_tx.send(a.to_owned());
                }
            }
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server logs its address when it listens");
        Server {
            child,
            base: format!("http://{addr}"),
            stdout,
        }
    }

    /// Stops the server and returns everything it printed to standard output: all of it,
    /// since the pipe has closed.
    fn stop_and_read_stdout(mut self) -> Vec<String> {
        self.child.kill().unwrap();
        let _ = self.child.wait();
        let mut lines = Vec::new();
        loop {
            match self.stdout.recv_timeout(shared::WAIT) {
                Ok(line) => lines.push(line),
                Err(mpsc::RecvTimeoutError::Disconnected) => return lines,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("standard output still open after the server died")
                }
            }
        }
    }

    /// `write_lock_waiters` from `/healthz`.
    fn write_lock_waiters(&self) -> i64 {
        let (status, body) = get(&self.base, "/healthz");
        assert_eq!(status, 200, "{body}");
        body["write_lock_waiters"]
            .as_i64()
            .unwrap_or_else(|| panic!("no write_lock_waiters in /healthz: {body}"))
    }

    fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        post(&self.base, path, token, body)
    }

    /// A signed-in `GET`: (status, body).
    fn get_with(&self, path: &str, token: &str) -> (u16, Value) {
        let mut resp = agent()
            .get(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {token}"))
            .call()
            .unwrap();
        (
            resp.status().as_u16(),
            resp.body_mut().read_json().unwrap_or(Value::Null),
        )
    }

    /// The peak resident memory of the server process so far (`VmHWM`), in bytes.
    fn peak_memory(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no VmHWM in /proc status: {status}"));
        kib * 1024
    }

    fn kill(mut self) {
        self.child.kill().unwrap();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

fn get(base: &str, path: &str) -> (u16, Value) {
    let mut resp = agent().get(format!("{base}{path}")).call().unwrap();
    (
        resp.status().as_u16(),
        resp.body_mut().read_json().unwrap_or(Value::Null),
    )
}

/// (status, body); status 0 when the connection failed.
fn post(base: &str, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = agent().post(format!("{base}{path}"));
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    match req.send_json(body) {
        Ok(mut resp) => {
            let status = resp.status().as_u16();
            (status, resp.body_mut().read_json().unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

fn login(s: &Server, user: &str, password: &str, device: Uuid) -> String {
    let (st, body) = s.post(
        "/v1/auth/login",
        None,
        &json!({"username": user, "password": password, "device_id": device}),
    );
    assert_eq!(st, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// The first administrator's one-time password, from the file the first start wrote.
fn admin_password(db: &Db) -> String {
    let file = db.dir.join("data").join("first-admin-password");
    std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()))
        .trim_end()
        .to_owned()
}

/// Signs `user` in with a one-time password and replaces it with `new`, as the server
/// requires before anything else; the access token, which then works everywhere.
fn sign_in_and_change_password(
    s: &Server,
    user: &str,
    one_time: &str,
    new: &str,
    device: Uuid,
) -> String {
    let (st, body) = s.post(
        "/v1/auth/login",
        None,
        &json!({"username": user, "password": one_time, "device_id": device}),
    );
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["must_change_password"], true, "{body}");
    let token = body["access_token"].as_str().unwrap().to_owned();
    let (st, _) = s.get_with("/v1/admin/users", &token);
    assert_eq!(st, 403, "nothing else before the change");
    let (st, body) = s.post(
        "/v1/auth/password",
        Some(&token),
        &json!({"current_password": one_time, "new_password": new}),
    );
    assert_eq!(st, 204, "{body}");
    token
}

fn household(seq: u64, id: Uuid, seen: u64, kind: &str, fields: Value) -> Value {
    json!({"seq": seq, "collection": "households", "record_id": id, "kind": kind,
           "ctx": {"vv": {"server": seen}}, "hlc": {"wall_ms": 1_764_300_000_000u64}, "fields": fields})
}

#[test]
fn first_start_leaves_a_one_time_admin_password_in_a_file_that_signs_in() {
    let db = Db::new(false).unwrap();
    let s = Server::start(&db);
    let password = admin_password(&db);
    assert!(password.len() >= 20);
    login(&s, "admin", &password, Uuid::now_v7());
    s.kill();
    // A second start creates nothing and prints no password.
    let s = Server::start(&db);
    let printed = s.stop_and_read_stdout();
    assert!(
        printed.iter().all(|l| !l.contains("password")),
        "{printed:?}"
    );
}

/// Kills the process when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn with_stdout_and_stderr_closed_the_first_start_serves_and_leaves_the_password_in_an_owner_only_file()
 {
    let db = Db::new(false).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _server = Running(
        Command::new("sh")
            .args(["-c", r#"exec "$0" serve --bind "$1" >&- 2>&-"#, BIN])
            .arg(format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", &db.url)
            .env("KAMPUNG_DATA_DIR", db.dir.join("data"))
            .env("KAMPUNG_JWT_SECRET", SECRET)
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    wait_until("the server answers /healthz", || {
        agent()
            .get(format!("{base}/healthz"))
            .call()
            .is_ok_and(|r| r.status() == 200)
    });
    let file = db.dir.join("data").join("first-admin-password");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "a password: owner only");
    }
    let (st, body) = post(
        &base,
        "/v1/auth/login",
        None,
        &json!({"username": "admin", "password": admin_password(&db), "device_id": Uuid::now_v7()}),
    );
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["must_change_password"], true, "{body}");
}

#[test]
fn a_first_start_that_cannot_write_the_password_file_creates_no_administrator_and_stops() {
    let db = Db::new(false).unwrap();
    let not_a_folder = db.dir.join("data");
    std::fs::write(&not_a_folder, "a file where the data folder should be").unwrap();
    let mut server = Running(
        Command::new(BIN)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("DATABASE_URL", &db.url)
            .env("KAMPUNG_DATA_DIR", &not_a_folder)
            .env("KAMPUNG_JWT_SECRET", SECRET)
            // So that the key of the KK and NIK numbers needs no file there either.
            .env(
                "KAMPUNG_PII_KEY",
                kampung_sync::pii::generate_master_key().unwrap(),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut status = None;
    wait_until("the start stops", || {
        status = server.0.try_wait().unwrap();
        status.is_some()
    });
    assert!(!status.unwrap().success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut server.0.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(
        stderr.contains("cannot create the first administrator"),
        "{stderr}"
    );
    let mut conn = db::connect(&db.url).unwrap();
    assert_eq!(
        db::users::count(&mut conn).unwrap(),
        0,
        "no administrator whose password nobody has"
    );
}

/// Runs a command of the binary on `db` with `input` on standard input.
fn run_command(db: &Db, args: &[&str], input: &str) -> std::process::Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", &db.url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn user_reset_password_lets_an_administrator_who_lost_the_password_back_in_and_forces_a_change() {
    let db = Db::new(false).unwrap();
    let s = Server::start(&db);
    let device = Uuid::now_v7();
    sign_in_and_change_password(&s, "admin", &admin_password(&db), "lupa-sandi-2026", device);
    let (st, signed) = s.post(
        "/v1/auth/login",
        None,
        &json!({"username": "admin", "password": "lupa-sandi-2026", "device_id": device}),
    );
    assert_eq!(st, 200, "{signed}");

    // That password is lost: the operator resets it on the server's database.
    let out = run_command(
        &db,
        &["user", "reset-password", "--username", "Admin"],
        "sandi-pemulihan-2026\n",
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(printed.contains("reset the password of admin"), "{printed}");
    assert!(
        !printed.contains("sandi-pemulihan-2026"),
        "a given password is never echoed"
    );
    let (st, body) = s.post(
        "/v1/auth/refresh",
        None,
        &json!({"refresh_token": signed["refresh_token"]}),
    );
    assert_eq!(
        (st, body["error"]["code"].as_str()),
        (401, Some("refresh_token_revoked")),
        "the old sessions end: {body}"
    );
    let (st, _) = s.post(
        "/v1/auth/login",
        None,
        &json!({"username": "admin", "password": "lupa-sandi-2026", "device_id": device}),
    );
    assert_eq!(st, 401, "the lost password no longer signs in");
    let token = sign_in_and_change_password(
        &s,
        "admin",
        "sandi-pemulihan-2026",
        "sandi-baru-lagi-2026",
        device,
    );
    let (st, body) = s.get_with("/v1/admin/users", &token);
    assert_eq!(st, 200, "{body}");

    // With nothing on standard input, a password is generated and printed.
    let out = run_command(&db, &["user", "reset-password", "--username", "admin"], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    let generated = printed
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .unwrap_or_else(|| panic!("no password printed: {printed}"));
    sign_in_and_change_password(&s, "admin", generated, "sandi-ketiga-2026", device);

    let out = run_command(&db, &["user", "reset-password", "--username", "nobody"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("user_not_found"));
}

#[test]
fn user_add_reads_the_password_from_stdin_and_the_user_can_sign_in() {
    let db = Db::new(false).unwrap();
    let run = |args: &[&str], input: &str| {
        let mut child = Command::new(BIN)
            .args(args)
            .env("DATABASE_URL", &db.url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let migrated = run(&["migrate"], "");
    assert!(migrated.contains("applied"), "{migrated}");
    assert!(run(&["migrate"], "").contains("up to date"));
    let agency = run(
        &["agency", "add", "--name", "Dinas Sosial", "--kind", "opd"],
        "",
    );
    let agency = agency.trim();
    let created = run(
        &[
            "user",
            "add",
            "--username",
            "Rina.Wulandari",
            "--role",
            "officer",
            "--agency",
            agency,
        ],
        "sandi-rahasia-123\n",
    );
    assert!(created.contains("created rina.wulandari"), "{created}");
    assert!(
        !created.contains("sandi-rahasia-123"),
        "a given password is never echoed"
    );

    let epoch = run(&["epoch", "show"], "");
    let bumped = run(&["epoch", "bump"], "");
    assert_ne!(epoch.trim(), bumped.trim());
    assert_eq!(run(&["epoch", "show"], "").trim(), bumped.trim());

    let s = Server::start(&db);
    login(&s, "rina.wulandari", "sandi-rahasia-123", Uuid::now_v7());
}

#[test]
fn refuses_an_unknown_database_url_scheme() {
    let out = Command::new(BIN)
        .args(["migrate"])
        .env("DATABASE_URL", "mysql://root@localhost/x")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported DATABASE_URL"));
}

#[test]
fn the_data_dir_holds_the_default_database_readable_by_its_owner_only() {
    let db = Db::new(false).unwrap();
    let data = db.dir.join("elsewhere");
    let out = Command::new(BIN)
        .args(["migrate", "--data-dir"])
        .arg(&data)
        .env_remove("DATABASE_URL")
        .env_remove("KAMPUNG_DATA_DIR")
        .current_dir(&db.dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let file = data.join("kampung-sync.db");
    assert!(
        file.exists(),
        "the default database goes in the data folder"
    );
    assert!(!db.dir.join("data").exists(), "nothing in ./data");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "personal data: owner only");
    }
}

#[test]
fn a_short_token_secret_stops_the_start_before_anything_is_written() {
    let db = Db::new(false).unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("DATABASE_URL", &db.url)
        .env("KAMPUNG_JWT_SECRET", "too-short")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 32 characters"));
    assert!(
        String::from_utf8_lossy(&out.stdout).is_empty(),
        "no administrator password printed for a server that never ran"
    );
    assert!(
        !db.dir.join("sync.db").exists(),
        "no database created for a server that never ran"
    );
}

/// T7: the server dies inside a push, before its transaction commits. Nothing was applied,
/// so the retry applies the operation once.
fn crash_before_commit(pg: bool) {
    let Some(db) = Db::new(pg) else { return };
    let s = Server::start(&db);
    let device = Uuid::now_v7();
    let token = sign_in_and_change_password(
        &s,
        "admin",
        &admin_password(&db),
        "sandi-admin-baru-2026",
        device,
    );
    let r = Uuid::now_v7();
    let body = |ops: Vec<Value>| json!({"device_id": device, "ops": ops});
    let (st, first) = s.post(
        "/v1/sync/push",
        Some(&token),
        &body(vec![household(
            1,
            r,
            0,
            "put",
            json!({"head_name": "Siti", "desa_code": "3510010001"}),
        )]),
    );
    assert_eq!(st, 200, "{first}");
    let op2 = household(2, r, 1, "patch", json!({"phone": "0811"}));

    // Hold the record so the push waits inside its transaction, then kill the server.
    let mut lock = db::connect(&db.url).unwrap();
    if pg {
        lock.batch_execute(&format!(
            "BEGIN; SELECT id FROM records WHERE id = '{r}' FOR UPDATE;"
        ))
        .unwrap();
    } else {
        lock.batch_execute("BEGIN IMMEDIATE;").unwrap();
    }
    let (done_tx, done_rx) = mpsc::channel();
    let base = s.base.clone();
    let pending = body(vec![op2.clone()]);
    std::thread::scope(|sc| {
        sc.spawn(|| {
            let _ = done_tx.send(post(&base, "/v1/sync/push", Some(&token), &pending));
        });
        if pg {
            let mut view = db::connect(&db.url).unwrap();
            wait_until("the push waits for the row lock", || {
                pg_lock_waiters(&mut view) >= 1
            });
        } else {
            wait_until("the push waits for the write lock", || {
                s.write_lock_waiters() >= 1
            });
        }
        assert!(
            done_rx.try_recv().is_err(),
            "the push must be waiting on the lock"
        );
        let pid = s.child.id();
        Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap();
        let (st, _) = done_rx.recv_timeout(Duration::from_secs(30)).unwrap();
        assert_eq!(st, 0, "the client saw the connection die, not an answer");
    });
    lock.batch_execute("ROLLBACK;").unwrap();
    s.kill();

    let s = Server::start(&db);
    let (st, retry) = s.post("/v1/sync/push", Some(&token), &body(vec![op2]));
    assert_eq!(st, 200, "{retry}");
    assert_eq!(retry["results"][0]["status"], "applied", "{retry}");
    assert_eq!(retry["results"][0]["record"]["version"], 2);
    assert_eq!(retry["acked_seq"], 2);
}

#[test]
fn t7_sqlite_crash_before_commit_applies_nothing_and_the_retry_applies_once() {
    crash_before_commit(false);
}

#[test]
fn t7_postgres_crash_before_commit_applies_nothing_and_the_retry_applies_once() {
    crash_before_commit(true);
}

/// The shell block of the README's "A first session", exactly as written.
fn readme_first_session() -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let section = &readme[readme
        .find("## A first session")
        .expect("the README has a first session")..];
    section
        .split("```sh\n")
        .skip(1)
        .map(|b| &b[..b.find("```").unwrap()])
        .find(|b| b.contains("/v1/sync/pull"))
        .expect("the first session's block")
        .to_owned()
}

#[test]
fn the_readme_first_session_runs_as_written_against_the_real_binary() {
    let db = Db::new(false).unwrap();
    let s = Server::start(&db);
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &readme_first_session()])
        .env("KS", &s.base)
        .env("ADMIN_PASSWORD", admin_password(&db))
        .env("NEW_ADMIN_PASSWORD", "sandi-admin-baru-2026")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the session failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<Value> = stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let [officer, household, assignment, push, pull] = answers.as_slice() else {
        panic!("five answers printed: {stdout}");
    };
    assert_eq!(officer["role"], "officer");
    assert_eq!(household["results"][0]["status"], "applied", "{household}");
    assert_eq!(assignment["active"], true, "{assignment}");
    assert_eq!(assignment["officer_id"], officer["id"]);
    assert_eq!(push["results"][0]["status"], "applied", "{push}");
    let changes = pull["changes"].as_array().unwrap();
    assert_eq!(
        changes.len(),
        2,
        "the assigned household and the visit: {pull}"
    );
    let visit = changes
        .iter()
        .find(|c| c["id"] == "0195c9d0-1e2f-7a30-b4c5-d6e7f8a9b0c1")
        .unwrap_or_else(|| panic!("the visit comes back: {pull}"));
    assert_eq!(visit["fields"]["pangan_note"], "Beras habis sejak Selasa.");
    assert!(
        changes
            .iter()
            .any(|c| c["id"] == household["results"][0]["record"]["id"])
    );
}

/// A gzip body that inflates to far more than the limit is refused once the decoded bytes
/// pass the limit, so each such request costs about the limit in memory, not its inflated
/// size: 40 at once, each inflating to 64 MiB against a 256 KiB limit, stay within a bound
/// (4 MiB a request, far above 2 x the limit and far below one inflated chunk of the body).
#[test]
fn gzip_bombs_in_parallel_are_refused_413_without_inflating_in_memory() {
    use std::io::Write as _;
    const LIMIT: usize = 256 * 1024;
    const PARALLEL: u64 = 40;
    let db = Db::new(false).unwrap();
    let s = Server::start_with_env(&db, &[("KAMPUNG_MAX_BODY_BYTES", &LIMIT.to_string())]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1024 * 1024];
    for _ in 0..64 {
        gz.write_all(&zeros).unwrap();
    }
    let bomb = gz.finish().unwrap();
    assert!(
        bomb.len() < LIMIT,
        "the compressed body alone is under the limit"
    );
    // The server's own memory once it has answered: the baseline the bombs add to.
    let (st, _) = s.post("/v1/auth/login", None, &json!({}));
    assert_eq!(st, 400);
    let before = s.peak_memory();
    std::thread::scope(|sc| {
        let handles: Vec<_> = (0..PARALLEL)
            .map(|_| {
                sc.spawn(|| {
                    let mut resp = agent()
                        .post(format!("{}/v1/auth/login", s.base))
                        .header("Content-Type", "application/json")
                        .header("Content-Encoding", "gzip")
                        .send(&bomb[..])
                        .unwrap();
                    let body: Value = resp.body_mut().read_json().unwrap_or(Value::Null);
                    (resp.status().as_u16(), body)
                })
            })
            .collect();
        for h in handles {
            let (st, body) = h.join().unwrap();
            assert_eq!(
                (st, body["error"]["code"].as_str()),
                (413, Some("payload_too_large")),
                "{body}"
            );
        }
    });
    let grown = s.peak_memory().saturating_sub(before);
    let bound = PARALLEL * 4 * 1024 * 1024;
    eprintln!(
        "peak memory grew by {} KiB under {PARALLEL} bombs",
        grown >> 10
    );
    assert!(
        grown < bound,
        "peak memory grew by {} MiB under {PARALLEL} bombs; the bound is {} MiB",
        grown >> 20,
        bound >> 20
    );
}

#[test]
fn housekeeping_command_prints_what_it_deleted_and_refuses_a_zero_retention() {
    let db = Db::new(false).unwrap();
    let housekeeping = |extra: &[&str]| {
        Command::new(BIN)
            .arg("housekeeping")
            .args(extra)
            .env("DATABASE_URL", &db.url)
            .output()
            .unwrap()
    };
    let out = housekeeping(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        printed,
        json!({"audit_entries": 0, "refresh_credentials": 0, "sign_in_counters": 0})
    );
    let out = housekeeping(&["--audit-retention-days", "0"]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--audit-retention-days"),
        "the message names the setting"
    );
}

#[test]
fn settings_that_cannot_serve_stop_the_start_with_a_message_naming_them() {
    let db = Db::new(false).unwrap();
    for (var, flag, value) in [
        ("KAMPUNG_MAX_BODY_BYTES", "--max-body-bytes", "0"),
        ("KAMPUNG_MAX_BATCH_OPS", "--max-batch-ops", "0"),
        ("KAMPUNG_WORKERS", "--workers", "0"),
        ("KAMPUNG_MAX_CONNECTIONS", "--max-connections", "0"),
        ("KAMPUNG_POOL_SIZE", "--pool-size", "0"),
        ("KAMPUNG_PULL_PAGE_SIZE", "--pull-page-size", "1001"),
        ("KAMPUNG_HEADER_TIMEOUT_SECS", "--header-timeout-secs", "0"),
        ("KAMPUNG_BODY_TIMEOUT_SECS", "--body-timeout-secs", "0"),
        ("KAMPUNG_ACCESS_TTL_SECS", "--access-ttl-secs", "0"),
        ("KAMPUNG_ACCESS_TTL_SECS", "--access-ttl-secs", "9999999999"),
        (
            "KAMPUNG_REFRESH_TTL_DAYS",
            "--refresh-ttl-days",
            "1000000000000",
        ),
        (
            "KAMPUNG_HOUSEKEEPING_MINUTES",
            "--housekeeping-minutes",
            "18446744073709551615",
        ),
        ("KAMPUNG_OVERDUE_DAYS", "--overdue-days", "0"),
        ("KAMPUNG_OVERDUE_DAYS", "--overdue-days", "3651"),
        (
            "KAMPUNG_IMPLAUSIBLE_DISTANCE_M",
            "--implausible-distance-m",
            "9",
        ),
        (
            "KAMPUNG_IMPLAUSIBLE_DISTANCE_M",
            "--implausible-distance-m",
            "100001",
        ),
    ] {
        let out = exit_within(
            Command::new(BIN)
                .args(["serve", "--bind", "127.0.0.1:0"])
                .env("DATABASE_URL", &db.url)
                .env("KAMPUNG_JWT_SECRET", SECRET)
                .env(var, value),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{var}={value}: {stderr}");
        assert!(stderr.contains(flag), "{var}={value}: {stderr}");
        assert!(
            !db.dir.join("sync.db").exists(),
            "{var}={value}: no database created for a server that never ran"
        );
    }
}

/// Runs `cmd` to its end; a server that starts instead is killed and fails the test rather
/// than hang it.
fn exit_within(cmd: &mut Command) -> std::process::Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + shared::WAIT;
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "still running, so it started: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// A file for a child's standard error, as a service manager or `2>log` gives it.
fn stderr_file(db: &Db, name: &str) -> (std::path::PathBuf, std::fs::File) {
    let path = db.dir.join(name);
    let file = std::fs::File::create(&path).unwrap();
    (path, file)
}

#[test]
fn a_failing_command_prints_its_error_once_on_stderr() {
    let db = Db::new(false).unwrap();
    let (path, file) = stderr_file(&db, "stderr.log");
    let status = Command::new(BIN)
        .args(["migrate", "--log-format", "text"])
        .env("DATABASE_URL", "mysql://root@localhost/x")
        .stdout(Stdio::null())
        .stderr(file)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
    let written = std::fs::read_to_string(path).unwrap();
    assert_eq!(
        written.matches("unsupported DATABASE_URL").count(),
        1,
        "{written}"
    );
    assert!(
        written.starts_with("error: unsupported DATABASE_URL"),
        "{written}"
    );
    assert!(!written.contains("\x1b["), "{written:?}");
}

#[test]
fn text_logs_written_to_a_file_carry_no_colour_codes() {
    let db = Db::new(false).unwrap();
    let (path, file) = stderr_file(&db, "server.log");
    let mut child = Command::new(BIN)
        .args(["serve", "--bind", "127.0.0.1:0", "--log-format", "text"])
        .env("DATABASE_URL", &db.url)
        .env("KAMPUNG_DATA_DIR", db.dir.join("data"))
        .env("KAMPUNG_JWT_SECRET", SECRET)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(file)
        .spawn()
        .unwrap();
    wait_until("the server logs that it listens", || {
        std::fs::read_to_string(&path).is_ok_and(|l| l.contains("listening"))
    });
    child.kill().unwrap();
    let _ = child.wait();
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(!written.contains("\x1b["), "{written:?}");
}

#[test]
fn cors_origins_browsers_never_send_stop_the_start_with_a_message() {
    let db = Db::new(false).unwrap();
    for (value, says) in [
        ("*", "every web site"),
        (
            "https://admin.example.go.id/",
            "write `https://admin.example.go.id`",
        ),
        (
            "https://admin.example.go.id/console",
            "write `https://admin.example.go.id`",
        ),
        (
            "https://admin.example.go.id,ftp://files.example.go.id",
            "http or https",
        ),
        ("admin.example.go.id", "not an origin"),
    ] {
        let out = exit_within(
            Command::new(BIN)
                .args(["serve", "--bind", "127.0.0.1:0"])
                .env("DATABASE_URL", &db.url)
                .env("KAMPUNG_JWT_SECRET", SECRET)
                .env("KAMPUNG_CORS_ORIGINS", value),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{value}: {stderr}");
        assert!(stderr.contains("--cors-origins"), "{value}: {stderr}");
        assert!(stderr.contains(says), "{value}: {stderr}");
    }
}

#[test]
fn assignment_import_on_the_command_line_applies_a_file_whole_or_prints_why_not() {
    let db = Db::new(false).unwrap();
    let s = Server::start(&db);
    let device = Uuid::now_v7();
    let token = sign_in_and_change_password(
        &s,
        "admin",
        &admin_password(&db),
        "sandi-admin-baru-2026",
        device,
    );
    let h = [Uuid::now_v7(), Uuid::now_v7()];
    let fields = json!({"head_name": "Siti", "desa_code": "3510010001"});
    let (st, pushed) = s.post(
        "/v1/sync/push",
        Some(&token),
        &json!({"device_id": device, "ops": [
            household(1, h[0], 0, "put", fields.clone()),
            household(2, h[1], 0, "put", fields),
        ]}),
    );
    assert_eq!(st, 200, "{pushed}");
    let out = run_command(&db, &["agency", "add", "--name", "Dinas Sosial"], "");
    let agency = String::from_utf8(out.stdout).unwrap();
    let out = run_command(
        &db,
        &[
            "user",
            "add",
            "--username",
            "dewi",
            "--role",
            "officer",
            "--agency",
            agency.trim(),
        ],
        "sandi-dewi-2026\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = db.dir.join("penugasan.csv");
    let import = |csv: &str, dry_run: bool| {
        std::fs::write(&file, csv).unwrap();
        let path = file.to_str().unwrap();
        let mut args = vec!["assignment", "import", "--file", path];
        if dry_run {
            args.push("--dry-run");
        }
        let out = run_command(&db, &args, "");
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "the report is printed as JSON ({e}): {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (
            out.status.code(),
            report,
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let active = || {
        let (st, list) = s.get_with("/v1/admin/assignments?active=true", &token);
        assert_eq!(st, 200, "{list}");
        assert_eq!(list["next_cursor"], Value::Null, "one page: {list}");
        list["items"].as_array().unwrap().clone()
    };
    let csv = format!("household_id,officer\n{},dewi\n{},Dewi\n", h[0], h[1]);

    let (code, report, _) = import(&csv, true);
    assert_eq!(code, Some(0));
    assert_eq!(
        report,
        json!({"rows": 2, "assigned": 2, "unchanged": 0, "refused": [], "dry_run": true})
    );
    assert!(active().is_empty(), "a dry run writes nothing");

    let (code, report, _) = import(&csv, false);
    assert_eq!(code, Some(0));
    assert_eq!(report["assigned"], 2, "{report}");
    let made = active();
    assert_eq!(made.len(), 2);
    assert!(
        made.iter().all(|a| a["assigned_by"].is_null()),
        "the command line assigns as no user: {made:?}"
    );

    let (code, report, stderr) = import(
        &format!(
            "household_id,officer\n{},nobody\n{},dewi\n",
            h[1],
            Uuid::now_v7()
        ),
        false,
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(report["refused"][0]["line"], 2, "{report}");
    assert_eq!(report["refused"][0]["column"], "officer");
    assert_eq!(report["refused"][1]["line"], 3, "{report}");
    assert_eq!(report["refused"][1]["column"], "household_id");
    assert!(stderr.contains("import_refused"), "{stderr}");
    assert_eq!(active(), made, "nothing of a refused file is written");
}

/// `seed` on an empty database: the tables it wrote through the batch processing verify,
/// the open conflicts are there, and an officer's device pulls exactly the households
/// assigned to the officer.
fn seed_builds_a_programme_that_verifies_and_syncs(pg: bool) {
    let Some(db) = Db::new(pg) else { return };
    let out = run_command(
        &db,
        &[
            "seed",
            "--agencies",
            "3",
            "--officers",
            "6",
            "--households",
            "60",
            "--visits",
            "600",
            "--aid",
            "180",
            "--conflicts",
            "5",
            "--reassignments",
            "6",
        ],
        "",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("seeded 840 records (5 conflicts, 6 reassignments)"),
        "{stdout}"
    );
    let again = run_command(
        &db,
        &["seed", "--households", "1", "--visits", "0", "--aid", "0"],
        "",
    );
    assert!(
        !again.status.success(),
        "a second seed on a database in use is refused"
    );
    let verify = run_command(&db, &["tables", "verify"], "");
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );

    let s = Server::start(&db);
    let pull_all = |token: &str| {
        let (mut cursor, mut records) = (String::new(), Vec::new());
        loop {
            let (st, page) = s.get_with(&format!("/v1/sync/pull?cursor={cursor}"), token);
            assert_eq!(st, 200, "{page}");
            records.extend(page["changes"].as_array().unwrap().iter().cloned());
            cursor = page["cursor"].as_str().unwrap().to_owned();
            if page["has_more"] != json!(true) {
                return records;
            }
        }
    };
    let admin = login(&s, "seed-admin", "seed-password-2026", Uuid::now_v7());
    let everything = pull_all(&admin);
    let conflicted = everything
        .iter()
        .filter(|r| r["collection"] == "households" && r["conflicted"] == true)
        .count();
    assert_eq!(conflicted, 5);
    let (st, body) = s.post(
        "/v1/auth/login",
        None,
        &json!({"username": "seed-officer-2", "password": "seed-password-2026",
                "device_id": Uuid::now_v7()}),
    );
    assert_eq!(st, 200, "{body}");
    let officer = body["user"]["id"].as_str().unwrap().to_owned();
    let token = body["access_token"].as_str().unwrap().to_owned();
    let (st, assigned) = s.get_with(
        &format!("/v1/admin/assignments?officer_id={officer}&active=true&limit=500"),
        &admin,
    );
    assert_eq!(st, 200, "{assigned}");
    assert_eq!(assigned["next_cursor"], Value::Null, "one page: {assigned}");
    let mut want: Vec<&str> = assigned["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["household_id"].as_str().unwrap())
        .collect();
    want.sort_unstable();
    let mine = pull_all(&token);
    let mut got: Vec<&str> = mine
        .iter()
        .filter(|r| r["collection"] == "households")
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    got.sort_unstable();
    assert!(!want.is_empty());
    assert_eq!(
        got, want,
        "the officer's device pulls their households, no other"
    );
    assert!(mine.iter().all(|r| r["collection"] == "households"
        || want.contains(&r["fields"]["household_id"].as_str().unwrap())));
}

#[test]
fn seed_on_sqlite_builds_a_programme_that_verifies_and_syncs() {
    seed_builds_a_programme_that_verifies_and_syncs(false);
}

#[test]
fn seed_on_postgres_builds_a_programme_that_verifies_and_syncs() {
    seed_builds_a_programme_that_verifies_and_syncs(true);
}

/// `pii new-key` prints a key; `pii rotate` moves every sealed number to the current key
/// once the old one is in `KAMPUNG_PII_OLD_KEYS`, and without it refuses, naming the old
/// key's id and never a key; a mistyped key stops `serve` before a database is created.
#[test]
fn pii_new_key_and_rotate_on_the_command_line() {
    use kampung_sync::config::PiiArgs;
    use kampung_sync::pii::IdentityNumber;
    use kampung_sync::service::identity::{self, Change};

    let db = Db::new(false).unwrap();
    let data = db.dir.join("data");
    let new_key = || {
        let out = Command::new(BIN).args(["pii", "new-key"]).output().unwrap();
        assert!(out.status.success());
        let key = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        assert_eq!(key.len(), 44, "base64 of 32 bytes: {key}");
        key
    };
    let (old, new) = (new_key(), new_key());
    assert_ne!(old, new);

    let out = Command::new(BIN)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("DATABASE_URL", &db.url)
        .env("KAMPUNG_DATA_DIR", &data)
        .env("KAMPUNG_JWT_SECRET", SECRET)
        .env("KAMPUNG_PII_KEY", "bm90LWEta2V5")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("KAMPUNG_PII_KEY is not the base64 of 32 bytes"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("bm90LWEta2V5"),
        "the value is not shown: {stderr}"
    );
    assert!(
        !db.dir.join("sync.db").exists(),
        "no database for a server that never ran"
    );

    // One household's numbers, sealed under the old key.
    let mut conn = db::connect(&db.url).unwrap();
    db::migrate(&db::Backend::from_url(&db.url).unwrap()).unwrap();
    let old_args = PiiArgs {
        pii_key: Some(old.clone()),
        pii_old_keys: Vec::new(),
    };
    let keys = identity::open_keys(&mut conn, &old_args, &data, false).unwrap();
    let household = sync_protocol::RecordId(Uuid::now_v7());
    let kk = IdentityNumber::kk("3510012345678901").unwrap();
    db::write_tx(&mut conn, |c| {
        identity::store(c, &keys, household, Change::Set(kk.clone()), Change::Keep)
    })
    .unwrap();
    let old_id = keys.current().id().to_owned();

    let rotate = |old_keys: &str| {
        Command::new(BIN)
            .args(["pii", "rotate"])
            .env("DATABASE_URL", &db.url)
            .env("KAMPUNG_DATA_DIR", &data)
            .env("KAMPUNG_PII_KEY", &new)
            .env("KAMPUNG_PII_OLD_KEYS", old_keys)
            .output()
            .unwrap()
    };
    let out = rotate("");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&old_id), "names the missing key: {stderr}");
    assert!(!stderr.contains(&old) && !stderr.contains(&new), "{stderr}");

    let out = rotate(&old);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("of 1 households"), "{printed}");
    assert!(printed.contains(&format!("(from {old_id})")), "{printed}");
    let printed = String::from_utf8_lossy(&rotate(&old).stdout).into_owned();
    assert!(printed.contains("of 0 households"), "{printed}");

    let new_args = PiiArgs {
        pii_key: Some(new.clone()),
        pii_old_keys: Vec::new(),
    };
    let keys = identity::open_keys(&mut conn, &new_args, &data, false).unwrap();
    let numbers = identity::numbers_of(&mut conn, &keys, household).unwrap();
    assert_eq!(numbers.kk, Some(kk.clone()));
    assert_eq!(
        identity::households_with(&mut conn, &keys, &kk).unwrap(),
        [household]
    );
}
