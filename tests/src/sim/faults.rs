//! The network between a device and the server, as the simulator breaks it: every request
//! draws from the run's seeded generator whether it is lost on the way, answered but the
//! answer lost, delivered twice, or delivered and kept to be delivered again late.

use std::collections::BTreeMap;

/// What happens to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// The request never reaches the server.
    DropRequest,
    /// The server answers (and commits); the answer never reaches the device.
    DropResponse,
    /// The request reaches the server twice; the device hears the second answer.
    Duplicate,
    /// Delivered, and a copy delivered again later, after the device's newer requests.
    Late,
}

impl Fault {
    /// Every kind, in summary order.
    pub const ALL: [Fault; 4] = [
        Fault::DropRequest,
        Fault::DropResponse,
        Fault::Duplicate,
        Fault::Late,
    ];

    /// The name in summaries.
    pub fn name(self) -> &'static str {
        match self {
            Fault::DropRequest => "dropped requests",
            Fault::DropResponse => "dropped responses",
            Fault::Duplicate => "duplicated deliveries",
            Fault::Late => "late deliveries",
        }
    }
}

/// The faults of a run: how often, and how many of each were injected.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// The chance that a request meets a fault, 0 to 1.
    pub rate: f64,
    /// Injected so far, by kind.
    pub injected: BTreeMap<Fault, u64>,
}

impl Faults {
    /// Draws the fate of one request (`None`: delivered normally).
    pub fn draw(&mut self, rng: &mut fastrand::Rng) -> Option<Fault> {
        if self.rate <= 0.0 || rng.f64() >= self.rate {
            return None;
        }
        let f = Fault::ALL[rng.usize(..Fault::ALL.len())];
        *self.injected.entry(f).or_default() += 1;
        Some(f)
    }

    /// How many faults of `kind` were injected.
    pub fn count(&self, kind: Fault) -> u64 {
        self.injected.get(&kind).copied().unwrap_or(0)
    }
}
