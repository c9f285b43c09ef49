//! Scenario `push`: N visit reports with every field filled, in batches of B, from D
//! devices at once; the series over several device counts, and the headline count once
//! more with `"result_records": "needed"`.

use std::time::{Duration, Instant};

use crate::client::{self, Officer};
use crate::report::{Basis, Figure, Report, num};
use crate::server::Server;
use crate::stats::{CpuUse, Progress, Spread, cpu_mark};
use crate::workload::{Visit, push_body};
use crate::{Ctx, Stage};

/// What one push run measured.
pub struct PushRun {
    /// Records pushed.
    pub records: usize,
    /// Seconds from the first push sent to the last answer.
    pub secs: f64,
    /// Per-push latency, ms.
    pub batch_ms: Spread,
    /// Answer body bytes per operation.
    pub bytes_per_op: f64,
    /// CPU during the run.
    pub cpu: CpuUse,
}

impl PushRun {
    /// Records per second.
    pub fn rate(&self) -> f64 {
        self.records as f64 / self.secs
    }
}

/// A push body ready to send, with the first and last `seq` it carries.
type Prepared = (String, (u64, u64));

/// Every officer pushes its contiguous share of `visits` in batches of `batch`, all at once.
/// Bodies are built before the clock starts; every result must be `applied`.
pub fn push_all(
    server: &Server,
    officers: &[Officer],
    visits: &[Visit],
    batch: usize,
    needed: bool,
    label: &str,
) -> anyhow::Result<PushRun> {
    let share = visits.len().div_ceil(officers.len().max(1)).max(1);
    let plans: Vec<(&Officer, Vec<Prepared>)> = officers
        .iter()
        .zip(visits.chunks(share))
        .map(|(o, mine)| {
            let bodies = mine
                .chunks(batch)
                .enumerate()
                .map(|(k, chunk)| {
                    let first = (k * batch) as u64 + 1;
                    let last = first + chunk.len() as u64 - 1;
                    (push_body(o.device, first, chunk, needed), (first, last))
                })
                .collect();
            (o, bodies)
        })
        .collect();
    let base = &server.base;
    let progress = Progress::start(label.to_owned(), Some(visits.len() as u64), "records");
    let before = cpu_mark(server.pid());
    let started = Instant::now();
    let runs: anyhow::Result<Vec<(Vec<f64>, usize)>> = std::thread::scope(|sc| {
        let handles: Vec<_> = plans
            .iter()
            .map(|(o, bodies)| {
                let progress = &progress;
                sc.spawn(move || -> anyhow::Result<(Vec<f64>, usize)> {
                    let a = client::agent(Duration::from_secs(120));
                    let (mut lat, mut bytes) = (Vec::new(), 0);
                    for (body, seqs) in bodies {
                        let p = client::push(&a, base, &o.token, body, *seqs, !needed)?;
                        lat.push(p.ms);
                        bytes += p.bytes;
                        progress.add(seqs.1 + 1 - seqs.0);
                    }
                    Ok((lat, bytes))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let secs = started.elapsed().as_secs_f64();
    let cpu = before.until(&cpu_mark(server.pid()));
    drop(progress);
    let runs = runs?;
    let bytes: usize = runs.iter().map(|(_, b)| b).sum();
    Ok(PushRun {
        records: visits.len(),
        secs,
        batch_ms: Spread::of(runs.into_iter().flat_map(|(l, _)| l).collect()),
        bytes_per_op: bytes as f64 / visits.len().max(1) as f64,
        cpu,
    })
}

/// "1 device", "4 devices".
fn devices_text(n: usize) -> String {
    if n == 1 {
        "1 device".into()
    } else {
        format!("{n} devices")
    }
}

/// One run on a fresh database and server.
fn one(ctx: &Ctx, visits: &[Visit], devices: usize, needed: bool) -> anyhow::Result<PushRun> {
    let stage = Stage::new(ctx, &ctx.server_flags())?;
    let officers = client::sign_in_officers(&stage.server, devices, ctx.args.setup_threads)?;
    let form = if needed { "needed" } else { "full" };
    push_all(
        &stage.server,
        &officers,
        visits,
        ctx.args.batch,
        needed,
        &format!("push, {}, {form} results", devices_text(devices)),
    )
}

fn figures(report: &mut Report, run: &PushRun, devices: usize, batch: usize, form: &str) {
    let what = format!(
        "{}, batches of {batch}, {form} results",
        devices_text(devices)
    );
    report.add(
        Figure::new(
            "push",
            format!("{what}: throughput"),
            format!("{} records/s ({:.1} s)", num(run.rate()), run.secs),
        )
        .vs(run.rate(), Basis::PushRate)
        .at_least(0.4),
    );
    let l = &run.batch_ms;
    report.add(
        Figure::new(
            "push",
            format!(
                "{what}: latency per push p50 / p95 / p99 ({} pushes)",
                l.count
            ),
            format!("{} / {} / {} ms", num(l.p50), num(l.p95), num(l.p99)),
        )
        .vs(l.p50, Basis::BatchMs(0))
        .vs(l.p95, Basis::BatchMs(1))
        .vs(l.p99, Basis::BatchMs(2)),
    );
    report.add(
        Figure::new(
            "push",
            format!("{what}: answer bytes per operation"),
            format!("{} B", num(run.bytes_per_op)),
        )
        .vs(run.bytes_per_op, Basis::DocBytes),
    );
    report.cpu(
        format!("push, {}, {form} results", devices_text(devices)),
        run.cpu,
    );
}

/// The scenario: the device series with full results, then the headline count with
/// `"result_records": "needed"`.
pub fn scenario(ctx: &Ctx, visits: &[Visit], report: &mut Report) -> anyhow::Result<()> {
    let mut series = ctx.args.series.clone();
    if !series.contains(&ctx.args.devices) {
        series.push(ctx.args.devices);
    }
    series.sort_unstable();
    series.dedup();
    let mut headline = None;
    for &d in &series {
        let run = one(ctx, visits, d, false)?;
        figures(report, &run, d, ctx.args.batch, "full");
        if d == ctx.args.devices {
            headline = Some(run);
        }
    }
    let needed = one(ctx, visits, ctx.args.devices, true)?;
    figures(report, &needed, ctx.args.devices, ctx.args.batch, "needed");
    if let Some(full) = headline {
        report.notes.push(format!(
            "push, {} devices: `\"result_records\": \"needed\"` answers {} B per operation instead of {} B \
             ({:.0} % less) and pushes {} instead of {} records/s.",
            ctx.args.devices,
            num(needed.bytes_per_op),
            num(full.bytes_per_op),
            100.0 * (1.0 - needed.bytes_per_op / full.bytes_per_op.max(1.0)),
            num(needed.rate()),
            num(full.rate())
        ));
    }
    Ok(())
}
