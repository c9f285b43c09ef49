//! Configuration: command-line flags, each with an environment variable. See
//! `docs/configuration.md`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The default database: this SQLite file in the data folder, created on first start.
pub const DEFAULT_DATABASE_FILE: &str = "kampung-sync.db";

/// kampung-sync: the sync backend for the ASN Berbagi field app.
#[derive(Debug, Parser)]
#[command(name = "kampung-sync", version, about)]
pub struct Cli {
    /// Log format.
    #[arg(long, env = "KAMPUNG_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Log output format.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (migrates the database first).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DbArgs),
    /// Database epoch commands.
    Epoch {
        /// The epoch action.
        #[command(subcommand)]
        action: EpochAction,
    },
    /// User accounts.
    User {
        /// The user action.
        #[command(subcommand)]
        action: UserAction,
    },
    /// Agencies.
    Agency {
        /// The agency action.
        #[command(subcommand)]
        action: AgencyAction,
    },
    /// Areas (kecamatan and desa).
    Area {
        /// The area action.
        #[command(subcommand)]
        action: AreaAction,
    },
    /// Assignments of households to officers.
    Assignment {
        /// The assignment action.
        #[command(subcommand)]
        action: AssignmentAction,
    },
    /// Delete what is past its retention (old audit entries, dead refresh credentials,
    /// ended sign-in counters) once, and print what was deleted. A serving instance also
    /// does this on its own every `--housekeeping-minutes`.
    Housekeeping {
        /// The database.
        #[command(flatten)]
        db: DbArgs,
        /// The retention.
        #[command(flatten)]
        retention: RetentionArgs,
    },
    /// The typed query tables the admin API reads, derived from the merge state.
    Tables {
        /// What to do.
        #[command(subcommand)]
        action: TablesAction,
    },
}

/// `kampung-sync tables ...`.
#[derive(Debug, Subcommand)]
pub enum TablesAction {
    /// Recompute every row from the records' merge state, in one transaction.
    Rebuild(DbArgs),
    /// Compare every row with what the merge state gives; print each difference and exit 1
    /// if there is any.
    Verify(DbArgs),
}

/// Epoch actions.
#[derive(Debug, Subcommand)]
pub enum EpochAction {
    /// Print the current epoch.
    Show(DbArgs),
    /// Start a new epoch: run this after restoring a backup, so that devices resync instead
    /// of trusting versions the restore may reissue for other content.
    Bump(DbArgs),
}

/// Where the database and the server's own files are.
#[derive(Clone, Debug, Args)]
pub struct DbArgs {
    /// `sqlite://path/to/file.db` or `postgres://user@host:port/db`. Default: the SQLite
    /// file `kampung-sync.db` in the data folder.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Folder for the default SQLite database, the generated token secret and the first
    /// administrator's one-time password.
    #[arg(long, env = "KAMPUNG_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
}

impl DbArgs {
    /// The database URL: the one given, or the SQLite file in the data folder.
    pub fn url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                self.data_dir.join(DEFAULT_DATABASE_FILE).display()
            )
        })
    }
}

/// `usize` has no ranged parser of its own in clap.
fn at_least_one_usize() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::new().range(1..)
}

/// Flags for `serve`. A number that cannot serve (no connections, an empty body limit, a
/// timeout that expires at once) is a usage error, before anything starts.
#[derive(Clone, Debug, Args)]
pub struct ServeArgs {
    /// The database.
    #[command(flatten)]
    pub db: DbArgs,
    /// Address and port to listen on.
    #[arg(long, env = "KAMPUNG_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Token signing secret (at least 32 characters). Required when several instances
    /// share one PostgreSQL; otherwise generated into the data folder on first start.
    #[arg(long, env = "KAMPUNG_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Largest request body accepted, in bytes (after gzip decompression).
    #[arg(long, env = "KAMPUNG_MAX_BODY_BYTES", default_value_t = 4 * 1024 * 1024, value_parser = at_least_one_usize())]
    pub max_body_bytes: usize,
    /// Most operations accepted in one push.
    #[arg(long, env = "KAMPUNG_MAX_BATCH_OPS", default_value_t = 500, value_parser = at_least_one_usize())]
    pub max_batch_ops: usize,
    /// Records per pull page, unless the client asks for fewer.
    #[arg(long, env = "KAMPUNG_PULL_PAGE_SIZE", default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub pull_page_size: u32,
    /// How far ahead of the server a device clock may be before its writes are flagged
    /// `clock_skew` and ordered by the server's clock instead.
    #[arg(long, env = "KAMPUNG_MAX_CLOCK_DRIFT_MS", default_value_t = 5 * 60 * 1000)]
    pub max_clock_drift_ms: u64,
    /// Database connections in the pool (default: 4 on SQLite, 16 on PostgreSQL).
    #[arg(long, env = "KAMPUNG_POOL_SIZE", value_parser = clap::value_parser!(u32).range(1..))]
    pub pool_size: Option<u32>,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "KAMPUNG_WORKERS", value_parser = at_least_one_usize())]
    pub workers: Option<usize>,
    /// Seconds a client has to send a request's headers, from the connection's start or the
    /// end of its previous request; then `408`.
    #[arg(long, env = "KAMPUNG_HEADER_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_secs: u64,
    /// Seconds a client has to send a whole request body, from the request's start; then
    /// `408 request_timeout` and the connection is closed.
    #[arg(long, env = "KAMPUNG_BODY_TIMEOUT_SECS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout_secs: u64,
    /// Seconds an idle keep-alive connection is kept open; 0 closes each connection after
    /// its answer.
    #[arg(long, env = "KAMPUNG_KEEP_ALIVE_SECS", default_value_t = 15)]
    pub keep_alive_secs: u64,
    /// Most open client connections, shared among the workers; more wait to be accepted.
    /// Keep it below the process's file-descriptor limit (docs/operations.md).
    #[arg(long, env = "KAMPUNG_MAX_CONNECTIONS", default_value_t = 512, value_parser = at_least_one_usize())]
    pub max_connections: usize,
    /// Origins of browser consoles allowed to call the API, comma-separated, exactly as a
    /// browser sends them (`https://admin.example.go.id`). None: no CORS headers at all.
    #[arg(long, env = "KAMPUNG_CORS_ORIGINS", value_delimiter = ',', value_parser = crate::cors::parse_origin)]
    pub cors_origins: Vec<String>,
    /// Access token lifetime in seconds.
    #[arg(long, env = "KAMPUNG_ACCESS_TTL_SECS", default_value_t = 15 * 60, value_parser = clap::value_parser!(i64).range(1..=86_400))]
    pub access_ttl_secs: i64,
    /// Refresh credential lifetime in days. Each refresh starts a new period, so a device
    /// that syncs at least this often never has to sign in again.
    #[arg(long, env = "KAMPUNG_REFRESH_TTL_DAYS", default_value_t = 180, value_parser = clap::value_parser!(i64).range(1..=3650))]
    pub refresh_ttl_days: i64,
    /// How much one client, and sign-in as a whole, may ask at once.
    #[command(flatten)]
    pub load: LoadArgs,
    /// How long housekeeping keeps old rows.
    #[command(flatten)]
    pub retention: RetentionArgs,
    /// What the supervisors' reports call overdue and implausible.
    #[command(flatten)]
    pub reporting: ReportingArgs,
}

/// Bounds on load: password checks, failed sign-ins, and requests per device and per user.
/// Each must be at least 1.
#[derive(Clone, Copy, Debug, Args)]
pub struct LoadArgs {
    /// Password checks (Argon2id, about 19 MiB each) running at once (default: half the
    /// cores, at least 1). Sign-ins beyond wait for one; they never hold a database connection.
    #[arg(long, env = "KAMPUNG_PASSWORD_CHECKS", value_parser = clap::value_parser!(u32).range(1..))]
    pub password_checks: Option<u32>,
    /// Milliseconds a sign-in waits for a free password check before `503 sign_in_busy`.
    #[arg(long, env = "KAMPUNG_PASSWORD_QUEUE_MS", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..))]
    pub password_queue_ms: u64,
    /// Failed sign-ins per second, over all names and addresses and every instance, beyond
    /// which sign-ins are refused `429 too_many_attempts` for the rest of that second.
    #[arg(long, env = "KAMPUNG_FAILED_SIGN_INS_PER_SEC", default_value_t = 20, value_parser = clap::value_parser!(i64).range(1..))]
    pub failed_sign_ins_per_sec: i64,
    /// Requests one device may have in progress at once on this instance; more are answered
    /// `429 too_many_requests`.
    #[arg(long, env = "KAMPUNG_DEVICE_CONCURRENCY", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    pub device_concurrency: u32,
    /// Requests one user may have in progress at once on this instance, over all their
    /// devices.
    #[arg(long, env = "KAMPUNG_USER_CONCURRENCY", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..))]
    pub user_concurrency: u32,
}

impl Default for LoadArgs {
    fn default() -> Self {
        LoadArgs {
            password_checks: None,
            password_queue_ms: 2000,
            failed_sign_ins_per_sec: 20,
            device_concurrency: 4,
            user_concurrency: 8,
        }
    }
}

impl LoadArgs {
    /// Password checks at once: the setting, or half the cores.
    pub fn password_checks(&self) -> usize {
        self.password_checks.map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)),
            |n| n as usize,
        )
    }
}

/// What housekeeping deletes, and when. Each must be at least 1.
#[derive(Clone, Copy, Debug, Args)]
pub struct RetentionArgs {
    /// Days audit entries are kept.
    #[arg(long, env = "KAMPUNG_AUDIT_RETENTION_DAYS", default_value_t = 400, value_parser = clap::value_parser!(i64).range(1..=36_500))]
    pub audit_retention_days: i64,
    /// Days a refresh credential is kept after it expired, was used or was revoked (its
    /// replay is then answered `invalid_refresh_token` instead of `refresh_token_reused`).
    #[arg(long, env = "KAMPUNG_CREDENTIAL_RETENTION_DAYS", default_value_t = 30, value_parser = clap::value_parser!(i64).range(1..=3650))]
    pub credential_retention_days: i64,
    /// Minutes between housekeeping runs of a serving instance.
    #[arg(long, env = "KAMPUNG_HOUSEKEEPING_MINUTES", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=10_080))]
    pub housekeeping_minutes: u64,
}

impl Default for RetentionArgs {
    fn default() -> Self {
        RetentionArgs {
            audit_retention_days: 400,
            credential_retention_days: 30,
            housekeeping_minutes: 60,
        }
    }
}

/// Thresholds of the supervisors' reports. Both are applied when a report is read, never
/// stored, so changing them needs no rebuild of the typed tables.
#[derive(Clone, Copy, Debug, Args)]
pub struct ReportingArgs {
    /// Days without a completed visit after which a household is overdue.
    #[arg(long, env = "KAMPUNG_OVERDUE_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub overdue_days: u32,
    /// Metres between a visit's GPS point and the household's home point beyond which the
    /// visit's location is suspect. Below 10 m is inside phone GPS error; above 100 km is
    /// outside the regency.
    #[arg(long, env = "KAMPUNG_IMPLAUSIBLE_DISTANCE_M", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(10..=100_000))]
    pub implausible_distance_m: u32,
}

impl Default for ReportingArgs {
    fn default() -> Self {
        ReportingArgs {
            overdue_days: 30,
            implausible_distance_m: 1000,
        }
    }
}

/// User actions.
#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Create a user. The password is read from standard input (one line), or generated
    /// and printed when standard input is a terminal or empty.
    Add(UserAddArgs),
    /// Give a user who lost their password a new one, to be changed at the next sign-in;
    /// ends the user's refresh credentials. The password is read from standard input (one
    /// line), or generated and printed when standard input is a terminal or empty.
    ResetPassword(UserResetArgs),
}

/// Flags for `user reset-password`.
#[derive(Clone, Debug, Args)]
pub struct UserResetArgs {
    /// The database.
    #[command(flatten)]
    pub db: DbArgs,
    /// Sign-in name.
    #[arg(long)]
    pub username: String,
}

/// Flags for `user add`.
#[derive(Clone, Debug, Args)]
pub struct UserAddArgs {
    /// The database.
    #[command(flatten)]
    pub db: DbArgs,
    /// Sign-in name.
    #[arg(long)]
    pub username: String,
    /// Name shown to people (default: the user name).
    #[arg(long)]
    pub display_name: Option<String>,
    /// `officer`, `agency_admin` or `regency_admin`.
    #[arg(long)]
    pub role: String,
    /// Agency id (required for officers and agency admins).
    #[arg(long)]
    pub agency: Option<String>,
}

/// Agency actions.
#[derive(Debug, Subcommand)]
pub enum AgencyAction {
    /// Create an agency and print its id.
    Add {
        /// The database.
        #[command(flatten)]
        db: DbArgs,
        /// Name.
        #[arg(long)]
        name: String,
        /// Kind: `opd`, `school`, `partner`, ...
        #[arg(long, default_value = "opd")]
        kind: String,
    },
}

/// Assignment actions.
#[derive(Debug, Subcommand)]
pub enum AssignmentAction {
    /// Assign households in bulk from a CSV file (`household_id,officer[,reason]`), with
    /// the rules of `POST /v1/admin/assignments/import`: all rows or none. Prints the report
    /// as JSON; exits with status 1 when a row is refused.
    Import {
        /// The database.
        #[command(flatten)]
        db: DbArgs,
        /// The CSV file.
        #[arg(long)]
        file: PathBuf,
        /// Check every row and report, writing nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Area actions.
#[derive(Debug, Subcommand)]
pub enum AreaAction {
    /// Add a kecamatan, desa or kelurahan that the seed list lacks.
    Add {
        /// The database.
        #[command(flatten)]
        db: DbArgs,
        /// BPS code: 7 digits for a kecamatan, 10 for a desa or kelurahan.
        #[arg(long)]
        code: String,
        /// The code of the kabupaten (of a kecamatan) or kecamatan (of a desa).
        #[arg(long)]
        parent: String,
        /// `kecamatan`, `desa` or `kelurahan`.
        #[arg(long)]
        level: String,
        /// Name.
        #[arg(long)]
        name: String,
    },
}

/// Token lifetimes.
#[derive(Clone, Copy, Debug)]
pub struct AuthPolicy {
    /// Access token lifetime, seconds.
    pub access_ttl_secs: i64,
    /// Refresh credential lifetime, seconds (renewed at every refresh).
    pub refresh_ttl_secs: i64,
    /// Failed sign-ins per second, server-wide, before sign-in pauses.
    pub failed_sign_ins_per_sec: i64,
}

/// Limits the sync service enforces.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest body in bytes.
    pub max_body_bytes: usize,
    /// Most operations per push.
    pub max_batch_ops: usize,
    /// Default and largest pull page.
    pub pull_page_size: u32,
    /// Allowed device clock lead, in milliseconds.
    pub max_clock_drift_ms: u64,
}

impl ServeArgs {
    /// The limits part of the flags. Arguments built in code, not parsed, skip clap's
    /// ranges: hence the clamps here and in [`ServeArgs::auth_policy`].
    pub fn limits(&self) -> Limits {
        Limits {
            max_body_bytes: self.max_body_bytes,
            max_batch_ops: self.max_batch_ops,
            pull_page_size: self.pull_page_size.clamp(1, 1000),
            max_clock_drift_ms: self.max_clock_drift_ms,
        }
    }

    /// The token lifetimes.
    pub fn auth_policy(&self) -> AuthPolicy {
        AuthPolicy {
            access_ttl_secs: self.access_ttl_secs.max(1),
            refresh_ttl_secs: self.refresh_ttl_days.max(1) * 86_400,
            failed_sign_ins_per_sec: self.load.failed_sign_ins_per_sec,
        }
    }

    /// Defaults for everything but the database and the bind address (tests, embedding).
    pub fn new(database_url: &str, bind: &str, data_dir: PathBuf) -> Self {
        ServeArgs {
            db: DbArgs {
                database_url: Some(database_url.to_owned()),
                data_dir,
            },
            bind: bind.to_owned(),
            jwt_secret: None,
            max_body_bytes: 4 * 1024 * 1024,
            max_batch_ops: 500,
            pull_page_size: 200,
            max_clock_drift_ms: 5 * 60 * 1000,
            pool_size: None,
            workers: None,
            header_timeout_secs: 10,
            body_timeout_secs: 120,
            keep_alive_secs: 15,
            max_connections: 512,
            cors_origins: Vec::new(),
            access_ttl_secs: 15 * 60,
            refresh_ttl_days: 180,
            load: LoadArgs::default(),
            retention: RetentionArgs::default(),
            reporting: ReportingArgs::default(),
        }
    }
}
