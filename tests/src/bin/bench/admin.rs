//! Scenario `admin`: the supervisors' reports (and any list URLs given) on a seeded
//! programme, as a regency admin (`seed-admin`) and as an agency admin
//! (`seed-agency-admin-1`), each URL `--admin-runs` times one after another: median and p95,
//! held to 300 ms (reports) and 50 ms (lists). Then the query plans of the slowest reports
//! (`EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN ANALYZE` on PostgreSQL), run through diesel on
//! the same statements the endpoints run.
//!
//! The database is `--admin-db` (an already seeded one: seeding the full size takes about
//! ten minutes on SQLite, so it is seeded once and reused), else a fresh one seeded here by
//! `kampung-sync seed` at the `--admin-*` sizes.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kampung_sync::config::ReportingArgs;
use kampung_sync::db::admin_reports::explain;
use kampung_sync::service::reports::sample_statements;
use serde_json::json;

use crate::report::{Basis, Figure, Report, ms, num};
use crate::server::{Db, Server};
use crate::stats::Spread;
use crate::{Ctx, client};

/// The seeded users' password (`kampung-sync seed --password`'s default).
const SEED_PASSWORD: &str = "seed-password-2026";

/// The reports measured: `/v1/admin/reports/` and these. Each is also the name of its
/// statements in `sample_statements`, so that its plan can be printed.
const REPORTS: &[&str] = &[
    "coverage?group_by=kecamatan",
    "coverage?group_by=desa",
    "coverage?group_by=agency",
    "aid?group_by=kecamatan",
    "aid?group_by=agency",
    "aid?group_by=month",
    "locations?group_by=kecamatan",
    "locations?group_by=agency",
    "locations?group_by=month",
    "conditions?group_by=kecamatan",
    "conditions?group_by=month",
    "officers",
];

fn seed(ctx: &Ctx, db: &Db) -> anyhow::Result<()> {
    let a = &ctx.args;
    let h = a.admin_households;
    eprintln!(
        "bench: seeding {} households, {} visits, {} aid",
        num(h as f64),
        num(a.admin_visits as f64),
        num(a.admin_aid as f64)
    );
    let started = Instant::now();
    let out = Command::new(&ctx.bin)
        .arg("seed")
        .args(["--households", &h.to_string()])
        .args(["--visits", &a.admin_visits.to_string()])
        .args(["--aid", &a.admin_aid.to_string()])
        .args(["--officers", &a.admin_officers.to_string()])
        .args(["--agencies", &a.admin_agencies.to_string()])
        .args(["--conflicts", &(h / 100).to_string()])
        .args(["--reassignments", &(h / 50).to_string()])
        .env("DATABASE_URL", &db.url)
        .env("KAMPUNG_DATA_DIR", db.dir.join("data"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()?;
    anyhow::ensure!(out.success(), "kampung-sync seed failed");
    eprintln!("bench: seeded in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Signs `user` in: the token and the user's agency.
fn sign_in(base: &str, user: &str) -> anyhow::Result<(String, Option<String>)> {
    let agent = client::agent(Duration::from_secs(60));
    let (st, body) = client::call(
        &agent,
        "POST",
        &format!("{base}/v1/auth/login"),
        None,
        Some(&json!({"username": user, "password": SEED_PASSWORD,
                     "device_id": uuid::Uuid::now_v7()})),
    )?;
    anyhow::ensure!(
        st == 200,
        "sign-in of {user}: {st} {body} (is the database seeded?)"
    );
    Ok((
        body["access_token"].as_str().unwrap_or_default().to_owned(),
        body["user"]["agency_id"].as_str().map(str::to_owned),
    ))
}

/// `runs` timed GETs of `url` after one untimed (which must answer 200): milliseconds.
fn time(base: &str, url: &str, token: &str, runs: usize) -> anyhow::Result<Spread> {
    let agent = client::agent(Duration::from_secs(600));
    let full = format!("{base}{url}");
    let first = client::get_raw(&agent, &full, token, false)?;
    anyhow::ensure!(
        first.status == 200,
        "GET {url}: {} {}",
        first.status,
        String::from_utf8_lossy(&first.body)
    );
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let r = client::get_raw(&agent, &full, token, false)?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(r.status == 200, "GET {url}: {}", r.status);
    }
    Ok(Spread::of(times))
}

/// The scenario.
pub fn scenario(ctx: &Ctx, report: &mut Report) -> anyhow::Result<()> {
    let a = &ctx.args;
    let db = match &a.admin_db {
        Some(url) => Db::existing(url)?,
        None => {
            let db = Db::fresh(a.backend)?;
            seed(ctx, &db)?;
            db
        }
    };
    // Statistics as a database in use has them: PostgreSQL's autovacuum gathers them a
    // while after a seed (without them it took the month list for the big side of a join);
    // SQLite has them only when asked, and nothing asks, so its plans are measured without
    // (with them, an ANALYZE here hid a list page that took 2.5 s without).
    if let kampung_sync::db::AnyConnection::Postgresql(c) = &mut kampung_sync::db::connect(&db.url)?
    {
        use diesel::connection::SimpleConnection;
        c.batch_execute("ANALYZE")?;
    }
    let server = Server::start_seeded(&ctx.bin, &db, &ctx.base_flags())?;
    let mut urls: Vec<(String, f64)> = REPORTS
        .iter()
        .map(|r| (format!("/v1/admin/reports/{r}"), 300.0))
        .collect();
    urls.extend(a.admin_urls.iter().map(|u| (u.clone(), 50.0)));
    let mut slowest: Vec<(f64, &'static str, String, Option<String>)> = Vec::new();
    for (who, user) in [
        ("regency admin", "seed-admin"),
        ("agency admin", "seed-agency-admin-1"),
    ] {
        let (token, agency) = sign_in(&server.base, user)?;
        for (url, limit) in &urls {
            eprintln!("bench: {who}: GET {url} x{}", a.admin_runs);
            let s = time(&server.base, url, &token, a.admin_runs)?;
            report.add(
                Figure::new(
                    "admin",
                    format!("{who}: `GET {url}`, p50 / p95 of {}", s.count),
                    format!("{} / {} ms", ms(s.p50), ms(s.p95)),
                )
                .vs(s.p50, Basis::SyncMs(0))
                .vs(s.p95, Basis::SyncMs(1))
                .below(s.p50, *limit, "ms"),
            );
            if let Some(name) = url.strip_prefix("/v1/admin/reports/") {
                slowest.push((s.p50, who, name.to_owned(), agency.clone()));
            }
        }
    }
    drop(server);

    slowest.sort_by(|x, y| y.0.total_cmp(&x.0));
    let mut conn = kampung_sync::db::connect(&db.url)?;
    for (p50, who, name, agency) in slowest.into_iter().take(a.admin_plans) {
        let statements = sample_statements(
            agency.as_deref(),
            ReportingArgs::default(),
            chrono::Utc::now(),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        for (n, s) in statements
            .iter()
            .filter(|(n, _)| *n == name || n.starts_with(&format!("{name} (")))
        {
            let plan = explain(&mut conn, &s.sql, &s.args)?;
            report.plan(
                format!("{who}: {n} (p50 {} ms)", ms(p50)),
                s.sql.clone(),
                plan,
            );
        }
    }
    Ok(())
}
