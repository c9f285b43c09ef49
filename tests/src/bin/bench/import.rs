//! Scenario `import`: `kampung-sync household import` of a generated registry file of
//! `--import-rows` households (100,000 by default) spread over every desa of Banyuwangi,
//! on a fresh database, timed from the command's start to its exit (validation, the
//! console device's batches, the commit).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::Ctx;
use crate::report::{Figure, Report, num};
use crate::server::Db;

const AREAS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../server/data/banyuwangi-wilayah.csv"
));
const ADMIN: &str = "bench-importer";

/// A registry file of `n` households, each row valid, over every desa code, each with its
/// own KK and NIK (so every row is sealed and checked against the blind indexes).
pub fn households_csv(n: usize) -> String {
    let desa: Vec<&str> = AREAS
        .lines()
        .filter_map(|l| {
            let mut cells = l.split(',');
            let code = cells.next()?;
            let level = cells.nth(1)?;
            matches!(level, "desa" | "kelurahan").then_some(code)
        })
        .collect();
    let mut csv = String::with_capacity(n * 120);
    csv.push_str(
        "registry_id,registry_source,head_name,desa_code,dusun,rt,rw,address,welfare_decile,\
         home_lat,home_lon,status,phone,kk,nik\n",
    );
    for i in 0..n {
        csv.push_str(&format!(
            "DTKS-{i:08},dtks,Kepala Keluarga {i},{},Krajan,{:03},{:03},\"Jl. Melati {}, Krajan\",{},{:.5},{:.5},active,08{:010},3510{i:012},3511{i:012}\n",
            desa[i % desa.len()],
            i % 20 + 1,
            i % 9 + 1,
            i % 300,
            i % 10 + 1,
            -8.2 - (i % 1000) as f64 / 2000.0,
            114.0 + (i % 1000) as f64 / 2000.0,
            i
        ));
    }
    csv
}

fn kampung(ctx: &Ctx, db: &Db) -> Command {
    let mut c = Command::new(&ctx.bin);
    c.env("DATABASE_URL", &db.url)
        .env("KAMPUNG_DATA_DIR", &db.dir);
    c
}

/// The scenario.
pub fn scenario(ctx: &Ctx, report: &mut Report) -> anyhow::Result<()> {
    let n = ctx.args.import_rows;
    let db = Db::fresh(ctx.args.backend)?;
    let file = db.dir.join("households.csv");
    std::fs::write(&file, households_csv(n))?;

    let mut add = kampung(ctx, &db)
        .args([
            "user",
            "add",
            "--username",
            ADMIN,
            "--role",
            "regency_admin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    add.stdin
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdin"))?
        .write_all(b"bench importer password\n")?;
    anyhow::ensure!(add.wait()?.success(), "user add failed");

    eprintln!("bench: import of {} households", num(n as f64));
    let started = Instant::now();
    let out = kampung(ctx, &db)
        .args(["household", "import", "--as", ADMIN, "--file"])
        .arg(&file)
        .stderr(Stdio::inherit())
        .output()?;
    let secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        out.status.success(),
        "household import failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    anyhow::ensure!(
        answer["created"] == n,
        "the import created {} of {n}",
        answer["created"]
    );
    let rate = n as f64 / secs;
    eprintln!(
        "bench: imported {} households in {secs:.1} s ({} rows/s)",
        num(n as f64),
        num(rate)
    );
    report.add(Figure::new(
        "import",
        format!(
            "household import of {} rows (command line, one transaction)",
            num(n as f64)
        ),
        format!("{} rows/s ({secs:.1} s)", num(rate)),
    ));
    Ok(())
}
