use std::process::ExitCode;

use clap::Parser;
use std::io::{BufRead, IsTerminal, Write};

use kampung_sync::api::accounts::NewUserRequest;
use kampung_sync::api::admin::NewAgency;
use kampung_sync::api::areas::NewArea;
use kampung_sync::auth::{Role, password};
use kampung_sync::config::{
    AgencyAction, AreaAction, AssignmentAction, Cli, Command, DbArgs, EpochAction, HouseholdAction,
    PiiAction, SeedArgs, TablesAction, UserAction, UserResetArgs,
};
use kampung_sync::db::PooledConn;
use kampung_sync::db::{self, Backend};
use kampung_sync::error::ApiError;
use kampung_sync::ids::AgencyId;
use kampung_sync::service::audit::{self, Entry};
use kampung_sync::service::{self, accounts, admin, housekeeping, identity};
use kampung_sync::startup::Application;
use kampung_sync::telemetry;

fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Not through the log as well: text logs go to standard error too, and the
            // message would be printed twice.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => actix_web::rt::System::new().block_on(async move {
            let app = Application::build(args)?;
            app.run().await?;
            Ok(())
        }),
        Command::Migrate(args) => {
            let applied = db::migrate(&Backend::from_url(&args.url())?)?;
            if applied.is_empty() {
                println!("database is up to date");
            }
            for version in applied {
                println!("applied {version}");
            }
            Ok(())
        }
        Command::Epoch { action } => {
            let (args, bump) = match action {
                EpochAction::Show(a) => (a, false),
                EpochAction::Bump(a) => (a, true),
            };
            let backend = Backend::from_url(&args.url())?;
            let pool = db::open(&backend, 1)?;
            let mut conn = pool.get()?;
            let epoch = if bump {
                db::meta::bump_epoch(&mut conn)?
            } else {
                db::meta::epoch(&mut conn)?
            };
            println!("{epoch}");
            Ok(())
        }
        Command::User {
            action: UserAction::Add(args),
        } => {
            let role: Role = args
                .role
                .parse()
                .map_err(|_| anyhow::anyhow!("--role is officer, agency_admin or regency_admin"))?;
            let agency_id = args
                .agency
                .as_deref()
                .map(str::parse::<AgencyId>)
                .transpose()
                .map_err(|_| anyhow::anyhow!("--agency is an agency id (a UUID)"))?;
            let (password, generated) = read_or_generate_password()?;
            let mut conn = open(&args.db)?;
            let user = accounts::create_user(
                &mut conn,
                NewUserRequest {
                    display_name: args.display_name.unwrap_or_else(|| args.username.clone()),
                    username: args.username,
                    role,
                    agency_id,
                    password: password.clone(),
                },
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            audit::append(
                &mut conn,
                Entry::system(
                    "user_created",
                    Some(&user.id.to_string()),
                    serde_json::json!({"username": user.username, "role": role, "via": "command line"}),
                ),
            );
            println!("created {} ({}) with id {}", user.username, role, user.id);
            if generated {
                println!("password: {password}");
            }
            Ok(())
        }
        Command::User {
            action: UserAction::ResetPassword(args),
        } => reset_password(args),
        Command::User {
            action: UserAction::Import { db, file, dry_run },
        } => {
            let csv = std::fs::read(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let mut conn = open(&db)?;
            let report = admin::import_users_as_operator(&mut conn, &csv, dry_run)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", serde_json::to_string(&report)?);
            if !report.refused.is_empty() {
                anyhow::bail!(
                    "import_refused: {} of the file's rows refused; nothing was written",
                    report.refused.len()
                );
            }
            Ok(())
        }
        Command::Tables { action } => {
            let (args, rebuild) = match action {
                TablesAction::Rebuild(a) => (a, true),
                TablesAction::Verify(a) => (a, false),
            };
            let mut conn = open(&args)?;
            if rebuild {
                let n = db::write_tx(&mut conn, db::typed_tables::rebuild)?;
                println!("rebuilt the rows of {n} records");
                return Ok(());
            }
            let differences = db::typed_tables::verify(&mut conn)?;
            for d in &differences {
                println!("{d}");
            }
            anyhow::ensure!(
                differences.is_empty(),
                "{} rows differ from the merge state; `kampung-sync tables rebuild` recomputes them",
                differences.len()
            );
            println!("every row agrees with the merge state");
            Ok(())
        }
        Command::Seed(args) => seed(args),
        Command::Pii {
            action: PiiAction::NewKey,
        } => {
            println!("{}", kampung_sync::pii::generate_master_key()?);
            Ok(())
        }
        Command::Pii {
            action: PiiAction::Rotate { db, pii },
        } => {
            let mut conn = open(&db)?;
            let rotation = identity::rotate_keys(&mut conn, &pii, &db.data_dir)?;
            println!(
                "re-sealed the KK and NIK numbers of {} households under key {}{}",
                rotation.resealed,
                rotation.key_id,
                if rotation.from_keys.is_empty() {
                    String::new()
                } else {
                    format!(" (from {})", rotation.from_keys.join(", "))
                }
            );
            Ok(())
        }
        Command::Housekeeping { db, retention } => {
            let mut conn = open(&db)?;
            let swept =
                housekeeping::sweep(&mut conn, &retention).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", serde_json::to_string(&swept)?);
            Ok(())
        }
        Command::Agency {
            action: AgencyAction::Add { db, name, kind },
        } => {
            let mut conn = open(&db)?;
            let agency = admin::insert_agency(&mut conn, NewAgency { name, kind })
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            audit::append(
                &mut conn,
                Entry::system(
                    "agency_created",
                    Some(&agency.id.to_string()),
                    serde_json::json!({"name": agency.name, "kind": agency.kind, "via": "command line"}),
                ),
            );
            println!("{}", agency.id);
            Ok(())
        }
        Command::Assignment {
            action: AssignmentAction::Import { db, file, dry_run },
        } => {
            let csv = std::fs::read(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let mut conn = open(&db)?;
            let report = admin::import_assignments_as_operator(&mut conn, &csv, dry_run)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", serde_json::to_string(&report)?);
            if !report.refused.is_empty() {
                anyhow::bail!(
                    "import_refused: {} of the file's rows refused; nothing was written",
                    report.refused.len()
                );
            }
            Ok(())
        }
        Command::Household {
            action:
                HouseholdAction::Import {
                    db,
                    file,
                    dry_run,
                    as_user,
                    pii,
                },
        } => {
            let csv = std::fs::read(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let mut conn = open(&db)?;
            // As the server's first start does: an import may come before it.
            let keys = identity::open_keys(&mut conn, &pii, &db.data_dir, true)?;
            let started = std::time::Instant::now();
            let mut progress = |p: admin::Progress| {
                eprintln!(
                    "{:>6.1}s  validated {}/{}  written {}",
                    started.elapsed().as_secs_f64(),
                    p.validated,
                    p.rows,
                    p.written
                );
            };
            let report = admin::import_households_as(
                &mut conn,
                &keys,
                &as_user,
                &csv,
                dry_run,
                &mut progress,
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", serde_json::to_string(&report)?);
            if !report.refused.is_empty() {
                anyhow::bail!(
                    "import_refused: {} of the file's rows refused; nothing was written",
                    report.refused.len()
                );
            }
            Ok(())
        }
        Command::Area {
            action:
                AreaAction::Add {
                    db,
                    code,
                    parent,
                    level,
                    name,
                },
        } => {
            let level = level
                .parse()
                .map_err(|_| anyhow::anyhow!("--level is kecamatan, desa or kelurahan"))?;
            let mut conn = open(&db)?;
            let area = admin::insert_area(
                &mut conn,
                NewArea {
                    code,
                    parent_code: parent,
                    level,
                    name,
                },
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            audit::append(
                &mut conn,
                Entry::system(
                    "area_added",
                    Some(&area.code),
                    serde_json::json!({"level": area.level, "parent_code": area.parent_code,
                                       "name": area.name, "via": "command line"}),
                ),
            );
            println!("added {} {} {}", area.level, area.code, area.name);
            Ok(())
        }
    }
}

/// `seed`: migrates, then builds the programme with a progress line per step on stderr.
fn seed(args: SeedArgs) -> anyhow::Result<()> {
    db::migrate(&Backend::from_url(&args.db.url())?)?;
    let mut conn = open(&args.db)?;
    let plan = service::seed::Plan {
        agencies: args.agencies as usize,
        officers: args.officers as usize,
        households: args.households as usize,
        visits: args.visits as usize,
        aid: args.aid as usize,
        conflicts: args.conflicts as usize,
        reassignments: args.reassignments as usize,
        seed: args.seed,
        password: args.password,
    };
    let started = std::time::Instant::now();
    let built = service::seed::run(&mut conn, &plan, &mut |line| {
        eprintln!("[{:>6.1} s] {line}", started.elapsed().as_secs_f64());
    })
    .map_err(anyhow::Error::new)?;
    println!(
        "seeded {} records ({} conflicts, {} reassignments) in {:.1} s",
        built.records,
        built.conflicts,
        built.reassignments,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn open(args: &DbArgs) -> anyhow::Result<PooledConn> {
    let pool = db::open(&Backend::from_url(&args.url())?, 1)?;
    Ok(pool.get()?)
}

/// `user reset-password`. The new password is shown before the reset commits: one that
/// could not be printed is never set.
fn reset_password(args: UserResetArgs) -> anyhow::Result<()> {
    let (password, generated) = read_or_generate_password()?;
    let mut conn = open(&args.db)?;
    accounts::reset_password(&mut conn, &args.username, &password, |reset| {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "reset the password of {}: it must be changed at the next sign-in; revoked \
             refresh credentials: {}",
            reset.user.username, reset.revoked_credentials
        )
        .and_then(|()| {
            if generated {
                writeln!(out, "password: {password}")
            } else {
                Ok(())
            }
        })
        .and_then(|()| out.flush())
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("cannot print to standard output: {e}")))
    })
    .map_err(anyhow::Error::new)?;
    Ok(())
}

/// One line from standard input, or a generated password when there is none to read.
fn read_or_generate_password() -> anyhow::Result<(String, bool)> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        if !line.is_empty() {
            return Ok((line, false));
        }
    }
    Ok((password::generate()?, true))
}
