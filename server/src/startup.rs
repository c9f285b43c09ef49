//! Building the application: database, keys, HTTP server.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::{Server, Service};
use actix_web::http::header;
use actix_web::{App, HttpMessage, HttpServer, web};

use crate::auth::hashing::PasswordHashing;
use crate::auth::{self, Keys};
use crate::config::{AuthPolicy, Limits, ReportingArgs, ServeArgs};
use crate::db::{self, Backend, Pool};
use crate::in_flight::InFlight;
use crate::pii::PiiKeys;
use crate::request_log::{REQUEST_ID_HEADER, RequestSpan};
use crate::routes;
use crate::service::{accounts, identity};

/// What every handler can reach.
pub struct AppState {
    /// Database pool.
    pub pool: Pool,
    /// Enforced limits.
    pub limits: Limits,
    /// Token lifetimes.
    pub auth: AuthPolicy,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// The password checks, apart from database connections.
    pub hashing: PasswordHashing,
    /// Requests in progress per device and per user.
    pub in_flight: Arc<InFlight>,
    /// The data folder (the first administrator's password file is there).
    pub data_dir: std::path::PathBuf,
    /// The keys of the KK and NIK numbers.
    pub pii: PiiKeys,
    /// Report thresholds.
    pub reporting: ReportingArgs,
}

/// A built, not yet running, server.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Opens and migrates the database, loads the token secret, binds the listener.
    /// Must be called inside an actix system.
    pub fn build(args: ServeArgs) -> anyhow::Result<Application> {
        // The secret and the port first: a start that cannot serve must fail before it
        // writes anything (such as the first administrator).
        let listener = TcpListener::bind(&args.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.bind))?;
        let secret = match &args.jwt_secret {
            Some(s) => {
                anyhow::ensure!(
                    s.len() >= 32,
                    "the token secret must be at least 32 characters"
                );
                s.as_bytes().to_vec()
            }
            None => auth::load_or_create_secret(&args.db.data_dir)?,
        };
        crate::pii::check_configured(&args.pii)?;
        let backend = Backend::from_url(&args.db.url())?;
        let pool_size = args.pool_size.unwrap_or(match backend {
            Backend::Sqlite(_) => 4,
            Backend::Postgres(_) => 16,
        });
        let pool = db::open(&backend, pool_size)?;
        let mut conn = pool.get()?;
        // Before anything is written: a server that could not open the stored numbers, or
        // would seal new ones under a second key, must not start.
        let pii = identity::open_keys(&mut conn, &args.pii, &args.db.data_dir, true)?;
        if let Some(first) = accounts::bootstrap_admin(&mut conn, &args.db.data_dir)
            .map_err(|e| anyhow::anyhow!("cannot create the first administrator: {e:#}"))?
        {
            first.announce();
        }
        drop(conn);
        crate::auth::password::prepare();
        let keys = web::Data::new(Keys::from_secret(&secret));
        let limits = args.limits();
        let state = web::Data::new(AppState {
            pool,
            limits,
            auth: args.auth_policy(),
            backend: backend.name(),
            hashing: PasswordHashing::new(
                args.load.password_checks(),
                Duration::from_millis(args.load.password_queue_ms),
            ),
            in_flight: InFlight::new(args.load.device_concurrency, args.load.user_concurrency),
            data_dir: args.db.data_dir.clone(),
            pii,
            reporting: args.reporting,
        });
        spawn_housekeeping(state.clone(), args.retention);
        let port = listener.local_addr()?.port();
        tracing::info!(address = %listener.local_addr()?, backend = backend.name(), "listening");

        let body_timeout = Duration::from_secs(args.body_timeout_secs);
        let workers = args.workers.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        let cors_origins = args.cors_origins.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(keys.clone())
                .app_data(web::PayloadConfig::default().limit(limits.max_body_bytes))
                // Inside the request log: preflights are logged and carry a request id too.
                .wrap(crate::cors::middleware(&cors_origins))
                .wrap_fn(move |mut req, srv| {
                    let started = Instant::now();
                    crate::body_timeout::limit_body_time(&mut req, body_timeout);
                    crate::decompress::decode_within_limit(&mut req, limits.max_body_bytes);
                    let request_id = req
                        .extensions()
                        .get::<tracing_actix_web::RequestId>()
                        .map(ToString::to_string);
                    let fut = srv.call(req);
                    async move {
                        let mut res = fut.await?;
                        tracing::info!(
                            status = res.status().as_u16(),
                            ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                            "request"
                        );
                        if let Some(id) =
                            request_id.and_then(|id| header::HeaderValue::from_str(&id).ok())
                        {
                            res.headers_mut()
                                .insert(header::HeaderName::from_static(REQUEST_ID_HEADER), id);
                        }
                        Ok(res)
                    }
                })
                // Outermost: the request's span covers everything above, the log line too.
                .wrap(tracing_actix_web::TracingLogger::<RequestSpan>::new())
                .configure(routes::configure)
                .default_service(web::to(routes::not_found))
        })
        // Answers go out in several writes (a compressed page is streamed): with Nagle's
        // algorithm each page waited for the client's delayed ACK, about 40 ms.
        .on_connect(|conn, _| {
            if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
                let _ = tcp.set_nodelay(true);
            }
        })
        .workers(workers)
        .client_request_timeout(Duration::from_secs(args.header_timeout_secs))
        .keep_alive(Duration::from_secs(args.keep_alive_secs))
        // actix counts connections per worker; the setting is the whole server's.
        .max_connections(args.max_connections.div_ceil(workers))
        .listen(listener)?;
        Ok(Application {
            port,
            server: server.run(),
        })
    }

    /// The bound port (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped.
    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Runs housekeeping now and then every `retention.housekeeping_minutes`, on the blocking
/// pool, for as long as the server's system runs.
fn spawn_housekeeping(state: web::Data<AppState>, retention: crate::config::RetentionArgs) {
    let every = Duration::from_secs(retention.housekeeping_minutes * 60);
    actix_web::rt::spawn(async move {
        let mut ticks = actix_web::rt::time::interval(every);
        loop {
            ticks.tick().await;
            let swept = crate::service::with_conn(&state, move |conn, _| {
                crate::service::housekeeping::sweep(conn, &retention)
            })
            .await;
            match swept {
                Ok(s) => tracing::info!(
                    audit_entries = s.audit_entries,
                    refresh_credentials = s.refresh_credentials,
                    sign_in_counters = s.sign_in_counters,
                    "housekeeping"
                ),
                Err(e) => tracing::warn!(error = %e, "housekeeping failed; retried next time"),
            }
        }
    });
}
