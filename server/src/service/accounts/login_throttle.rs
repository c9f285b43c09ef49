//! How failed sign-ins slow down and then lock further attempts, per user name and per
//! address. The counters live in the database, so every instance shares them.

use crate::db::{AnyConnection, throttle};
use crate::error::ApiError;

const WINDOW_MS: i64 = 15 * 60 * 1000;
const LOCK_MS: i64 = 15 * 60 * 1000;
const MAX_DELAY_MS: i64 = 60 * 1000;

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

    /// The seconds to wait if any counter is locked now.
    pub(super) fn locked_for_secs(
        &self,
        conn: &mut AnyConnection,
        now: i64,
    ) -> Result<Option<i64>, ApiError> {
        for (key, _) in self.each() {
            let a = throttle::get(conn, key)?;
            if a.locked_until > now {
                return Ok(Some((a.locked_until - now + 999) / 1000));
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
        Ok(())
    }

    /// Forgets the user name's failures after a successful sign-in. The address keeps its
    /// count: one success must not reset a guesser spreading over many names.
    pub(super) fn clear_user(&self, conn: &mut AnyConnection) -> Result<(), ApiError> {
        throttle::clear(conn, &self.user)?;
        Ok(())
    }
}
