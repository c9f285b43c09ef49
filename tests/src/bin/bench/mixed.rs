//! Scenario `mixed`: the benchmark as it was until 2026-11-30, kept for comparison with the
//! older sections of `docs/benchmarks.md`. Many devices push households and visits at
//! once (one operation in three a household put on top of the version last seen, two in
//! three visit reports), then a new device pulls everything at the server's default page
//! size (200), and the server's memory is read.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use uuid::Uuid;

use crate::client::{self, OFFICER_PASSWORD};
use crate::report::{Basis, Figure, Report, num};
use crate::stats::{Spread, cpu_mark, mib, rss};
use crate::workload::mixed_op;
use crate::{Ctx, Stage};

/// The scenario.
pub fn scenario(ctx: &Ctx, report: &mut Report) -> anyhow::Result<()> {
    let args = &ctx.args;
    // The server's defaults, as the old runs had them (pages of 200).
    let stage = Stage::new(ctx, &ctx.base_flags())?;
    let server = &stage.server;
    let base = &server.base;
    let officers = client::sign_in_officers(server, args.mixed_devices, args.setup_threads)?;
    let (idle_rss, _) = rss(server.pid());
    let total_ops = args.mixed_devices * args.mixed_ops_per_device;
    let progress = crate::stats::Progress::start(
        format!("mixed push, {} devices", args.mixed_devices),
        Some(total_ops as u64),
        "ops",
    );
    let before = cpu_mark(server.pid());
    let started = Instant::now();
    let latencies: anyhow::Result<Vec<f64>> = std::thread::scope(|sc| {
        let handles: Vec<_> = officers
            .iter()
            .map(|o| {
                let progress = &progress;
                sc.spawn(move || -> anyhow::Result<Vec<f64>> {
                    let a = client::agent(Duration::from_secs(120));
                    let households: Vec<Uuid> = (0..10).map(|_| Uuid::now_v7()).collect();
                    let mut versions = [0u64; 10];
                    let mut lat = Vec::new();
                    let mut seq = 0u64;
                    while (seq as usize) < args.mixed_ops_per_device {
                        let n = args
                            .mixed_batch
                            .min(args.mixed_ops_per_device - seq as usize);
                        let ops: Vec<Value> = (0..n)
                            .map(|_| {
                                seq += 1;
                                let h = (seq as usize / 3) % 10;
                                mixed_op(seq, households[h], versions[h])
                            })
                            .collect();
                        let t = Instant::now();
                        let (st, body) = client::call(
                            &a,
                            "POST",
                            &format!("{base}/v1/sync/push"),
                            Some(&o.token),
                            Some(&json!({"device_id": o.device, "ops": ops})),
                        )?;
                        lat.push(t.elapsed().as_secs_f64() * 1000.0);
                        anyhow::ensure!(st == 200, "{body}");
                        for r in body["results"].as_array().into_iter().flatten() {
                            anyhow::ensure!(
                                r["status"] == "applied" || r["status"] == "conflict",
                                "{r}"
                            );
                            if r["record"]["collection"] == "households"
                                && let Some(id) = r["record"]["id"].as_str()
                                && let Some(i) = households.iter().position(|x| x.to_string() == id)
                            {
                                versions[i] = r["record"]["version"].as_u64().unwrap_or(0);
                            }
                        }
                        progress.add(n as u64);
                    }
                    Ok(lat)
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            all.extend(h.join().unwrap()?);
        }
        Ok(all)
    });
    let push_secs = started.elapsed().as_secs_f64();
    let push_cpu = before.until(&cpu_mark(server.pid()));
    drop(progress);
    let lat = Spread::of(latencies?);

    let a = client::agent(Duration::from_secs(120));
    let (token, _) = client::login(&a, base, &officers[0].user, OFFICER_PASSWORD)?;
    let before = cpu_mark(server.pid());
    let started = Instant::now();
    let (got, _) = client::pull(&a, base, &token, None, false, None)?;
    let pull_secs = started.elapsed().as_secs_f64();
    let pull_cpu = before.until(&cpu_mark(server.pid()));
    let (now_rss, peak) = rss(server.pid());

    let what = format!(
        "{} devices × {} ops, {} per push",
        args.mixed_devices, args.mixed_ops_per_device, args.mixed_batch
    );
    let rate = total_ops as f64 / push_secs;
    report.add(
        Figure::new(
            "mixed",
            format!("{what}: push throughput"),
            format!("{} ops/s ({push_secs:.1} s)", num(rate)),
        )
        .vs(rate, Basis::PushRate),
    );
    report.add(
        Figure::new(
            "mixed",
            format!("{what}: latency per push p50 / p95 / p99 / max"),
            format!(
                "{} / {} / {} / {} ms",
                num(lat.p50),
                num(lat.p95),
                num(lat.p99),
                num(lat.max)
            ),
        )
        .vs(lat.p50, Basis::BatchMs(0))
        .vs(lat.p95, Basis::BatchMs(1))
        .vs(lat.p99, Basis::BatchMs(2)),
    );
    let pull_rate = got.records as f64 / pull_secs;
    report.add(
        Figure::new(
            "mixed",
            format!(
                "full pull of {} records in {} pages",
                num(got.records as f64),
                got.pages
            ),
            format!("{} records/s ({pull_secs:.1} s)", num(pull_rate)),
        )
        .vs(pull_rate, Basis::PullRate),
    );
    report.add(Figure::new(
        "mixed",
        "server memory: after setup / at the end / peak",
        format!(
            "{:.0} / {:.0} / {:.0} MiB",
            mib(idle_rss),
            mib(now_rss),
            mib(peak)
        ),
    ));
    report.cpu("mixed push", push_cpu);
    report.cpu("mixed pull", pull_cpu);
    Ok(())
}
