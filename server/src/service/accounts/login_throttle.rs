//! How failed sign-ins slow down and then lock further attempts: per user name, per address,
//! and for the whole server. The counters live in the database, so every instance shares them.

use crate::db::{AnyConnection, audit as audit_rows, throttle};
use crate::error::ApiError;
use crate::service::audit::{self, Entry};

const WINDOW_MS: i64 = 15 * 60 * 1000;
const LOCK_MS: i64 = 15 * 60 * 1000;
const MAX_DELAY_MS: i64 = 60 * 1000;
/// Refused attempts are summed into one audit entry per counter and this span, not one
/// entry each: hammering a locked name must not grow the log.
const SUMMARY_MS: i64 = 15 * 60 * 1000;
const GLOBAL_KEY: &str = "global";

/// When failures start to slow sign-in down, and when they lock it.
struct ThrottlePolicy {
    slow_after: i64,
    lock_after: i64,
}

/// Per user name: guessing one account's password.
const PER_USER: ThrottlePolicy = ThrottlePolicy {
    slow_after: 3,
    lock_after: 10,
};
/// Per address: far looser, because mobile carriers put many officers behind one address
/// (carrier-grade NAT) and one officer's typos must not lock out a whole district.
const PER_ADDRESS: ThrottlePolicy = ThrottlePolicy {
    slow_after: 30,
    lock_after: 200,
};

/// A counter that refuses attempts now.
pub(super) struct Locked {
    key: String,
    /// Seconds until it lets attempts through again.
    pub(super) retry_after_secs: i64,
}

/// The counters one sign-in attempt is held to.
pub(super) struct ThrottleKeys {
    user: String,
    addr: Option<String>,
}

impl ThrottleKeys {
    /// The counters for `username` signing in from `addr`.
    pub(super) fn new(username: &str, addr: Option<&str>) -> Self {
        ThrottleKeys {
            user: format!("user:{username}"),
            addr: addr.map(|a| format!("addr:{a}")),
        }
    }

    fn each(&self) -> impl Iterator<Item = (&str, &'static ThrottlePolicy)> {
        std::iter::once((self.user.as_str(), &PER_USER))
            .chain(self.addr.as_deref().map(|a| (a, &PER_ADDRESS)))
    }

    /// The first counter that refuses attempts now, if any. The server-wide one refuses
    /// once `global_per_sec` failures (of any names, from any addresses) fell in the
    /// current second: a guesser spread over many addresses and names is slowed to that rate.
    pub(super) fn locked(
        &self,
        conn: &mut AnyConnection,
        now: i64,
        global_per_sec: i64,
    ) -> Result<Option<Locked>, ApiError> {
        let global = throttle::get(conn, GLOBAL_KEY)?;
        if now - global.window_start < 1000 && global.failures >= global_per_sec {
            return Ok(Some(Locked {
                key: GLOBAL_KEY.into(),
                retry_after_secs: 1,
            }));
        }
        for (key, _) in self.each() {
            let a = throttle::get(conn, key)?;
            if a.locked_until > now {
                return Ok(Some(Locked {
                    key: key.to_owned(),
                    retry_after_secs: (a.locked_until - now + 999) / 1000,
                }));
            }
        }
        Ok(None)
    }

    /// Counts one failure on every counter. Run in a write transaction.
    pub(super) fn count_failure(&self, conn: &mut AnyConnection, now: i64) -> Result<(), ApiError> {
        throttle::purge_stale(conn, now - WINDOW_MS, now)?;
        for (key, policy) in self.each() {
            let mut a = throttle::get(conn, key)?;
            if now - a.window_start > WINDOW_MS {
                a = throttle::Attempts {
                    failures: 0,
                    window_start: now,
                    locked_until: 0,
                };
            }
            a.failures += 1;
            a.locked_until = if a.failures >= policy.lock_after {
                now + LOCK_MS
            } else if a.failures >= policy.slow_after {
                // Slow down: 1 s, 2 s, 4 s ... before the next attempt is even checked.
                let shift = u32::try_from(a.failures - policy.slow_after)
                    .unwrap_or(16)
                    .min(16);
                now + (1000_i64 << shift).min(MAX_DELAY_MS)
            } else {
                0
            };
            throttle::put(conn, key, a)?;
        }
        let mut global = throttle::get(conn, GLOBAL_KEY)?;
        if now - global.window_start >= 1000 {
            global = throttle::Attempts {
                failures: 0,
                window_start: now,
                locked_until: 0,
            };
        }
        global.failures += 1;
        throttle::put(conn, GLOBAL_KEY, global)?;
        Ok(())
    }

    /// Records an attempt refused by `locked` in the audit log: the first of a span gets an
    /// entry `login_throttled`, later ones add to its `attempts`. Like every audit write, a
    /// failure here is logged and never changes the answer.
    pub(super) fn summarise_refusal(
        &self,
        conn: &mut AnyConnection,
        locked: &Locked,
        username: &str,
        addr: Option<String>,
        now: i64,
    ) {
        let counted = crate::db::write_tx(conn, |c| {
            let Some((id, detail)) =
                audit_rows::latest(c, "login_throttled", &locked.key, now - SUMMARY_MS)?
            else {
                return Ok::<_, ApiError>(false);
            };
            let attempts = serde_json::from_str::<serde_json::Value>(&detail)
                .ok()
                .and_then(|d| d["attempts"].as_i64())
                .unwrap_or(1);
            let detail = serde_json::json!({"attempts": attempts + 1, "last_at": now});
            audit_rows::set_detail(c, &id, &detail.to_string())?;
            Ok(true)
        });
        match counted {
            Ok(true) => {}
            Ok(false) => audit::append(
                conn,
                Entry {
                    actor_username: Some(username.to_owned()),
                    remote_addr: addr,
                    success: false,
                    ..Entry::system(
                        "login_throttled",
                        Some(&locked.key),
                        serde_json::json!({"attempts": 1, "last_at": now}),
                    )
                },
            ),
            Err(e) => tracing::warn!(error = %e, "cannot count a throttled sign-in"),
        }
    }

    /// Forgets the user name's failures after a successful sign-in. The address keeps its
    /// count: one success must not reset a guesser spreading over many names.
    pub(super) fn clear_user(&self, conn: &mut AnyConnection) -> Result<(), ApiError> {
        throttle::clear(conn, &self.user)?;
        Ok(())
    }
}
