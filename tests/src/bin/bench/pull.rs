//! Scenario `pull`: a new device's first sync of the N pushed visits, page after page at
//! the server's page size, once plain and once with `Accept-Encoding: gzip`.

use std::time::{Duration, Instant};

use crate::client::{self, OFFICER_PASSWORD};
use crate::push::push_all;
use crate::report::{Basis, Figure, Report, num};
use crate::stats::{Progress, cpu_mark};
use crate::workload::Visit;
use crate::{Ctx, Stage};

/// The scenario.
pub fn scenario(ctx: &Ctx, visits: &[Visit], report: &mut Report) -> anyhow::Result<()> {
    let stage = Stage::new(ctx, &ctx.server_flags())?;
    let server = &stage.server;
    let officers = client::sign_in_officers(server, ctx.args.devices, ctx.args.setup_threads)?;
    push_all(
        server,
        &officers,
        visits,
        ctx.args.batch,
        true,
        "pull setup: push the records",
    )?;
    let a = client::agent(Duration::from_secs(120));
    for gzip in [false, true] {
        // A new device: its own sign-in, no cursor.
        let (token, _) = client::login(&a, &server.base, &officers[0].user, OFFICER_PASSWORD)?;
        let how = if gzip { "gzip" } else { "plain" };
        let progress = Progress::start(
            format!("pull, first sync, {how}"),
            Some(visits.len() as u64),
            "records",
        );
        let before = cpu_mark(server.pid());
        let started = Instant::now();
        let (got, _) = client::pull(&a, &server.base, &token, None, gzip, Some(&progress))?;
        let secs = started.elapsed().as_secs_f64();
        let cpu = before.until(&cpu_mark(server.pid()));
        drop(progress);
        anyhow::ensure!(
            got.records == visits.len(),
            "the first sync brought {} records, not {}",
            got.records,
            visits.len()
        );
        let rate = got.records as f64 / secs;
        let what = format!(
            "first sync of {} records, {} pages of {}, {how}",
            num(got.records as f64),
            got.pages,
            ctx.args.pull_page
        );
        report.add(
            Figure::new(
                "pull",
                format!("{what}: throughput"),
                format!("{} records/s ({secs:.2} s)", num(rate)),
            )
            .vs(rate, Basis::PullRate)
            .at_least(0.5),
        );
        let per_record = got.wire_bytes as f64 / got.records.max(1) as f64;
        report.add(
            Figure::new(
                "pull",
                format!("{what}: bytes on the wire per record"),
                format!(
                    "{} B ({:.1} MB in all{})",
                    num(per_record),
                    got.wire_bytes as f64 / 1e6,
                    if gzip {
                        format!(", {:.1} MB decoded", got.json_bytes as f64 / 1e6)
                    } else {
                        String::new()
                    }
                ),
            )
            .vs(per_record, Basis::DocBytes),
        );
        report.cpu(format!("pull, first sync, {how}"), cpu);
    }
    Ok(())
}
