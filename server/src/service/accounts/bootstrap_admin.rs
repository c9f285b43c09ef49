//! The first regency administrator of an empty database.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::api::accounts::NewUserRequest;
use crate::auth::{Role, password};
use crate::db::{AnyConnection, users};
use crate::error::{ApiError, ErrorCode};
use crate::service::audit::{self, Entry};

use super::create_user::create_user_with_one_time_password;
use super::first_admin_file;

/// The user name of the first administrator.
const USERNAME: &str = "admin";

/// The administrator a first start created.
pub struct FirstAdmin {
    /// User name.
    pub username: String,
    /// The one-time password.
    pub password: String,
    /// The file that holds it.
    pub password_file: PathBuf,
}

/// On a database with no users, creates the first regency administrator with a random
/// one-time password, to be changed at the first sign-in.
///
/// The password goes to `<data_dir>/first-admin-password` (mode `0600`), on disk before the
/// user is committed: whatever becomes of standard output (closed, full, a journal nobody
/// reads), the operator finds it there, and a file that cannot be written stops the start
/// with no administrator created. On a later start the file is deleted once that password
/// has been changed.
pub fn bootstrap_admin(
    conn: &mut AnyConnection,
    data_dir: &Path,
) -> anyhow::Result<Option<FirstAdmin>> {
    let file = first_admin_file::path(data_dir);
    if users::count(conn)? > 0 {
        tidy_password_file(conn, &file)?;
        return Ok(None);
    }
    let pw = password::generate()?;
    let created = create_user_with_one_time_password(
        conn,
        NewUserRequest {
            username: USERNAME.into(),
            display_name: "Administrator".into(),
            role: Role::RegencyAdmin,
            agency_id: None,
            password: pw.clone(),
        },
        || {
            first_admin_file::write(&file, &pw).map_err(|e| {
                ApiError::Internal(anyhow::anyhow!(
                    "cannot write its password to {}: {e}",
                    file.display()
                ))
            })
        },
    );
    let user = match created {
        // Another instance starting at the same moment made it first.
        Err(e) if e.code() == ErrorCode::UsernameTaken => return Ok(None),
        other => other.map_err(anyhow::Error::new)?,
    };
    audit::append(
        conn,
        Entry::system(
            "user_created",
            Some(&user.id.to_string()),
            serde_json::json!({"username": user.username, "role": "regency_admin", "bootstrap": true}),
        ),
    );
    Ok(Some(FirstAdmin {
        username: user.username,
        password: pw,
        password_file: file,
    }))
}

impl FirstAdmin {
    /// Tells the operator where the password is: in the log (never the password itself),
    /// and, on a terminal only, the password too.
    pub fn announce(&self) {
        tracing::warn!(
            username = %self.username,
            password_file = %self.password_file.display(),
            "no users yet: created the first administrator; its one-time password is in the \
             password file, and must be changed at the first sign-in"
        );
        let stdout = std::io::stdout();
        if stdout.is_terminal() {
            // Not println!, which panics when the write fails: the administrator exists and
            // the file holds the password, so the server must start regardless.
            let _ = writeln!(
                stdout.lock(),
                "\nNo users yet: created the first administrator.\n  user name: {}\n  \
                 password:  {}\nIt is also in {} until you change it, which the first \
                 sign-in requires.\n",
                self.username,
                self.password,
                self.password_file.display()
            );
        }
    }
}

/// A start on a database with users: the password file is deleted once the first
/// administrator no longer has to change the password it holds (changed through another
/// instance, say), and otherwise recalled in the log.
fn tidy_password_file(conn: &mut AnyConnection, file: &Path) -> anyhow::Result<()> {
    if !file.exists() {
        return Ok(());
    }
    let pending = users::by_username(conn, USERNAME)
        .context("reading the first administrator")?
        .is_some_and(|u| u.must_change_password);
    if pending {
        tracing::warn!(
            password_file = %file.display(),
            "the first administrator has not changed the one-time password in the password file yet"
        );
    } else {
        first_admin_file::delete(file, "the one-time password in it was changed");
    }
    Ok(())
}
