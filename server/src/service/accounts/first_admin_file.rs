//! The file that hands the first administrator's one-time password to the operator:
//! `<data dir>/first-admin-password`, readable by its owner only.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Its name in the data folder.
pub const FILE_NAME: &str = "first-admin-password";

/// Where it is for the data folder `data_dir`.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE_NAME)
}

/// Writes `password` (and a newline) to `path`, mode `0600`, and makes it durable. It is
/// written beside and renamed into place, so that a file left by a start that died before
/// its commit is replaced whole.
pub fn write(path: &Path, password: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let beside = dir.join(format!(".{FILE_NAME}.{}", uuid::Uuid::new_v4().simple()));
    let written = write_new(&beside, password).and_then(|()| fs::rename(&beside, path));
    if written.is_err() {
        let _ = fs::remove_file(&beside);
    }
    written?;
    // The rename is durable only once the folder is.
    File::open(dir)?.sync_all()
}

fn write_new(path: &Path, password: &str) -> std::io::Result<()> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(password.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()
}

/// Deletes the file if it holds `password`, which was just replaced: from then on the file
/// only tells a reader an old password.
pub fn forget(path: &Path, password: &str) {
    let holds =
        fs::read_to_string(path).is_ok_and(|s| s.trim_end_matches(['\r', '\n']) == password);
    if holds {
        delete(path, "the password in it was changed");
    }
}

/// Deletes the file, logging why.
pub fn delete(path: &Path, why: &str) {
    match fs::remove_file(path) {
        Ok(()) => {
            tracing::info!(path = %path.display(), "deleted the first administrator's password file: {why}")
        }
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot delete the first administrator's password file ({why}): delete it by hand")
        }
    }
}
