use std::process::ExitCode;

use clap::Parser;
use kampung_sync::auth::{self, Keys};
use kampung_sync::config::{Cli, Command, EpochAction};
use kampung_sync::db::{self, Backend};
use kampung_sync::startup::Application;
use kampung_sync::telemetry;

fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
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
            let applied = db::migrate(&Backend::from_url(&args.database_url)?)?;
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
            let backend = Backend::from_url(&args.database_url)?;
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
        Command::Token(args) => {
            let secret = match args.jwt_secret {
                Some(s) => s.into_bytes(),
                None => auth::load_or_create_secret(&args.data_dir)?,
            };
            let device = args
                .device
                .parse()
                .map_err(|_| anyhow::anyhow!("--device must be a UUID"))?;
            println!(
                "{}",
                Keys::from_secret(&secret).mint(&args.user, device, args.ttl_secs)?
            );
            Ok(())
        }
    }
}
