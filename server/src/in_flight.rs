//! How many requests each device and each user has in progress on this instance. One
//! device (or a token copied to many clients) looping on pulls must not take every worker
//! and connection from the others: beyond its share it is answered `429 too_many_requests`
//! at once, before any database work.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use sync_protocol::DeviceId;

use crate::error::{ApiError, ErrorCode};
use crate::ids::UserId;

/// The counts, and the most each device and each user may have.
#[derive(Debug)]
pub struct InFlight {
    per_device: u32,
    per_user: u32,
    counts: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    devices: HashMap<DeviceId, u32>,
    users: HashMap<UserId, u32>,
}

/// One request's place, given back when the last clone of it is dropped.
#[derive(Debug)]
pub struct Slot {
    owner: Arc<InFlight>,
    device: DeviceId,
    user: UserId,
}

impl InFlight {
    /// At most `per_device` requests of one device and `per_user` of one user at once.
    pub fn new(per_device: u32, per_user: u32) -> Arc<Self> {
        Arc::new(InFlight {
            per_device: per_device.max(1),
            per_user: per_user.max(1),
            counts: Mutex::new(Counts::default()),
        })
    }

    /// A place for one more request of `device` of `user`, or `429 too_many_requests`.
    pub fn enter(self: &Arc<Self>, device: DeviceId, user: UserId) -> Result<Slot, ApiError> {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let on_device = counts.devices.get(&device).copied().unwrap_or(0);
        let of_user = counts.users.get(&user).copied().unwrap_or(0);
        let refused = if on_device >= self.per_device {
            Some(format!(
                "this device already has {on_device} requests in progress: wait for their \
                 answers before sending more"
            ))
        } else if of_user >= self.per_user {
            Some(format!(
                "your devices already have {of_user} requests in progress: wait for their \
                 answers before sending more"
            ))
        } else {
            None
        };
        if let Some(message) = refused {
            return Err(ApiError::RetryLater {
                code: ErrorCode::TooManyRequests,
                message,
                retry_after_secs: 1,
            });
        }
        *counts.devices.entry(device).or_default() += 1;
        *counts.users.entry(user).or_default() += 1;
        Ok(Slot {
            owner: Arc::clone(self),
            device,
            user,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self
            .owner
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let Counts { devices, users } = &mut *counts;
        release(devices, self.device);
        release(users, self.user);
    }
}

fn release<K: std::hash::Hash + Eq>(map: &mut HashMap<K, u32>, key: K) {
    if let Some(n) = map.get_mut(&key) {
        *n -= 1;
        if *n == 0 {
            map.remove(&key);
        }
    }
}
