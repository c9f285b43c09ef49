//! Scenario `latency`: many devices at once, each syncing one visit in a loop (push one
//! visit, then pull from its cursor until up to date) for a fixed time. Everyone sees
//! everything today, so a pull also brings the others' visits: the realistic load.

use std::sync::Barrier;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::client;
use crate::report::{Basis, Figure, Report, ms, num};
use crate::stats::{Progress, Spread, cpu_mark};
use crate::workload::{Visit, push_body, visit_fields};
use crate::{Ctx, Stage};

/// One device's syncs.
#[derive(Default)]
struct DeviceRun {
    sync_ms: Vec<f64>,
    push_ms: Vec<f64>,
    pull_ms: Vec<f64>,
    records: usize,
    pages: usize,
}

/// The scenario.
pub fn scenario(ctx: &Ctx, report: &mut Report) -> anyhow::Result<()> {
    let devices = ctx.args.latency_devices;
    let stage = Stage::new(ctx, &ctx.server_flags())?;
    let server = &stage.server;
    let base = &server.base;
    let officers = client::sign_in_officers(server, devices, ctx.args.setup_threads)?;
    let run_for = Duration::from_secs(ctx.args.latency_secs);
    let start = Barrier::new(devices + 1);
    let progress = Progress::start(
        format!("latency, {devices} devices syncing one visit at a time"),
        None,
        "syncs",
    );
    let (runs, secs, cpu) = std::thread::scope(|sc| {
        let handles: Vec<_> = officers
            .iter()
            .enumerate()
            .map(|(n, o)| {
                let (start, progress) = (&start, &progress);
                std::thread::Builder::new()
                    .stack_size(512 * 1024)
                    .spawn_scoped(sc, move || -> anyhow::Result<DeviceRun> {
                        let a = client::agent(Duration::from_secs(120));
                        // Up to date before the clock starts (the database is empty).
                        let first = client::pull(&a, base, &o.token, None, false, None);
                        start.wait();
                        let (_, mut cursor) = first?;
                        let deadline = Instant::now() + run_for;
                        let household = Uuid::now_v7();
                        let (mut run, mut seq, mut previous) =
                            (DeviceRun::default(), 0u64, Uuid::new_v4());
                        while Instant::now() < deadline {
                            seq += 1;
                            let id = Uuid::now_v7();
                            let fields =
                                visit_fields(n * 100_000 + seq as usize, household, previous);
                            let v = Visit {
                                id,
                                doc: String::new(),
                                fields,
                                hlc_ms: u64::try_from(chrono::Utc::now().timestamp_millis())
                                    .unwrap_or(0),
                            };
                            previous = id;
                            let body = push_body(o.device, seq, std::slice::from_ref(&v), false);
                            let t = Instant::now();
                            let pushed = client::push(&a, base, &o.token, &body, (seq, seq), true)?;
                            let t_pull = Instant::now();
                            let (got, next) =
                                client::pull(&a, base, &o.token, Some(cursor), false, None)?;
                            run.pull_ms.push(t_pull.elapsed().as_secs_f64() * 1000.0);
                            run.sync_ms.push(t.elapsed().as_secs_f64() * 1000.0);
                            run.push_ms.push(pushed.ms);
                            run.records += got.records;
                            run.pages += got.pages;
                            cursor = next;
                            progress.add(1);
                        }
                        Ok(run)
                    })
                    .unwrap()
            })
            .collect();
        start.wait();
        let before = cpu_mark(server.pid());
        let started = Instant::now();
        let runs: Vec<anyhow::Result<DeviceRun>> =
            handles.into_iter().map(|h| h.join().unwrap()).collect();
        let secs = started.elapsed().as_secs_f64();
        (runs, secs, before.until(&cpu_mark(server.pid())))
    });
    drop(progress);
    let runs = runs.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    let syncs: usize = runs.iter().map(|r| r.sync_ms.len()).sum();
    let records: usize = runs.iter().map(|r| r.records).sum();
    let pages: usize = runs.iter().map(|r| r.pages).sum();
    let sync = Spread::of(runs.iter().flat_map(|r| r.sync_ms.clone()).collect());
    let push = Spread::of(runs.iter().flat_map(|r| r.push_ms.clone()).collect());
    let pull = Spread::of(runs.iter().flat_map(|r| r.pull_ms.clone()).collect());
    let what = format!(
        "{devices} devices, one-visit syncs for {} s",
        run_for.as_secs()
    );
    report.add(
        Figure::new(
            "latency",
            format!("{what}: whole sync (push + pull) p50 / p95 / p99"),
            format!(
                "{} / {} / {} ms (max {})",
                ms(sync.p50),
                ms(sync.p95),
                ms(sync.p99),
                ms(sync.max)
            ),
        )
        .vs(sync.p50, Basis::SyncMs(0))
        .vs(sync.p95, Basis::SyncMs(1))
        .vs(sync.p99, Basis::SyncMs(2))
        .below(sync.p99, 50.0, "ms p99"),
    );
    report.add(Figure::new(
        "latency",
        format!("{what}: syncs"),
        format!(
            "{} ({} syncs/s)",
            num(syncs as f64),
            num(syncs as f64 / secs)
        ),
    ));
    report.add(
        Figure::new(
            "latency",
            format!("{what}: push part p50 / p99"),
            format!("{} / {} ms", ms(push.p50), ms(push.p99)),
        )
        .vs(push.p50, Basis::SyncMs(0))
        .vs(push.p99, Basis::SyncMs(2)),
    );
    report.add(
        Figure::new(
            "latency",
            format!("{what}: pull part p50 / p99"),
            format!("{} / {} ms", ms(pull.p50), ms(pull.p99)),
        )
        .vs(pull.p50, Basis::SyncMs(0))
        .vs(pull.p99, Basis::SyncMs(2)),
    );
    report.add(Figure::new(
        "latency",
        format!("{what}: records the pulls carried"),
        format!(
            "{} ({:.1} per pull, {pages} pages)",
            num(records as f64),
            records as f64 / syncs.max(1) as f64
        ),
    ));
    report.cpu(format!("latency, {devices} devices"), cpu);
    Ok(())
}
