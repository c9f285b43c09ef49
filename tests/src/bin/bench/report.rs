//! The results as Markdown for `docs/benchmarks.md`: the run's header (machine, commit,
//! date, command), one table of figures with their ratio to the floor and the target
//! verdicts, and one table of where the CPU went in each phase.

use crate::floor::Floor;
use crate::stats::CpuUse;

/// What a figure is compared with in the floor of the same run.
#[derive(Clone, Copy, Debug)]
pub enum Basis {
    /// Floor push records/s.
    PushRate,
    /// Floor pull records/s.
    PullRate,
    /// Floor per-transaction latency: p50, p95 or p99 (index 0, 1, 2).
    BatchMs(usize),
    /// Floor one-visit sync latency: p50, p95 or p99 (index 0, 1, 2).
    SyncMs(usize),
    /// The mean size of the document the floor stores.
    DocBytes,
}

impl Basis {
    fn of(self, f: &Floor) -> f64 {
        match self {
            Basis::PushRate => f.push_rate,
            Basis::PullRate => f.pull_rate,
            Basis::BatchMs(i) => f.batch_ms.ps()[i],
            Basis::SyncMs(i) => f.sync_ms.ps()[i],
            Basis::DocBytes => f.doc_bytes,
        }
    }
}

/// A target a figure is held to.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// Its first compared value at least this many times the floor.
    RatioAtLeast(f64),
    /// Its value (the one given) below this, in the figure's unit.
    Below(f64, &'static str),
}

/// One row of the table.
#[derive(Clone, Debug)]
pub struct Figure {
    /// Which scenario.
    pub scenario: String,
    /// What is measured.
    pub name: String,
    /// The value as shown.
    pub shown: String,
    /// Values compared with the floor: the ratio column shows each ratio, ` / ` apart.
    pub compare: Vec<(f64, Basis)>,
    /// The target, and for `Below` the value judged.
    pub target: Option<(Target, f64)>,
}

impl Figure {
    /// A figure without ratio or target.
    pub fn new(scenario: &str, name: impl Into<String>, shown: impl Into<String>) -> Figure {
        Figure {
            scenario: scenario.to_owned(),
            name: name.into(),
            shown: shown.into(),
            compare: Vec::new(),
            target: None,
        }
    }

    /// Compared with the floor.
    pub fn vs(mut self, value: f64, basis: Basis) -> Figure {
        self.compare.push((value, basis));
        self
    }

    /// Held to a ratio target (on the first compared value).
    pub fn at_least(mut self, ratio: f64) -> Figure {
        self.target = Some((Target::RatioAtLeast(ratio), 0.0));
        self
    }

    /// Held to an absolute bound.
    pub fn below(mut self, value: f64, limit: f64, unit: &'static str) -> Figure {
        self.target = Some((Target::Below(limit, unit), value));
        self
    }

    fn ratio_text(&self, floor: &Floor) -> String {
        if self.compare.is_empty() {
            return "–".into();
        }
        let parts: Vec<String> = self
            .compare
            .iter()
            .map(|(v, b)| {
                let base = b.of(floor);
                if base > 0.0 {
                    ratio(*v / base)
                } else {
                    "?".into()
                }
            })
            .collect();
        format!("{}x", parts.join(" / "))
    }

    fn verdict(&self, floor: &Floor) -> String {
        match self.target {
            None => "–".into(),
            Some((Target::RatioAtLeast(want), _)) => {
                let got = self
                    .compare
                    .first()
                    .map_or(0.0, |(v, b)| *v / b.of(floor).max(1e-12));
                format!(
                    "≥ {want}x: **{}**",
                    if got >= want { "met" } else { "missed" }
                )
            }
            Some((Target::Below(limit, unit), value)) => format!(
                "< {limit} {unit}: **{}**",
                if value < limit { "met" } else { "missed" }
            ),
        }
    }
}

/// A ratio with sensible digits: 0.123, 1.23, 12.3, 123.
pub fn ratio(r: f64) -> String {
    if r < 1.0 {
        format!("{r:.3}")
    } else if r < 10.0 {
        format!("{r:.2}")
    } else if r < 100.0 {
        format!("{r:.1}")
    } else {
        format!("{r:.0}")
    }
}

/// A whole number with thousands separators: 12,345.
pub fn num(x: f64) -> String {
    let n = x.round() as i64;
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Milliseconds as shown: one decimal under 10 ms, whole above.
pub fn ms(x: f64) -> String {
    if x < 10.0 { format!("{x:.1}") } else { num(x) }
}

/// Everything a run measured.
#[derive(Default)]
pub struct Report {
    /// The rows.
    pub figures: Vec<Figure>,
    /// CPU per phase.
    pub cpu: Vec<(String, CpuUse)>,
    /// Remarks printed under the tables.
    pub notes: Vec<String>,
    /// Query plans printed last: what, the statement, its plan.
    pub plans: Vec<(String, String, Vec<String>)>,
}

impl Report {
    /// Adds a row.
    pub fn add(&mut self, f: Figure) {
        self.figures.push(f);
    }

    /// Adds a phase's CPU use.
    pub fn cpu(&mut self, phase: impl Into<String>, u: CpuUse) {
        self.cpu.push((phase.into(), u));
    }

    /// Adds a statement's query plan.
    pub fn plan(&mut self, what: impl Into<String>, sql: String, plan: Vec<String>) {
        self.plans.push((what.into(), sql, plan));
    }

    /// Prints the Markdown.
    pub fn print(&self, header: &[String], floor: &Floor) {
        for line in header {
            println!("{line}");
        }
        println!();
        println!("| scenario | figure | value | ratio to floor | target |");
        println!("| --- | --- | --- | --- | --- |");
        for f in &self.figures {
            println!(
                "| {} | {} | {} | {} | {} |",
                f.scenario,
                f.name,
                f.shown,
                f.ratio_text(floor),
                f.verdict(floor)
            );
        }
        if !self.cpu.is_empty() {
            println!();
            println!(
                "CPU per phase, percent of one core (the machine has {} cores):",
                crate::machine::cores()
            );
            println!();
            println!("| phase | wall | server | bench (devices) | postgres |");
            println!("| --- | --- | --- | --- | --- |");
            for (phase, u) in &self.cpu {
                println!(
                    "| {phase} | {:.1} s | {:.0} % | {:.0} % | {:.0} % |",
                    u.wall, u.server_pct, u.bench_pct, u.postgres_pct
                );
            }
        }
        if !self.notes.is_empty() {
            println!();
            for n in &self.notes {
                println!("- {n}");
            }
        }
        for (what, sql, plan) in &self.plans {
            println!();
            println!("Query plan, {what}:");
            println!();
            println!("```sql");
            println!("{sql}");
            println!("```");
            println!();
            println!("```");
            for line in plan {
                println!("{line}");
            }
            println!("```");
        }
    }
}
