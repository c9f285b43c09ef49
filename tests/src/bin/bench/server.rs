//! The benchmark's databases and server processes, and the watchdog that ends a run that
//! overstays its time limit (killing the servers it started and dropping its databases).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::Duration;

use kampung_sync::db::provision;
use serde_json::Value;
use uuid::Uuid;

use crate::BackendArg;

/// What the watchdog must undo if it ends the run: servers started, PostgreSQL databases
/// created, temporary folders.
#[derive(Default)]
struct Leftovers {
    pids: Vec<u32>,
    pg: Vec<(String, String)>,
    dirs: Vec<PathBuf>,
}

static LEFTOVERS: Mutex<Leftovers> = Mutex::new(Leftovers {
    pids: Vec::new(),
    pg: Vec::new(),
    dirs: Vec::new(),
});

fn leftovers() -> std::sync::MutexGuard<'static, Leftovers> {
    LEFTOVERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Ends the process after `limit`: kills the servers this run started (by their pid),
/// drops its PostgreSQL databases and removes its folders, then exits with status 3.
pub fn arm_watchdog(limit: Duration) {
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        eprintln!(
            "bench: time limit of {} s reached; stopping",
            limit.as_secs()
        );
        let left = std::mem::take(&mut *leftovers());
        for pid in left.pids {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        }
        for (admin, name) in left.pg {
            let _ = provision::drop_database(&admin, &name);
        }
        for dir in left.dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
        std::process::exit(3);
    });
}

/// A fresh database for one scenario: a temporary SQLite file, or a new PostgreSQL
/// database, removed when dropped.
pub struct Db {
    /// Its URL.
    pub url: String,
    /// Folder for the SQLite file and the server's data folder.
    pub dir: PathBuf,
    pg: Option<(String, String)>,
}

impl Db {
    /// Creates one. PostgreSQL needs `KAMPUNG_TEST_PG_URL`.
    pub fn fresh(backend: BackendArg) -> anyhow::Result<Db> {
        let tag = Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir().join(format!("kampung-bench-{tag}"));
        std::fs::create_dir_all(&dir)?;
        leftovers().dirs.push(dir.clone());
        let (url, pg) = match backend {
            BackendArg::Sqlite => (format!("sqlite://{}", dir.join("bench.db").display()), None),
            BackendArg::Postgres => {
                let admin = pg_admin_url()?;
                let name = format!("kampung_bench_{tag}");
                let url = provision::create_database(&admin, &name)?;
                leftovers().pg.push((admin.clone(), name.clone()));
                (url, Some((admin, name)))
            }
        };
        Ok(Db { url, dir, pg })
    }
}

impl Db {
    /// An existing database (an already seeded one), kept when dropped; only the server's
    /// data folder is temporary.
    pub fn existing(url: &str) -> anyhow::Result<Db> {
        let tag = Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir().join(format!("kampung-bench-{tag}"));
        std::fs::create_dir_all(&dir)?;
        leftovers().dirs.push(dir.clone());
        Ok(Db {
            url: url.to_owned(),
            dir,
            pg: None,
        })
    }
}

/// The PostgreSQL database to create benchmark databases from.
pub fn pg_admin_url() -> anyhow::Result<String> {
    std::env::var("KAMPUNG_TEST_PG_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| anyhow::anyhow!("set KAMPUNG_TEST_PG_URL for the PostgreSQL benchmark"))
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg {
            if let Err(e) = provision::drop_database(admin, name) {
                eprintln!("bench: could not drop database {name}: {e:#}");
            }
            leftovers().pg.retain(|(_, n)| n != name);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        leftovers().dirs.retain(|d| *d != self.dir);
    }
}

/// A running `kampung-sync serve`, killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The first administrator's password, changed from the one-time one.
    pub admin_password: String,
}

impl Server {
    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts the server on `db` with the given extra `serve` flags, waits until it
    /// listens, and replaces the first administrator's one-time password.
    pub fn start(bin: &Path, db: &Db, flags: &[String]) -> anyhow::Result<Server> {
        Self::spawn(bin, db, flags, true)
    }

    /// Starts the server on a database that already has users (a seeded one): no first
    /// administrator is created, so there is no password to change.
    pub fn start_seeded(bin: &Path, db: &Db, flags: &[String]) -> anyhow::Result<Server> {
        Self::spawn(bin, db, flags, false)
    }

    fn spawn(bin: &Path, db: &Db, flags: &[String], first: bool) -> anyhow::Result<Server> {
        let mut child = Command::new(bin)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .args(flags)
            .env("DATABASE_URL", &db.url)
            .env("KAMPUNG_DATA_DIR", db.dir.join("data"))
            .env("KAMPUNG_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn,kampung_sync::startup=info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot start {}: {e} (build it with cargo build --release -p kampung-sync)",
                    bin.display()
                )
            })?;
        leftovers().pids.push(child.id());
        let (tx, rx) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        // The reader runs until the server exits, so that the pipe never fills up.
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                match serde_json::from_str::<Value>(&line) {
                    Ok(v) => {
                        if let Some(a) = v["fields"]["address"].as_str() {
                            let _ = tx.send(format!("addr {a}"));
                        } else if v["level"] == "WARN" || v["level"] == "ERROR" {
                            eprintln!("server: {line}");
                        }
                    }
                    Err(_) => eprintln!("server: {line}"),
                }
            }
        });
        let base = loop {
            let msg = rx
                .recv_timeout(Duration::from_secs(60))
                .map_err(|_| anyhow::anyhow!("the server did not start within 60 s"))?;
            if let Some(a) = msg.strip_prefix("addr ") {
                break format!("http://{a}");
            }
        };
        let admin_password = if first {
            first_admin(&base, &db.dir.join("data"))?
        } else {
            String::new()
        };
        Ok(Server {
            child,
            base,
            admin_password,
        })
    }
}

/// Reads the first administrator's one-time password from its file and changes it, as the
/// server requires before any administration: the new password.
fn first_admin(base: &str, data_dir: &Path) -> anyhow::Result<String> {
    let file = data_dir.join("first-admin-password");
    let one_time = std::fs::read_to_string(&file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let a = crate::client::agent(Duration::from_secs(120));
    let (token, _) = crate::client::login(&a, base, "admin", one_time.trim())?;
    let changed = format!("bench-{}", Uuid::now_v7().simple());
    let (st, body) = crate::client::call(
        &a,
        "POST",
        &format!("{base}/v1/auth/password"),
        Some(&token),
        Some(&serde_json::json!({"current_password": one_time.trim(), "new_password": changed})),
    )?;
    anyhow::ensure!(
        st == 204,
        "changing the first administrator's password: {st} {body}"
    );
    Ok(changed)
}

impl Drop for Server {
    fn drop(&mut self) {
        let pid = self.child.id();
        let _ = self.child.kill();
        let _ = self.child.wait();
        leftovers().pids.retain(|p| *p != pid);
    }
}
