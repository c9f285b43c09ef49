//! Scenario `signin-flood`: devices syncing one visit at a time, first alone and then while
//! many clients sign in at once without pause (half with the right password on new devices,
//! half guessing unknown names), to show that sign-in load does not reach sync. Reports
//! sync latency in both phases, what the sign-ins were answered, and the server's peak memory.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use uuid::Uuid;

use crate::client::{self, OFFICER_PASSWORD, Officer};
use crate::report::{Basis, Figure, Report, ms, num};
use crate::stats::{Spread, mib, reset_peak, rss};
use crate::workload::{Visit, push_body, visit_fields};
use crate::{Ctx, Stage};

/// Syncs of `officers` for `run_for`, each device one visit at a time: whole-sync times, ms.
/// `seqs` holds each device's last sequence number, carried from one phase to the next.
fn sync_phase(base: &str, officers: &[Officer], run_for: Duration, seqs: &[AtomicU64]) -> Vec<f64> {
    let start = Barrier::new(officers.len());
    let times = Mutex::new(Vec::new());
    std::thread::scope(|sc| {
        for (n, o) in officers.iter().enumerate() {
            let (start, times, last) = (&start, &times, &seqs[n]);
            sc.spawn(move || {
                let a = client::agent(Duration::from_secs(120));
                let (_, mut cursor) = client::pull(&a, base, &o.token, None, false, None).unwrap();
                start.wait();
                let deadline = Instant::now() + run_for;
                let (household, mut previous, mut mine) = (Uuid::now_v7(), Uuid::new_v4(), vec![]);
                let mut seq = last.load(Ordering::Relaxed);
                while Instant::now() < deadline {
                    seq += 1;
                    let id = Uuid::now_v7();
                    let v = Visit {
                        id,
                        doc: String::new(),
                        fields: visit_fields(n * 100_000 + seq as usize, household, previous),
                        hlc_ms: u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0),
                    };
                    previous = id;
                    let body = push_body(o.device, seq, std::slice::from_ref(&v), false);
                    let t = Instant::now();
                    client::push(&a, base, &o.token, &body, (seq, seq), true).unwrap();
                    let (_, next) =
                        client::pull(&a, base, &o.token, Some(cursor), false, None).unwrap();
                    cursor = next;
                    mine.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                last.store(seq, Ordering::Relaxed);
                times.lock().unwrap().extend(mine);
            });
        }
    });
    times.into_inner().unwrap()
}

/// The scenario.
pub fn scenario(ctx: &Ctx, report: &mut Report) -> anyhow::Result<()> {
    let devices = ctx.args.flood_devices;
    let flooders = ctx.args.flood_clients;
    let run_for = Duration::from_secs(ctx.args.flood_secs);
    let stage = Stage::new(ctx, &ctx.server_flags())?;
    let server = &stage.server;
    let base = server.base.as_str();
    let officers = client::sign_in_officers(server, devices + 1, ctx.args.setup_threads)?;
    let (syncing, flooded) = officers.split_at(devices);
    let flooded_user = flooded[0].user.clone();

    eprintln!("bench: signin-flood, {devices} devices syncing alone for {run_for:?}");
    let seqs: Vec<AtomicU64> = syncing.iter().map(|_| AtomicU64::new(0)).collect();
    let quiet = Spread::of(sync_phase(base, syncing, run_for, &seqs));

    eprintln!("bench: signin-flood, the same while {flooders} clients sign in without pause");
    let stop = AtomicBool::new(false);
    let answers = Mutex::new(BTreeMap::<String, usize>::new());
    reset_peak(server.pid());
    let loud = std::thread::scope(|sc| {
        for i in 0..flooders {
            let (stop, answers, user) = (&stop, &answers, &flooded_user);
            sc.spawn(move || {
                let a = client::agent(Duration::from_secs(120));
                let mut tally = BTreeMap::<String, usize>::new();
                let mut n = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let (name, password, kind) = if i % 2 == 0 {
                        (user.clone(), OFFICER_PASSWORD, "right password")
                    } else {
                        (format!("guess-{i}-{n}"), "not the password", "unknown name")
                    };
                    let body =
                        json!({"username": name, "password": password, "device_id": Uuid::now_v7()});
                    let url = format!("{base}/v1/auth/login");
                    let key = match client::call(&a, "POST", &url, None, Some(&body)) {
                        Ok((st, b)) => format!(
                            "{kind}: {st} {}",
                            b["error"]["code"].as_str().unwrap_or("ok")
                        ),
                        Err(_) => format!("{kind}: network error"),
                    };
                    *tally.entry(key).or_default() += 1;
                }
                let mut all = answers.lock().unwrap();
                for (k, v) in tally {
                    *all.entry(k).or_default() += v;
                }
            });
        }
        let times = sync_phase(base, syncing, run_for, &seqs);
        stop.store(true, Ordering::Relaxed);
        times
    });
    let loud = Spread::of(loud);
    let (_, peak) = rss(server.pid());

    let what = format!(
        "{devices} devices, one-visit syncs for {} s",
        run_for.as_secs()
    );
    for (phase, s) in [
        ("alone", &quiet),
        (&*format!("under {flooders} sign-in clients"), &loud),
    ] {
        report.add(
            Figure::new(
                "signin-flood",
                format!("{what}, {phase}: whole sync p50 / p95 / p99"),
                format!(
                    "{} / {} / {} ms (max {}, {} syncs)",
                    ms(s.p50),
                    ms(s.p95),
                    ms(s.p99),
                    ms(s.max),
                    num(s.count as f64)
                ),
            )
            .vs(s.p50, Basis::SyncMs(0))
            .vs(s.p99, Basis::SyncMs(2)),
        );
    }
    let answers = answers.into_inner().unwrap();
    let total: usize = answers.values().sum();
    let shown: Vec<String> = answers
        .iter()
        .map(|(k, v)| format!("{k} × {}", num(*v as f64)))
        .collect();
    report.add(Figure::new(
        "signin-flood",
        format!(
            "sign-ins answered during the flood ({} in {} s)",
            num(total as f64),
            run_for.as_secs()
        ),
        shown.join("; "),
    ));
    report.add(Figure::new(
        "signin-flood",
        "server peak memory during the flood (VmHWM)",
        format!("{:.0} MiB", mib(peak)),
    ));
    Ok(())
}
