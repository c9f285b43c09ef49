//! `kampung-sync seed`: a realistic programme on an empty database, for measuring the admin
//! questions at the size of a large regency. Every record goes through the same batch
//! processing as a push, by the device of the officer who would have written it, so the
//! merge states, the changes feed and the typed tables are exactly what production has.
//! Deterministic for a given `--seed`.

mod people;
mod records;
mod twists;
mod writer;

use crate::db::{self, AnyConnection};
use crate::error::ApiError;

/// How big a programme to build.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Agencies (OPD, schools, partners).
    pub agencies: usize,
    /// Officers, spread over the agencies.
    pub officers: usize,
    /// Households, each assigned to an officer.
    pub households: usize,
    /// Visit reports over the last two years.
    pub visits: usize,
    /// Aid records over the last two years.
    pub aid: usize,
    /// Households whose phone number two people change at once.
    pub conflicts: usize,
    /// Households moved to another officer after their history was written.
    pub reassignments: usize,
    /// The random seed.
    pub seed: u64,
    /// The password of every seeded user.
    pub password: String,
}

/// What was built.
#[derive(Debug, Default)]
pub struct Built {
    /// Records created (households, visits, aid).
    pub records: u64,
    /// Operations that ended in a conflict.
    pub conflicts: u64,
    /// Reassignments made.
    pub reassignments: u64,
}

/// Builds `plan` on an empty database (no record written yet), reporting progress through
/// `progress`. Refuses a database that holds records: a seed is for measuring, never for a
/// database in use.
pub fn run(
    conn: &mut AnyConnection,
    plan: &Plan,
    progress: &mut dyn FnMut(&str),
) -> Result<Built, ApiError> {
    if db::records::count_written(conn)? > 0 {
        return Err(ApiError::internal(
            "the database already holds records: seed an empty one".to_owned(),
        ));
    }
    let mut rng = fastrand::Rng::with_seed(plan.seed);
    let people = people::create(conn, plan, progress)?;
    let mut built = Built::default();
    let homes = records::households(conn, plan, &people, &mut rng, &mut built, progress)?;
    records::reports(conn, plan, &people, &homes, &mut rng, &mut built, progress)?;
    twists::conflicts(conn, plan, &people, &homes, &mut rng, &mut built, progress)?;
    twists::reassignments(conn, plan, &people, &homes, &mut rng, &mut built, progress)?;
    Ok(built)
}
