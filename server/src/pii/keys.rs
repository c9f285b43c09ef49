//! The master keys: the current one, which seals, and old ones, which still open during a
//! rotation. The current key comes from `KAMPUNG_PII_KEY`, or from `<data>/pii-key`, which
//! the first start generates (docs/operations.md says how to back it up and rotate it).

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::cipher::{CipherError, KeySet};
use super::number::{IdentityNumber, NumberKind};
use crate::config::PiiArgs;

/// The generated key's file in the data folder.
pub const KEY_FILE: &str = "pii-key";

/// The keys a server holds.
#[derive(Clone, Debug)]
pub struct PiiKeys {
    current: KeySet,
    old: Vec<KeySet>,
}

impl PiiKeys {
    /// Keys from master keys: `current` seals, `old` still open.
    pub fn new(current: &[u8; 32], old: &[[u8; 32]]) -> PiiKeys {
        let current = KeySet::from_master(current);
        let old = old
            .iter()
            .map(KeySet::from_master)
            .filter(|k| k.id() != current.id())
            .collect();
        PiiKeys { current, old }
    }

    /// The key that seals.
    pub fn current(&self) -> &KeySet {
        &self.current
    }

    /// Every key, the current one first.
    pub fn all(&self) -> impl Iterator<Item = &KeySet> {
        std::iter::once(&self.current).chain(&self.old)
    }

    /// The key with id `id`, if this server has it.
    pub fn get(&self, id: &str) -> Option<&KeySet> {
        self.all().find(|k| k.id() == id)
    }

    /// Opens a number sealed under key `key_id`.
    pub fn open(
        &self,
        key_id: &str,
        household: &str,
        kind: NumberKind,
        sealed: &str,
    ) -> Result<IdentityNumber, CipherError> {
        self.get(key_id)
            .ok_or_else(|| CipherError::UnknownKey(key_id.to_owned()))?
            .open(household, kind, sealed)
    }

    /// The blind indexes of `number` under every key: during a rotation a row may still be
    /// under an old key, and a lookup or duplicate check must find it all the same.
    pub fn blind_indexes(&self, number: &IdentityNumber) -> Vec<String> {
        self.all().map(|k| k.blind_index(number)).collect()
    }
}

/// A new random master key, as `KAMPUNG_PII_KEY` takes it.
pub fn generate_master_key() -> anyhow::Result<String> {
    Ok(STANDARD.encode(random_key()?))
}

fn random_key() -> anyhow::Result<[u8; 32]> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(key)
}

/// A master key from its text; `what` names where it came from. The message never repeats
/// the text.
fn parse_key(text: &str, what: &str) -> anyhow::Result<[u8; 32]> {
    STANDARD
        .decode(text.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{what} is not the base64 of 32 bytes (`kampung-sync pii new-key` prints a \
                 new key)"
            )
        })
}

/// Checks that the configured keys are keys, before anything is opened or written: a start
/// with a mistyped key stops before it creates a database.
pub fn check_configured(args: &PiiArgs) -> anyhow::Result<()> {
    if let Some(text) = &args.pii_key {
        parse_key(text, "KAMPUNG_PII_KEY")?;
    }
    old_keys(args).map(drop)
}

fn old_keys(args: &PiiArgs) -> anyhow::Result<Vec<[u8; 32]>> {
    args.pii_old_keys
        .iter()
        .filter(|t| !t.trim().is_empty())
        .enumerate()
        .map(|(i, t)| parse_key(t, &format!("key {} of KAMPUNG_PII_OLD_KEYS", i + 1)))
        .collect()
}

/// The keys of `args` (or the key file in `data_dir`), checked against `in_use`, the key
/// ids of the rows the database holds. A server without `KAMPUNG_PII_KEY` and without key
/// file generates one when `may_generate` and the database holds no sealed number; one that
/// cannot open every row refuses to start, so that numbers are never sealed under a second,
/// unrelated key while the first is missing.
pub fn load_keys(
    args: &PiiArgs,
    data_dir: &Path,
    in_use: &[String],
    may_generate: bool,
) -> anyhow::Result<PiiKeys> {
    let path = data_dir.join(KEY_FILE);
    let current = match &args.pii_key {
        Some(text) => parse_key(text, "KAMPUNG_PII_KEY")?,
        None => match read_key_file(&path)? {
            Some(key) => key,
            None => {
                anyhow::ensure!(
                    in_use.is_empty(),
                    "KAMPUNG_PII_KEY is not set and {} does not exist, but the database holds \
                     KK and NIK numbers sealed under key {}: restore that file from its \
                     backup, or set KAMPUNG_PII_KEY",
                    path.display(),
                    in_use.join(", ")
                );
                anyhow::ensure!(
                    may_generate,
                    "KAMPUNG_PII_KEY is not set and {} does not exist",
                    path.display()
                );
                generate_key_file(&path)?
            }
        },
    };
    let old = old_keys(args)?;
    let keys = PiiKeys::new(&current, &old);
    let unknown: Vec<&str> = in_use
        .iter()
        .map(String::as_str)
        .filter(|id| keys.get(id).is_none())
        .collect();
    anyhow::ensure!(
        unknown.is_empty(),
        "the database holds KK and NIK numbers sealed under key {}, which this server was not \
         given (its keys: {}); set the missing key in KAMPUNG_PII_OLD_KEYS, or restore {}",
        unknown.join(", "),
        keys.all().map(KeySet::id).collect::<Vec<_>>().join(", "),
        path.display()
    );
    for k in &keys.old {
        if !in_use.iter().any(|id| id == k.id()) {
            tracing::info!(
                key_id = k.id(),
                "old KK and NIK key seals no stored number: it can leave KAMPUNG_PII_OLD_KEYS"
            );
        }
    }
    tracing::info!(key_id = keys.current.id(), "KK and NIK key loaded");
    Ok(keys)
}

/// The key in the key file; `None` when there is no file. A file others may read, or one
/// that is not a key, stops the start: the first exposes the key, the second would make
/// the server seal under a key nobody backed up.
fn read_key_file(path: &Path) -> anyhow::Result<Option<[u8; 32]>> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => anyhow::bail!("cannot read {}: {e}", path.display()),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)?.permissions().mode() & 0o777;
        anyhow::ensure!(
            mode & 0o077 == 0,
            "{} may be read by other users (mode {mode:o}): `chmod 600 {}`",
            path.display(),
            path.display()
        );
    }
    parse_key(&text, &path.display().to_string()).map(Some)
}

/// Generates the key file, `0600`. Written beside and linked into place, so that the file
/// is never seen half written and two starts at once keep the first one's key.
fn generate_key_file(path: &Path) -> anyhow::Result<[u8; 32]> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let key = random_key()?;
    let beside: PathBuf = dir.join(format!(".{KEY_FILE}.{}", uuid::Uuid::new_v4().simple()));
    let written =
        write_new(&beside, &STANDARD.encode(key)).and_then(|()| fs::hard_link(&beside, path));
    let _ = fs::remove_file(&beside);
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return read_key_file(path)?
                .ok_or_else(|| anyhow::anyhow!("{} vanished", path.display()));
        }
        Err(e) => anyhow::bail!("cannot write {}: {e}", path.display()),
    }
    File::open(dir)?.sync_all()?;
    tracing::warn!(
        path = %path.display(),
        "generated the key of the KK and NIK numbers: back up this file: without it the KK and NIK numbers cannot be read"
    );
    Ok(key)
}

fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(text.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("pii-keys-{}", uuid::Uuid::new_v4().simple()));
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn args(key: Option<&str>, old: &[&str]) -> PiiArgs {
        PiiArgs {
            pii_key: key.map(str::to_owned),
            pii_old_keys: old.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn the_first_start_generates_a_private_key_file_and_the_next_reads_it() {
        let d = dir();
        let first = load_keys(&args(None, &[]), &d, &[], true).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(d.join(KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = load_keys(
            &args(None, &[]),
            &d,
            &[first.current().id().to_owned()],
            true,
        )
        .unwrap();
        assert_eq!(first.current().id(), again.current().id());
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn a_missing_key_file_is_not_replaced_while_rows_need_it() {
        let d = dir();
        let err = load_keys(&args(None, &[]), &d, &["abc".into()], true).unwrap_err();
        assert!(err.to_string().contains("restore"), "{err}");
        assert!(!d.join(KEY_FILE).exists());
        fs::remove_dir_all(d).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_or_not_a_key_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let d = dir();
        let path = d.join(KEY_FILE);
        fs::write(&path, generate_master_key().unwrap()).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_keys(&args(None, &[]), &d, &[], true).unwrap_err();
        assert!(err.to_string().contains("chmod 600"), "{err}");
        fs::write(&path, "short").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let err = load_keys(&args(None, &[]), &d, &[], true).unwrap_err();
        assert!(
            err.to_string().contains("not the base64 of 32 bytes"),
            "{err}"
        );
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn a_bad_configured_key_is_refused_without_echoing_it() {
        let d = dir();
        let err = load_keys(&args(Some("c2VjcmV0LXRvby1zaG9ydA=="), &[]), &d, &[], true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("KAMPUNG_PII_KEY"), "{err}");
        assert!(!err.contains("c2VjcmV0"), "{err}");
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn rows_under_a_key_not_given_stop_the_start_and_old_keys_open_them() {
        let d = dir();
        let old = generate_master_key().unwrap();
        let new = generate_master_key().unwrap();
        let old_id = load_keys(&args(Some(&old), &[]), &d, &[], true)
            .unwrap()
            .current()
            .id()
            .to_owned();
        let in_use = [old_id.clone()];
        let err = load_keys(&args(Some(&new), &[]), &d, &in_use, true).unwrap_err();
        assert!(err.to_string().contains(&old_id), "{err}");
        let keys = load_keys(&args(Some(&new), &[&old]), &d, &in_use, true).unwrap();
        assert_ne!(keys.current().id(), old_id);
        assert!(keys.get(&old_id).is_some());
        let n = IdentityNumber::kk("3510012345678901").unwrap();
        assert_eq!(keys.blind_indexes(&n).len(), 2);
        fs::remove_dir_all(d).unwrap();
    }
}
