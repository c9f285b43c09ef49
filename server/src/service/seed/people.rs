//! The seeded agencies, their administrators and officers, and a device for each.

use sync_protocol::DeviceId;
use uuid::Uuid;

use super::Plan;
use crate::auth::{Role, password};
use crate::db::users::{self, NewUser};
use crate::db::{self, AnyConnection, agencies, devices};
use crate::error::ApiError;
use crate::ids::{AgencyId, UserId};
use crate::service::names;

/// A seeded user with the device they sync from.
#[derive(Clone, Debug)]
pub struct Person {
    /// User id.
    pub user_id: UserId,
    /// Their agency.
    pub agency: Option<AgencyId>,
    /// Their phone.
    pub device: DeviceId,
}

/// Everyone the seed writes as.
#[derive(Debug)]
pub struct People {
    /// The regency administrator, who registers the households.
    pub admin: Person,
    /// The officers, in agency order.
    pub officers: Vec<Person>,
}

const KINDS: [(&str, &str); 3] = [
    ("opd", "Dinas"),
    ("school", "SD Negeri"),
    ("partner", "Yayasan"),
];

/// Creates the agencies, one admin per agency, the officers and the regency admin
/// (`seed-admin`), all with `plan.password`, hashed once: the seed makes thousands of
/// users, and one Argon2 hash each would take minutes for nothing a measurement needs.
pub fn create(
    conn: &mut AnyConnection,
    plan: &Plan,
    progress: &mut dyn FnMut(&str),
) -> Result<People, ApiError> {
    let hash = password::hash(&plan.password).map_err(|e| ApiError::internal(e.to_string()))?;
    let mut agency_ids = Vec::with_capacity(plan.agencies);
    for i in 0..plan.agencies {
        let (kind, prefix) = KINDS[i % KINDS.len()];
        let id = AgencyId::generate();
        let name = format!("{prefix} {}", i + 1);
        if let Some(taken) = agencies::insert_unless_named(conn, id, &name, kind, names::same_name)?
        {
            return Err(ApiError::internal(format!("agency {taken} exists already")));
        }
        agency_ids.push(id);
    }
    let admin = db::write_tx(conn, |c| {
        let admin = person(c, "seed-admin", Role::RegencyAdmin, None, &hash)?;
        for (i, a) in agency_ids.iter().enumerate() {
            person(
                c,
                &format!("seed-agency-admin-{}", i + 1),
                Role::AgencyAdmin,
                Some(*a),
                &hash,
            )?;
        }
        Ok::<_, ApiError>(admin)
    })?;
    let officers = db::write_tx(conn, |c| {
        (0..plan.officers)
            .map(|i| {
                let agency = agency_ids.get(i % agency_ids.len().max(1)).copied();
                person(
                    c,
                    &format!("seed-officer-{}", i + 1),
                    Role::Officer,
                    agency,
                    &hash,
                )
            })
            .collect::<Result<Vec<_>, _>>()
    })?;
    progress(&format!(
        "people: {} agencies, {} agency admins, {} officers, 1 regency admin (seed-admin)",
        plan.agencies, plan.agencies, plan.officers
    ));
    Ok(People { admin, officers })
}

fn person(
    c: &mut AnyConnection,
    username: &str,
    role: Role,
    agency: Option<AgencyId>,
    hash: &str,
) -> Result<Person, ApiError> {
    let user_id = UserId::generate();
    let inserted = users::insert(
        c,
        &NewUser {
            id: user_id,
            username,
            display_name: username,
            password_hash: hash,
            role: role.as_str(),
            agency_id: agency,
            must_change_password: false,
        },
    )?;
    if !inserted {
        return Err(ApiError::internal(format!(
            "user {username} exists already"
        )));
    }
    let device = DeviceId(Uuid::now_v7());
    devices::register(c, device, user_id)?;
    Ok(Person {
        user_id,
        agency,
        device,
    })
}
