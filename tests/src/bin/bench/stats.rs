//! Measuring: percentiles, progress lines on stderr, CPU time of the server, the benchmark
//! and PostgreSQL from `/proc/<pid>/stat`, and resident memory from `/proc/<pid>/status`.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The p-th percentile (0..=1) of sorted values, nearest rank; 0 when empty.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// p50, p95, p99 and max of unsorted values.
#[derive(Clone, Copy, Debug, Default)]
pub struct Spread {
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
    /// How many values.
    pub count: usize,
}

impl Spread {
    /// Of these values.
    pub fn of(mut values: Vec<f64>) -> Spread {
        values.sort_by(f64::total_cmp);
        Spread {
            p50: percentile(&values, 0.50),
            p95: percentile(&values, 0.95),
            p99: percentile(&values, 0.99),
            max: values.last().copied().unwrap_or(0.0),
            count: values.len(),
        }
    }

    /// `p50 / p95 / p99` as an array.
    pub fn ps(&self) -> [f64; 3] {
        [self.p50, self.p95, self.p99]
    }
}

/// A counter printed to stderr every few seconds while a phase runs, with its rate, and
/// once more when dropped.
pub struct Progress {
    done: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    printer: Option<JoinHandle<()>>,
}

const PROGRESS_EVERY: Duration = Duration::from_secs(3);

impl Progress {
    /// Starts printing `label: done[/total] unit, rate/s`.
    pub fn start(label: String, total: Option<u64>, unit: &'static str) -> Progress {
        let done = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (d, s) = (done.clone(), stop.clone());
        eprintln!("[{label}] started");
        let printer = std::thread::spawn(move || {
            let started = Instant::now();
            let mut last = Instant::now();
            let line = |final_line: bool| {
                let n = d.load(Ordering::Relaxed);
                let secs = started.elapsed().as_secs_f64();
                let of = total.map(|t| format!("/{t}")).unwrap_or_default();
                eprintln!(
                    "[{label}] {}{n}{of} {unit} in {secs:.1} s, {:.0} {unit}/s",
                    if final_line { "done: " } else { "" },
                    n as f64 / secs.max(1e-9)
                );
            };
            while !s.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                if last.elapsed() >= PROGRESS_EVERY {
                    line(false);
                    last = Instant::now();
                }
            }
            line(true);
        });
        Progress {
            done,
            stop,
            printer: Some(printer),
        }
    }

    /// Counts `n` more.
    pub fn add(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(p) = self.printer.take() {
            let _ = p.join();
        }
    }
}

fn clock_ticks() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// The command name and user+system CPU seconds of a process, from `/proc/<pid>/stat`.
fn proc_cpu(pid: &str) -> Option<(String, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat[open + 1..close].to_owned();
    // After the name: field 3 (state) onwards; utime and stime are fields 14 and 15.
    let rest: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    let utime: f64 = rest.get(11)?.parse().ok()?;
    let stime: f64 = rest.get(12)?.parse().ok()?;
    Some((comm, (utime + stime) / clock_ticks()))
}

/// CPU seconds used so far by every process named `postgres` on this machine (its
/// backends, including other users' sessions on the same server).
fn postgres_cpu() -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|pid| proc_cpu(&pid))
        .filter(|(comm, _)| comm == "postgres")
        .map(|(_, s)| s)
        .sum()
}

/// CPU counters at one moment.
#[derive(Clone, Copy, Debug)]
pub struct CpuMark {
    at: Instant,
    server: f64,
    bench: f64,
    postgres: f64,
}

/// Reads the counters now (`server_pid`: the server process).
pub fn cpu_mark(server_pid: u32) -> CpuMark {
    CpuMark {
        at: Instant::now(),
        server: proc_cpu(&server_pid.to_string()).map_or(0.0, |(_, s)| s),
        bench: proc_cpu("self").map_or(0.0, |(_, s)| s),
        postgres: postgres_cpu(),
    }
}

/// Where a phase's CPU went: percent of one core (200 % is both cores of a 2-core machine).
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuUse {
    /// Wall time of the phase, seconds.
    pub wall: f64,
    /// The kampung-sync server.
    pub server_pct: f64,
    /// This benchmark (the devices' side).
    pub bench_pct: f64,
    /// PostgreSQL's processes (0 on SQLite, where the database runs inside the server).
    pub postgres_pct: f64,
}

impl CpuMark {
    /// The use between this mark and `later`.
    pub fn until(&self, later: &CpuMark) -> CpuUse {
        let wall = later.at.duration_since(self.at).as_secs_f64().max(1e-9);
        CpuUse {
            wall,
            server_pct: 100.0 * (later.server - self.server) / wall,
            bench_pct: 100.0 * (later.bench - self.bench) / wall,
            postgres_pct: 100.0 * (later.postgres - self.postgres) / wall,
        }
    }
}

/// A process's resident memory now (`VmRSS`) and its peak (`VmHWM`), in bytes.
pub fn rss(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb * 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Resets a process's `VmHWM` to its current resident set (`echo 5 > /proc/<pid>/clear_refs`,
/// Linux 4.0 and later). Whether it worked.
pub fn reset_peak(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// Bytes as MiB.
pub fn mib(bytes: f64) -> f64 {
    bytes / (1024.0 * 1024.0)
}
