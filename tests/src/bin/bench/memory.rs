//! Scenario `memory`: the server's peak resident memory while many devices sync at once
//! (one thread per device, each pushing a few visits and then pulling from its cursor until
//! up to date). The peak is the server's `VmHWM`, reset with `/proc/<pid>/clear_refs` just
//! before the devices start, so that it is the peak of the burst and not of the sign-ins
//! before it (each costs an Argon2 hash).

use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::client;
use crate::machine::open_files_limit;
use crate::report::{Figure, Report, num};
use crate::stats::{Progress, cpu_mark, mib, reset_peak, rss};
use crate::workload::{Visit, push_body, visit_fields};
use crate::{Ctx, Stage};

fn mem(bytes: f64) -> String {
    format!("{:.0} MiB ({:.0} MB)", mib(bytes), bytes / 1e6)
}

/// The scenario.
pub fn scenario(ctx: &Ctx, report: &mut Report) -> anyhow::Result<()> {
    let devices = ctx.args.memory_devices;
    let visits_each = ctx.args.memory_visits;
    // One loopback socket per device on this side; the server has its own limit.
    let need = devices as u64 + 256;
    if let Some(limit) = open_files_limit() {
        anyhow::ensure!(
            limit >= need,
            "{devices} devices need about {need} open files; `ulimit -n` is {limit}: raise it in \
             the shell (ulimit -n {need}) before running the benchmark"
        );
    }
    let stage = Stage::new(ctx, &ctx.server_flags())?;
    let server = &stage.server;
    let base = &server.base;
    let pid = server.pid();
    let officers = client::sign_in_officers(server, devices, ctx.args.setup_threads)?;
    let ready = Barrier::new(devices + 1);
    let go = Barrier::new(devices + 1);
    let sampling = AtomicBool::new(true);
    let progress = Progress::start(
        format!("memory, {devices} devices syncing at once"),
        Some(devices as u64),
        "syncs",
    );
    let outcome = std::thread::scope(|sc| {
        let handles: Vec<_> = officers
            .iter()
            .enumerate()
            .map(|(n, o)| {
                let (ready, go, progress) = (&ready, &go, &progress);
                std::thread::Builder::new()
                    .stack_size(256 * 1024)
                    .spawn_scoped(sc, move || -> anyhow::Result<(usize, usize)> {
                        let a = client::agent(Duration::from_secs(300));
                        let first = client::pull(&a, base, &o.token, None, false, None);
                        let household = Uuid::now_v7();
                        let clock =
                            u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0);
                        let mut previous = Uuid::new_v4();
                        let visits: Vec<Visit> = (0..visits_each)
                            .map(|k| {
                                let id = Uuid::now_v7();
                                let fields = visit_fields(n * 1000 + k, household, previous);
                                previous = id;
                                Visit {
                                    id,
                                    fields,
                                    doc: String::new(),
                                    hlc_ms: clock + k as u64,
                                }
                            })
                            .collect();
                        let body = push_body(o.device, 1, &visits, false);
                        ready.wait();
                        go.wait();
                        let (_, cursor) = first?;
                        client::push(&a, base, &o.token, &body, (1, visits_each as u64), true)?;
                        let (got, _) = client::pull(&a, base, &o.token, Some(cursor), false, None)?;
                        progress.add(1);
                        Ok((got.records, got.pages))
                    })
                    .unwrap()
            })
            .collect();
        ready.wait();
        let (before_rss, before_peak) = rss(pid);
        let reset = reset_peak(pid);
        let sampler = sc.spawn(|| {
            let mut top = 0.0f64;
            while sampling.load(Ordering::Relaxed) {
                top = top.max(rss(pid).0);
                std::thread::sleep(Duration::from_millis(50));
            }
            top
        });
        let before = cpu_mark(pid);
        let started = Instant::now();
        go.wait();
        let results: Vec<anyhow::Result<(usize, usize)>> =
            handles.into_iter().map(|h| h.join().unwrap()).collect();
        let secs = started.elapsed().as_secs_f64();
        let cpu = before.until(&cpu_mark(pid));
        sampling.store(false, Ordering::Relaxed);
        let sampled = sampler.join().unwrap();
        let (after_rss, peak) = rss(pid);
        (
            results,
            before_rss,
            before_peak,
            reset,
            sampled,
            after_rss,
            peak,
            secs,
            cpu,
        )
    });
    drop(progress);
    let (results, before_rss, before_peak, reset, sampled, after_rss, peak, secs, cpu) = outcome;
    let results = results.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    let records: usize = results.iter().map(|r| r.0).sum();
    let pages: usize = results.iter().map(|r| r.1).sum();
    // Without the reset, VmHWM still holds the sign-ins' peak: use the sampled peak then.
    let burst_peak = if reset { peak.max(sampled) } else { sampled };
    let what = format!("{} devices", num(devices as f64));
    report.add(Figure::new(
        "memory",
        format!("{what}: server resident after their sign-ins, before they sync"),
        mem(before_rss),
    ));
    report.add(
        Figure::new(
            "memory",
            format!("{what}: server peak during the sign-ins (Argon2)"),
            mem(before_peak),
        )
        .below(before_peak / 1e6, 150.0, "MB"),
    );
    report.add(
        Figure::new(
            "memory",
            format!("{what} syncing at once: server peak"),
            format!(
                "{} ({})",
                mem(burst_peak),
                if reset {
                    "VmHWM reset before the burst"
                } else {
                    "sampled every 50 ms: clear_refs refused"
                }
            ),
        )
        .below(burst_peak / 1e6, 150.0, "MB"),
    );
    report.add(Figure::new(
        "memory",
        format!("{what}: server resident after the burst"),
        mem(after_rss),
    ));
    report.add(Figure::new(
        "memory",
        format!("{what}: the burst"),
        format!(
            "each pushed {visits_each} visits then pulled: {} records in {pages} pages, {secs:.1} s",
            num(records as f64)
        ),
    ));
    report.cpu(format!("memory, {what} at once"), cpu);
    Ok(())
}
