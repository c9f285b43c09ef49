//! Accounts: creating users, the first administrator, sign-in with its throttle, token
//! refresh, password changes, and the caller's own account. One file per action.

mod bootstrap_admin;
mod change_password;
mod create_user;
mod login;
mod login_throttle;
mod me;
mod password_rules;
mod refresh;
mod session_tokens;

pub use bootstrap_admin::bootstrap_admin;
pub use change_password::change_password;
pub use create_user::create_user;
pub use login::login;
pub use me::me;
pub use refresh::refresh;
