//! The clock: a dotted version vector whose one replica actor is the server, with each
//! device as a session actor.
//!
//! Every write a record accepts gets the next server counter as its dot, under the record's
//! lock, so a record's events form one total order and its version vector is the single
//! entry `{server: version}`. The device's `(id, seq)` is the same event's second name: it
//! lets a device's later write supersede its own earlier ones without having seen the
//! server's answer.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ids::{DeviceId, Epoch};

/// The identity of one stored value: the server counter that accepted it, and the device
/// operation that wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Dot {
    /// The record version issued for this write (the server's name for the event).
    pub server: u64,
    /// The writing device.
    pub device: DeviceId,
    /// The device's sequence number of the writing operation.
    pub seq: u64,
}

/// An entry name in a version vector: the server, or one device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Actor {
    /// The server: one logical replica, however many instances serve it.
    Server,
    /// A device, as a session actor.
    Device(DeviceId),
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Server => f.write_str("server"),
            Actor::Device(d) => d.fmt(f),
        }
    }
}

impl FromStr for Actor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "server" {
            return Ok(Actor::Server);
        }
        s.parse::<DeviceId>()
            .map(Actor::Device)
            .map_err(|_| format!("clock entry `{s}` is neither `server` nor a device id"))
    }
}

impl Serialize for Actor {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Actor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A version vector: actor to the number of that actor's events seen.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct VersionVector(pub BTreeMap<Actor, u64>);

impl VersionVector {
    /// The entry for `actor`, 0 when absent.
    pub fn get(&self, actor: Actor) -> u64 {
        self.0.get(&actor).copied().unwrap_or(0)
    }

    /// A vector with only the server entry.
    pub fn server(version: u64) -> Self {
        let mut m = BTreeMap::new();
        m.insert(Actor::Server, version);
        VersionVector(m)
    }
}

/// An operation's causal context: what the writer had seen when it made the edit.
///
/// `vv.server` is the record version the edit was based on (0 for "nothing"); the device's
/// own entry, if sent, must be below the operation's own sequence number. The epoch names
/// the database generation that issued `vv.server`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    /// The database epoch of the version seen; absent when the device has seen nothing.
    #[serde(default)]
    pub epoch: Option<Epoch>,
    /// The version vector seen: `{"server": version}`, and the device's own entry (its id to
    /// a sequence number) if sent.
    #[serde(default, deserialize_with = "crate::wire::null_as_default")]
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, u64>))]
    pub vv: VersionVector,
}

impl Context {
    /// A context that has seen `version` of a record in `epoch`.
    pub fn seen(epoch: Epoch, version: u64) -> Self {
        Context {
            epoch: Some(epoch),
            vv: VersionVector::server(version),
        }
    }
}
