//! Administration: agencies, users, devices, areas, households (their view, KK and NIK
//! numbers, imports and edits), visit reviews and the audit log, each limited by role.
//! Agency admins see and manage their own agency's officers; regency admins everything.
//! One file per action.

mod add_area;
mod assign_household;
mod console_writes;
mod create_agency;
mod create_user;
mod edit_record;
mod end_assignment;
mod household_identity_scope;
mod import_assignments;
mod import_file;
mod import_households;
mod import_users;
mod list_agencies;
mod list_aid;
mod list_areas;
mod list_assignments;
mod list_devices;
mod list_held_writes;
mod list_households;
mod list_officers;
mod list_users;
mod list_visits;
mod lookup_households;
mod read_audit_log;
mod read_household;
mod read_household_identity;
mod read_record;
mod read_visit_review;
mod review_visit;
mod revoke_device;
mod set_household_identity;
mod set_user_active;

pub use add_area::{add_area, insert_area};
pub use assign_household::assign_household;
pub(crate) use assign_household::hand_over;
pub use console_writes::{ConsoleEdit, ConsoleWriter};
pub use create_agency::{create_agency, insert_agency};
pub use create_user::create_user;
pub use edit_record::edit_record;
pub use end_assignment::end_assignment;
pub use import_assignments::{import_assignments, import_assignments_as_operator};
pub use import_households::{Progress, import_households, import_households_as};
pub use import_users::{import_users, import_users_as_operator};
pub use list_agencies::list_agencies;
pub use list_aid::{Aid, list_aid};
pub use list_areas::list_areas;
pub use list_assignments::{Assignments, list_assignments};
pub use list_devices::{Devices, list_devices};
pub use list_held_writes::list_held_writes;
pub use list_households::{HouseholdExport, Households, list_households};
pub use list_officers::{Officers, list_officers};
pub use list_users::list_users;
pub use list_visits::{Visits, list_visits};
pub use lookup_households::lookup_households;
pub use read_audit_log::read_audit_log;
pub use read_household::read_household;
pub use read_household_identity::read_household_identity;
pub use read_record::read_record;
pub use read_visit_review::read_visit_review;
pub use review_visit::review_visit;
pub use revoke_device::revoke_device;
pub use set_household_identity::set_household_identity;
pub use set_user_active::set_user_active;
