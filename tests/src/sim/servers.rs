//! The servers a simulation runs against: an address it was given, or processes it starts
//! itself on a fresh database (SQLite, or PostgreSQL with one or two instances), which it
//! can kill and start again on the same database.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context as _, anyhow, ensure};
use kampung_sync::db::provision;
use serde_json::{Value, json};
use uuid::Uuid;

use super::http::Http;

/// The token secret of every instance a simulation starts: instances on one database must
/// accept each other's tokens.
const SECRET: &str = "simulator-secret-simulator-secret-0123456789";

/// The argument that makes the simulator's own executable run the server
/// ([`serve_in_process`]).
pub const SERVE_ARG: &str = "__serve";

/// Which database the simulator creates for the servers it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SpawnBackend {
    /// A temporary SQLite file.
    Sqlite,
    /// A new database on `KAMPUNG_TEST_PG_URL`.
    Postgres,
}

/// A database made for one run, removed when dropped.
pub struct Db {
    /// Its URL.
    pub url: String,
    /// Folder for the SQLite file and the servers' shared data folder.
    pub dir: PathBuf,
    pg: Option<(String, String)>,
}

impl Db {
    /// A fresh database; PostgreSQL is created on `pg_admin` (a URL to an existing one).
    pub fn fresh(backend: SpawnBackend, pg_admin: Option<&str>) -> anyhow::Result<Db> {
        let tag = Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir().join(format!("kampung-sim-{tag}"));
        std::fs::create_dir_all(&dir)?;
        let (url, pg) = match backend {
            SpawnBackend::Sqlite => (format!("sqlite://{}", dir.join("sim.db").display()), None),
            SpawnBackend::Postgres => {
                let admin = pg_admin
                    .ok_or_else(|| anyhow!("--spawn postgres needs KAMPUNG_TEST_PG_URL"))?;
                let name = format!("kampung_sim_{tag}");
                let url = provision::create_database(admin, &name)?;
                (url, Some((admin.to_owned(), name)))
            }
        };
        Ok(Db { url, dir, pg })
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg
            && let Err(e) = provision::drop_database(admin, name)
        {
            eprintln!("simulate: could not drop database {name}: {e:#}");
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// How to start a server process.
#[derive(Clone, Debug)]
pub enum ServerBin {
    /// A `simulate` executable with [`SERVE_ARG`]: the server library linked into it,
    /// started as `kampung-sync serve` starts it, in a process of its own.
    Simulator(PathBuf),
    /// A `kampung-sync` binary.
    Path(PathBuf),
}

/// A server process on a database, killed when dropped.
pub struct Instance {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
}

impl Instance {
    /// Starts one on `db` and waits until it listens.
    pub fn start(bin: &ServerBin, db: &Db) -> anyhow::Result<Instance> {
        let mut cmd = match bin {
            ServerBin::Simulator(p) => {
                let mut c = Command::new(p);
                c.arg(SERVE_ARG);
                c
            }
            ServerBin::Path(p) => {
                let mut c = Command::new(p);
                c.arg("serve");
                c
            }
        };
        let mut child = cmd
            .args(["--bind", "127.0.0.1:0"])
            .env("DATABASE_URL", &db.url)
            .env("KAMPUNG_DATA_DIR", db.dir.join("data"))
            .env("KAMPUNG_JWT_SECRET", SECRET)
            .env("KAMPUNG_LOG_FORMAT", "json")
            .env("KAMPUNG_WORKERS", "2")
            .env("RUST_LOG", "warn,kampung_sync::startup=info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting the server")?;
        let (tx, rx) = mpsc::channel();
        let err = child
            .stderr
            .take()
            .ok_or_else(|| anyhow!("no standard error"))?;
        // Read until the server exits, so that the pipe never fills up.
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                match serde_json::from_str::<Value>(&line) {
                    Ok(v) if v["fields"]["address"].is_string() => {
                        let _ = tx.send(v["fields"]["address"].as_str().unwrap_or("").to_owned());
                    }
                    Ok(v) if v["level"] == "ERROR" => eprintln!("server: {line}"),
                    Ok(_) => {}
                    Err(_) => eprintln!("server: {line}"),
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(120))
            .map_err(|_| anyhow!("the server did not start within 120 s"))?;
        Ok(Instance {
            child,
            base: format!("http://{addr}"),
        })
    }

    /// Kills the process at once (SIGKILL): nothing is flushed or closed cleanly.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs the server as `kampung-sync serve` does, with the rest of the command line as its
/// flags: what a simulator process started with [`SERVE_ARG`] does.
pub fn serve_in_process(flags: Vec<String>) -> anyhow::Result<()> {
    use clap::Parser;
    let mut argv = vec!["kampung-sync".to_owned(), "serve".to_owned()];
    argv.extend(flags);
    let cli = kampung_sync::config::Cli::parse_from(argv);
    kampung_sync::telemetry::init(cli.log_format);
    let kampung_sync::config::Command::Serve(args) = cli.command else {
        return Err(anyhow!("only serve runs in process"));
    };
    actix_web::rt::System::new().block_on(async move {
        let app = kampung_sync::startup::Application::build(args)?;
        app.run().await?;
        Ok(())
    })
}

/// Reads the first administrator's one-time password from the data folder and changes it,
/// as the server requires before any administration; returns the new password.
pub fn first_admin(http: &Http, base: &str, data_dir: &Path) -> anyhow::Result<String> {
    let file = data_dir.join("first-admin-password");
    let one_time =
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let one_time = one_time.trim();
    let device = Uuid::new_v4();
    let (st, body) = http.json(
        "POST",
        &format!("{base}/v1/auth/login"),
        None,
        Some(&json!({"username": "admin", "password": one_time, "device_id": device})),
    )?;
    ensure!(st == 200, "first administrator's sign-in: {st} {body}");
    let token = body["access_token"].as_str().unwrap_or_default().to_owned();
    let changed = format!("sim-admin-{}", Uuid::new_v4().simple());
    let (st, body) = http.json(
        "POST",
        &format!("{base}/v1/auth/password"),
        Some(&token),
        Some(&json!({"current_password": one_time, "new_password": changed})),
    )?;
    ensure!(
        st == 204,
        "changing the first administrator's password: {st} {body}"
    );
    Ok(changed)
}
