//! Administration: agencies, users, devices, areas, the audit log and households, each limited by role.
//! Agency admins see and manage their own agency's officers; regency admins everything.
//! One file per action.

mod add_area;
mod assign_household;
mod create_agency;
mod create_user;
mod end_assignment;
mod import_assignments;
mod list_agencies;
mod list_areas;
mod list_assignments;
mod list_devices;
mod list_held_writes;
mod list_users;
mod read_audit_log;
mod read_household;
mod revoke_device;
mod set_user_active;

pub use add_area::{add_area, insert_area};
pub use assign_household::assign_household;
pub use create_agency::{create_agency, insert_agency};
pub use create_user::create_user;
pub use end_assignment::end_assignment;
pub use import_assignments::{import_assignments, import_assignments_as_operator};
pub use list_agencies::list_agencies;
pub use list_areas::list_areas;
pub use list_assignments::list_assignments;
pub use list_devices::list_devices;
pub use list_held_writes::list_held_writes;
pub use list_users::list_users;
pub use read_audit_log::read_audit_log;
pub use read_household::read_household;
pub use revoke_device::revoke_device;
pub use set_user_active::set_user_active;
