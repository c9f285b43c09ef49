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
    /// Households.
    Household {
        /// The household action.
        #[command(subcommand)]
        action: HouseholdAction,
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
    /// The key of the KK and NIK numbers (docs/operations.md).
    Pii {
        /// What to do.
        #[command(subcommand)]
        action: PiiAction,
    },
    /// The typed query tables the admin API reads, derived from the merge state.
    Tables {
        /// What to do.
        #[command(subcommand)]
        action: TablesAction,
    },
    /// Build a realistic programme on an empty database, for measuring: agencies, officers,
    /// households, two years of visits and aid, conflicts and reassignments. Never on a
    /// database in use: it refuses one that holds records.
    Seed(SeedArgs),
}

/// `kampung-sync seed`: sizes default to a large regency's programme.
#[derive(Debug, Args)]
pub struct SeedArgs {
    /// The database.
    #[command(flatten)]
    pub db: DbArgs,
    /// Agencies.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub agencies: u32,
    /// Officers, spread over the agencies.
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u32).range(2..=1_000_000))]
    pub officers: u32,
    /// Households, each assigned to an officer.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub households: u32,
    /// Visits over the last two years.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u32).range(0..=100_000_000))]
    pub visits: u32,
    /// Aid records over the last two years.
    #[arg(long, default_value_t = 300_000, value_parser = clap::value_parser!(u32).range(0..=100_000_000))]
    pub aid: u32,
    /// Households with an open conflict on their phone number.
    #[arg(long, default_value_t = 1_000)]
    pub conflicts: u32,
    /// Households moved to another officer after their history was written.
    #[arg(long, default_value_t = 2_000)]
    pub reassignments: u32,
    /// The random seed: the same seed builds the same programme (ids and times aside).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The password of every seeded user (`seed-admin`, `seed-agency-admin-N`,
    /// `seed-officer-N`).
    #[arg(
        long,
        env = "KAMPUNG_SEED_PASSWORD",
        default_value = "seed-password-2026"
    )]
    pub password: String,
}

/// `kampung-sync pii ...`.
#[derive(Debug, Subcommand)]
pub enum PiiAction {
    /// Print a new random master key, the base64 of 32 bytes, for `KAMPUNG_PII_KEY`.
    NewKey,
    /// Re-seal every stored KK and NIK number under the current key (`KAMPUNG_PII_KEY`)
    /// and recompute its blind index, in one transaction; the old keys must be in
    /// `KAMPUNG_PII_OLD_KEYS`. Prints how many households were re-sealed.
    Rotate {
        /// The database.
        #[command(flatten)]
        db: DbArgs,
        /// The keys.
        #[command(flatten)]
        pii: PiiArgs,
    },
}

/// The master keys of the KK and NIK numbers. Set them in the environment rather than on
/// the command line, where other users of the machine can read them.
#[derive(Clone, Default, Args)]
pub struct PiiArgs {
    /// The master key: the base64 of 32 random bytes (`kampung-sync pii new-key`).
    /// Required when several instances share one PostgreSQL; otherwise generated into
    /// `<data>/pii-key` on first start.
    #[arg(long, env = "KAMPUNG_PII_KEY", hide_env_values = true)]
    pub pii_key: Option<String>,
    /// Earlier master keys, comma-separated: still read, never written, until `kampung-sync
    /// pii rotate` has re-sealed what they sealed.
    #[arg(
        long,
        env = "KAMPUNG_PII_OLD_KEYS",
        hide_env_values = true,
        value_delimiter = ','
    )]
    pub pii_old_keys: Vec<String>,
}

/// Says whether keys are set, never what they are.
impl std::fmt::Debug for PiiArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PiiArgs")
            .field("pii_key", &self.pii_key.as_ref().map(|_| "(set)"))
            .field("pii_old_keys", &self.pii_old_keys.len())
            .finish()
    }
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
    /// How many months of visits and aid an officer's device pulls: older ones stay on the
    /// server (a phone has no use for them and should not carry them).
    #[arg(long, env = "KAMPUNG_HISTORY_MONTHS", default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=120))]
    pub history_months: u32,
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
    /// The key of the KK and NIK numbers.
    #[command(flatten)]
    pub pii: PiiArgs,
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
    /// Create users in bulk from a CSV file (`username,display_name,agency[,role]`), with
    /// the rules of `POST /v1/admin/users/import`: all rows or none, existing user names
    /// skipped. Prints the report as JSON, with each new user's one-time password; exits
    /// with status 1 when a row is refused.
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

/// Household actions.
#[derive(Debug, Subcommand)]
pub enum HouseholdAction {
    /// Register households in bulk from a registry's CSV file, with the rules of
    /// `POST /v1/admin/households/import`: all rows or none, registry entries already
    /// registered skipped. Written as administrator `--as` (through their console device).
    /// Prints progress to standard error and the report as JSON; exits with status 1 when a
    /// row is refused. Files beyond the HTTP body limit go this way.
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
        /// The administrator's user name the import acts as.
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
        /// The key of the KK and NIK numbers: the server's (`KAMPUNG_PII_KEY` or the key
        /// file in the data folder).
        #[command(flatten)]
        pii: PiiArgs,
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
    /// Months of visits and aid an officer's device pulls.
    pub history_months: u32,
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
            history_months: self.history_months.clamp(1, 120),
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
            history_months: 12,
            pool_size: None,
            workers: None,
            header_timeout_secs: 10,
            body_timeout_secs: 120,
            keep_alive_secs: 15,
            max_connections: 512,
            cors_origins: Vec::new(),
            access_ttl_secs: 15 * 60,
            refresh_ttl_days: 180,
            pii: PiiArgs::default(),
            load: LoadArgs::default(),
            retention: RetentionArgs::default(),
            reporting: ReportingArgs::default(),
        }
    }
}
