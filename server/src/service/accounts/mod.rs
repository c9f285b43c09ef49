//! Accounts: creating users, the first administrator, sign-in with its throttle, token
//! refresh, password changes and resets, and the caller's own account. One file per action.

mod bootstrap_admin;
mod change_password;
mod create_user;
pub mod first_admin_file;
mod login;
mod login_throttle;
mod me;
mod password_rules;
mod refresh;
mod reset_password;
mod session_tokens;

pub use bootstrap_admin::{FirstAdmin, bootstrap_admin};
pub use change_password::change_password;
pub use create_user::{create_user, valid_username};
pub use login::login;
pub use me::me;
pub use refresh::refresh;
pub use reset_password::{Reset, reset_password};
