//! The conflict inbox's reads: the ids of the typed rows with `conflicted` set, in id
//! order, for one collection at a time (a partial index holds just those rows).

use diesel::prelude::*;
use sync_protocol::Collection;

use super::schema::{assignments, q_aid, q_households, q_visits, records};
use super::{AnyConnection, DbResult};

/// Where the conflicted records are looked for: the households they belong to.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// The household's kecamatan code.
    pub kecamatan: Option<String>,
    /// The household's desa code.
    pub desa: Option<String>,
    /// The agency the household is actively assigned to.
    pub agency: Option<String>,
}

/// Up to `limit` ids of conflicted records of `collection` after id `after`, in id order.
pub fn conflicted_ids(
    conn: &mut AnyConnection,
    collection: Collection,
    f: &Filter,
    after: Option<&str>,
    limit: i64,
) -> DbResult<Vec<String>> {
    let agency_households = |a: &str| {
        assignments::table
            .filter(assignments::agency_id.eq(a.to_owned()))
            .filter(assignments::ends_at.is_null())
            .select(assignments::household_id)
    };
    let in_kecamatan = |k: &str| {
        q_households::table
            .filter(q_households::kecamatan_code.eq(k.to_owned()))
            .select(q_households::id)
    };
    let in_desa = |d: &str| {
        q_households::table
            .filter(q_households::desa_code.eq(d.to_owned()))
            .select(q_households::id)
    };
    // The three tables differ in type only: one body, written out per table.
    macro_rules! ids_of {
        ($t:ident, $household:expr, $places:ident) => {{
            let mut q = $t::table
                .filter($t::conflicted)
                .select($t::id)
                .order($t::id)
                .limit(limit)
                .into_boxed();
            if let Some(a) = after {
                q = q.filter($t::id.gt(a.to_owned()));
            }
            q = $places(q);
            if let Some(a) = &f.agency {
                q = q.filter($household.eq_any(agency_households(a)));
            }
            q.load::<String>(conn)?
        }};
    }
    // A household's own columns; a visit's or aid record's household's by subquery.
    let own_place = |mut q: q_households::BoxedQuery<'static, _, _>| {
        if let Some(k) = &f.kecamatan {
            q = q.filter(q_households::kecamatan_code.eq(k.clone()));
        }
        if let Some(d) = &f.desa {
            q = q.filter(q_households::desa_code.eq(d.clone()));
        }
        q
    };
    macro_rules! household_place {
        ($t:ident) => {
            |mut q: $t::BoxedQuery<'static, _, _>| {
                if let Some(k) = &f.kecamatan {
                    q = q.filter($t::household_id.eq_any(in_kecamatan(k)));
                }
                if let Some(d) = &f.desa {
                    q = q.filter($t::household_id.eq_any(in_desa(d)));
                }
                q
            }
        };
    }
    let visit_place = household_place!(q_visits);
    let aid_place = household_place!(q_aid);
    Ok(match collection {
        Collection::Households => ids_of!(q_households, q_households::id, own_place),
        Collection::Visits => ids_of!(q_visits, q_visits::household_id, visit_place),
        Collection::Aid => ids_of!(q_aid, q_aid::household_id, aid_place),
        // A review has no typed table: its record's scope key is its visit's household.
        Collection::Reviews => {
            let mut q = records::table
                .filter(records::conflicted)
                .filter(records::collection.eq(Collection::Reviews.name()))
                .select(records::id)
                .order(records::id)
                .limit(limit)
                .into_boxed();
            if let Some(a) = after {
                q = q.filter(records::id.gt(a.to_owned()));
            }
            if let Some(k) = &f.kecamatan {
                q = q.filter(records::scope_key.eq_any(in_kecamatan(k)));
            }
            if let Some(d) = &f.desa {
                q = q.filter(records::scope_key.eq_any(in_desa(d)));
            }
            if let Some(a) = &f.agency {
                q = q.filter(records::scope_key.eq_any(agency_households(a)));
            }
            q.load::<String>(conn)?
        }
    })
}
