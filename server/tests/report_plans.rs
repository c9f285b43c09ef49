//! On SQLite a regency-wide report reads its period from its report index alone: a plan that
//! names `q_visits_report` or `q_aid_report` without using it as a covering index reads every
//! row of the period from the table as well, which doubled a year's report at the seeded size
//! (docs/benchmarks.md, 2026-12-06). The plans do not depend on the data: each regency-wide
//! statement names its index.
#![allow(clippy::unwrap_used)]

use kampung_sync::config::ReportingArgs;
use kampung_sync::db::admin_reports::explain;
use kampung_sync::db::{Backend, connect, migrate};
use kampung_sync::service::reports::sample_statements;

#[test]
fn regency_wide_reports_on_sqlite_read_their_period_from_a_covering_index() {
    let dir = std::env::temp_dir().join(format!("kampung-report-plans-{}", std::process::id()));
    let url = format!("sqlite://{}", dir.join("plans.db").display());
    migrate(&Backend::from_url(&url).unwrap()).unwrap();
    let mut conn = connect(&url).unwrap();
    let statements = sample_statements(None, ReportingArgs::default(), chrono::Utc::now()).unwrap();
    let mut reads = 0;
    for (name, s) in &statements {
        let plan = explain(&mut conn, &s.sql, &s.args).unwrap();
        for line in plan
            .iter()
            .filter(|l| l.contains("q_visits_report") || l.contains("q_aid_report"))
        {
            assert!(
                line.contains("COVERING INDEX"),
                "{name} reads the table besides its index: {line}\n{}",
                s.sql
            );
            reads += 1;
        }
    }
    // Conditions, locations and aid by kecamatan, desa, agency and month, at least.
    assert!(
        reads >= 8,
        "only {reads} plans read a report index: {statements:#?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
