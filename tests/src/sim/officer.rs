//! One virtual device: the reference client, its tokens, and one sync over the faulty
//! network. Every protocol decision is the client's; this file moves bytes, breaks the
//! network as the run's generator says, and tells the ledger what the device heard.

use serde_json::{Value, json};
use sync_protocol::client::{Client, ClientStore, MemoryClientStore, Refusal, Request};
use sync_protocol::outcome::Status;
use sync_protocol::wire::{PullResponse, PushResponse, RecordView};
use sync_protocol::{DeviceId, RecordId};
use uuid::Uuid;

use super::faults::{Fault, Faults};
use super::http::Http;
use super::ledger::{Heard, Ledger};
use super::summary::Counters;

/// Whose scope a device syncs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holder {
    /// Officer number `i`: the households assigned to them.
    Officer(usize),
    /// The agency's supervisor: every household assigned in the agency.
    Supervisor,
    /// The regency administrator: everything (the auditor of the final checks).
    Regency,
}

/// Everything a device's sync needs besides the device: the servers, the network's faults,
/// the generator, the ledger and the counters.
pub struct Net {
    /// HTTP.
    pub http: Http,
    /// The address of each server instance.
    pub bases: Vec<String>,
    /// The run's generator: every decision of the run comes from it.
    pub rng: fastrand::Rng,
    /// The faults and how many were injected.
    pub faults: Faults,
    /// What the checks need.
    pub ledger: Ledger,
    /// What the summary counts.
    pub counters: Counters,
    /// The run's log, one line per event: what the same seed must give again.
    pub log: Vec<String>,
    /// When set, the instance is killed right after the next push reaches it (the server
    /// committed; the device never hears).
    pub kill_after_push: Option<usize>,
    /// Set by the network when it killed an instance, for the world to restart it.
    pub killed: Option<usize>,
    /// The server processes the simulator started, by instance (empty when given an
    /// address).
    pub instances: Vec<Option<super::servers::Instance>>,
}

impl Net {
    /// A random UUID from the run's generator, so that a replay makes the same ids.
    pub fn uuid(&mut self) -> Uuid {
        let mut b = [0u8; 16];
        self.rng.fill(&mut b);
        uuid::Builder::from_random_bytes(b).into_uuid()
    }

    fn send(
        &mut self,
        instance: usize,
        token: &str,
        req: &Request,
    ) -> anyhow::Result<(u16, Value)> {
        let base = &self.bases[instance];
        match req {
            Request::Push { body } => self.http.raw(
                "POST",
                &format!("{base}/v1/sync/push"),
                Some(token),
                "application/json",
                Some(body),
            ),
            Request::Pull { cursor } => {
                let url = match cursor {
                    Some(c) => format!("{base}/v1/sync/pull?cursor={c}"),
                    None => format!("{base}/v1/sync/pull"),
                };
                self.http.json("GET", &url, Some(token), None)
            }
            _ => Err(anyhow::anyhow!("not a request that goes over the network")),
        }
    }
}

/// How a sync ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncEnd {
    /// Pushed everything and pulled to the end.
    Done,
    /// Too many answers lost in a row: the device tries again later.
    GaveUp,
    /// The client stopped, for this code.
    Stopped(String),
}

/// Lost answers in a row after which a device stops trying until its next sync.
const GIVE_UP_AFTER: u32 = 6;

/// One virtual device.
pub struct SimDevice {
    /// A name for logs: `o3/phone`.
    pub label: String,
    /// Whose scope it syncs.
    pub holder: Holder,
    /// Sign-in name and password.
    pub user: String,
    password: String,
    /// The client.
    pub client: Client,
    /// What survives a crash of the app.
    pub store: MemoryClientStore,
    token: String,
    refresh: String,
    /// The server instance it talks to.
    pub instance: usize,
    /// The first day it is online again.
    pub offline_until: u32,
    /// Push bodies delivered once and kept for a late second delivery.
    late: Vec<String>,
    /// Its index among the world's devices.
    pub index: usize,
}

impl SimDevice {
    /// A device of `user`, signed in with an installation id from the generator.
    pub fn sign_in(
        net: &mut Net,
        (index, label): (usize, String),
        holder: Holder,
        (user, password): (&str, &str),
        instance: usize,
    ) -> anyhow::Result<SimDevice> {
        let id = DeviceId(net.uuid());
        let mut d = SimDevice {
            label,
            holder,
            user: user.to_owned(),
            password: password.to_owned(),
            client: Client::new(id),
            store: MemoryClientStore::default(),
            token: String::new(),
            refresh: String::new(),
            instance,
            offline_until: 0,
            late: Vec::new(),
            index,
        };
        d.login(net, id)?;
        Ok(d)
    }

    fn login(&mut self, net: &mut Net, id: DeviceId) -> anyhow::Result<()> {
        let url = format!("{}/v1/auth/login", net.bases[self.instance]);
        let body = json!({"username": self.user, "password": self.password, "device_id": id});
        let (st, v) = net.http.json("POST", &url, None, Some(&body))?;
        anyhow::ensure!(st == 200, "sign-in of {}: {st} {v}", self.user);
        self.token = v["access_token"].as_str().unwrap_or_default().to_owned();
        self.refresh = v["refresh_token"].as_str().unwrap_or_default().to_owned();
        Ok(())
    }

    fn refresh_token(&mut self, net: &mut Net) -> anyhow::Result<()> {
        let url = format!("{}/v1/auth/refresh", net.bases[self.instance]);
        let (st, v) = net.http.json(
            "POST",
            &url,
            None,
            Some(&json!({"refresh_token": self.refresh})),
        )?;
        if st == 200 {
            self.token = v["access_token"].as_str().unwrap_or_default().to_owned();
            self.refresh = v["refresh_token"].as_str().unwrap_or_default().to_owned();
            Ok(())
        } else {
            self.login(net, self.client.device_id())
        }
    }

    /// The app is killed and started again: what was not stored is gone.
    pub fn crash(&mut self) {
        if let Ok(Some(c)) = self.store.load() {
            self.client = c;
        }
    }

    /// One sync: push the outbox, pull to the end, with faults when `faults` says so.
    pub fn sync(&mut self, net: &mut Net, faults: bool) -> anyhow::Result<SyncEnd> {
        self.client.start_sync();
        let mut lost = 0;
        for _ in 0..2000 {
            if faults && !self.late.is_empty() && net.rng.f64() < 0.3 {
                self.deliver_late(net);
            }
            let req = self.client.next_request();
            let heard = match &req {
                Request::Done => return Ok(self.end(SyncEnd::Done)),
                Request::Stopped(code) => return Ok(self.end(SyncEnd::Stopped(code.clone()))),
                Request::NewInstallation(reason) => {
                    let id = DeviceId(net.uuid());
                    net.log
                        .push(format!("{} new installation ({reason:?})", self.label));
                    self.login(net, id)?;
                    self.client.new_installation(id);
                    for p in self.client.outbox().pending() {
                        net.ledger.queued(id, &p.operation());
                    }
                    self.save();
                    continue;
                }
                Request::Push { .. } | Request::Pull { .. } => self.exchange(net, &req, faults),
            };
            match heard {
                Some((200, answer)) => {
                    lost = 0;
                    self.take(net, &req, answer)?;
                }
                Some((status, answer)) => {
                    let code = answer["error"]["code"].as_str().unwrap_or("").to_owned();
                    net.counters.refused += 1;
                    match self.client.on_refused(status, &code) {
                        Refusal::RefreshToken => self.refresh_token(net)?,
                        Refusal::SignIn => self.login(net, self.client.device_id())?,
                        Refusal::Retry(_) => lost += 1,
                        Refusal::Stop => {
                            net.log
                                .push(format!("{} stopped: {status} {code}", self.label));
                        }
                    }
                }
                None => {
                    // The client's backoff is virtual time here: the next try is at once.
                    let _ = self.client.on_lost_answer();
                    lost += 1;
                }
            }
            self.save();
            if lost >= GIVE_UP_AFTER {
                return Ok(self.end(SyncEnd::GaveUp));
            }
        }
        anyhow::bail!("{}: the sync did not end", self.label)
    }

    fn end(&mut self, end: SyncEnd) -> SyncEnd {
        self.save();
        end
    }

    fn save(&mut self) {
        let _ = self.store.save(&self.client);
    }

    /// Sends a request through the faulty network; `None` when no answer reaches the
    /// device.
    fn exchange(&mut self, net: &mut Net, req: &Request, faults: bool) -> Option<(u16, Value)> {
        let fault = if faults {
            net.faults.draw(&mut net.rng)
        } else {
            None
        };
        let what = if matches!(req, Request::Push { .. }) {
            "push"
        } else {
            "pull"
        };
        if let Some(f) = fault {
            net.log.push(format!("{} {what}: {}", self.label, f.name()));
        }
        if fault == Some(Fault::DropRequest) {
            return None;
        }
        if let Request::Push { body } = req {
            net.ledger.pushes.push((self.index, body.clone()));
            if fault == Some(Fault::Late) {
                self.late.push(body.clone());
            }
        }
        let mut answer = net.send(self.instance, &self.token, req).ok();
        if fault == Some(Fault::Duplicate) && answer.is_some() {
            answer = net.send(self.instance, &self.token, req).ok();
        }
        if matches!(req, Request::Push { .. }) && net.kill_after_push == Some(self.instance) {
            net.kill_after_push = None;
            net.killed = Some(self.instance);
            if let Some(Some(i)) = net.instances.get_mut(self.instance) {
                i.kill();
            }
            net.log.push(format!(
                "{} push reached the server; server killed",
                self.label
            ));
            return None;
        }
        if fault == Some(Fault::DropResponse) {
            return None;
        }
        answer
    }

    /// Delivers a push body kept for a late delivery: after the device's newer requests it
    /// must be answered as the duplicate it is, with the statuses and dots first given.
    fn deliver_late(&mut self, net: &mut Net) {
        let i = net.rng.usize(..self.late.len());
        let body = self.late.remove(i);
        if !body.contains(&self.client.device_id().to_string()) {
            return;
        }
        net.counters.late_delivered += 1;
        let req = Request::Push { body };
        let Ok((status, answer)) = net.send(self.instance, &self.token, &req) else {
            return;
        };
        if status != 200 {
            return;
        }
        let Ok(resp) = serde_json::from_value::<PushResponse>(answer) else {
            net.ledger.violations.push(format!(
                "{}: a late push's answer does not parse",
                self.label
            ));
            return;
        };
        let device = self.client.device_id();
        for r in &resp.results {
            let first = net.ledger.acked.get(&(device, r.seq)).copied();
            let ok = match r.status {
                Status::Duplicate => first.is_none_or(|h| h.dot == r.dot),
                // Never delivered before (its first delivery's answer was lost, and the
                // client has not sent it again yet): processed now, heard by nobody.
                Status::Applied | Status::Conflict | Status::Rejected => first.is_none(),
                Status::Gap => true,
                Status::SeqReuse => false,
            };
            if !ok {
                net.ledger.violations.push(format!(
                    "{}: a late copy of seq {} was answered {:?} (dot {:?}), first heard {:?}",
                    self.label, r.seq, r.status, r.dot, first
                ));
            }
        }
    }

    /// Sends an old push body again with the current token, if it is this installation's:
    /// (status, answer); `None` when it is not or nothing came back.
    pub fn resend(&mut self, net: &mut Net, body: &str) -> Option<(u16, Value)> {
        if !body.contains(&self.client.device_id().to_string()) {
            return None;
        }
        let req = Request::Push {
            body: body.to_owned(),
        };
        net.send(self.instance, &self.token, &req).ok()
    }

    /// Hands a `200` answer to the client, after telling the ledger what it says.
    fn take(&mut self, net: &mut Net, req: &Request, answer: Value) -> anyhow::Result<()> {
        match req {
            Request::Push { .. } => {
                let resp: PushResponse = serde_json::from_value(answer)?;
                let device = self.client.device_id();
                for r in &resp.results {
                    let status = match r.status {
                        Status::Duplicate => r.original_status.unwrap_or(Status::Duplicate),
                        s => s,
                    };
                    net.counters
                        .count_result(r.status, status, r.error.as_ref());
                    if matches!(status, Status::Applied | Status::Conflict) {
                        net.ledger
                            .acked
                            .insert((device, r.seq), Heard { status, dot: r.dot });
                        if let Some(w) = net.ledger.writes.get(&(device, r.seq))
                            && w.registers.contains_key("household_id")
                        {
                            let id = w.record;
                            let hh = w.registers["household_id"]["household_id"]
                                .as_str()
                                .and_then(|s| s.parse().ok());
                            if let Some(hh) = hh {
                                net.ledger.created.insert(id, RecordId(hh));
                            }
                        }
                    }
                    if let Some(view) = &r.record {
                        self.check_scope(net, view, "push answer");
                    }
                }
                let seqs: Vec<u64> = resp.results.iter().map(|r| r.seq).collect();
                net.log.push(format!(
                    "{} push {:?}: {}",
                    self.label,
                    (seqs.first(), seqs.last()),
                    resp.results
                        .iter()
                        .map(|r| format!("{:?}", r.status))
                        .collect::<Vec<_>>()
                        .join(",")
                ));
                self.client.on_push_response(&resp);
            }
            Request::Pull { .. } => {
                let page: PullResponse = serde_json::from_value(answer)?;
                for view in &page.changes {
                    self.check_scope(net, view, "pull");
                }
                net.counters.pulled += page.changes.len() as u64;
                net.counters.removals += page.removals.len() as u64;
                self.client.on_pull_response(&page);
            }
            _ => {}
        }
        for e in self.client.take_events() {
            net.counters.count_event(&e);
        }
        Ok(())
    }

    /// A record that reached the device must be in its scope at that moment.
    fn check_scope(&self, net: &mut Net, view: &RecordView, how: &str) {
        let Some(hh) = household_of(view) else { return };
        if !in_scope(&net.ledger.owner, self.holder, hh) {
            net.ledger.violations.push(format!(
                "scope: {} got {} {} (household {hh}) by {how}, but its owner is {:?}",
                self.label,
                view.collection,
                view.id,
                net.ledger.owner.get(&hh)
            ));
        }
    }
}

/// The household a record belongs to: itself, or its `household_id`.
pub fn household_of(view: &RecordView) -> Option<RecordId> {
    if view.collection == "households" {
        return Some(view.id);
    }
    view.fields
        .get("household_id")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .map(RecordId)
}

/// Whether `household` is in the scope of `holder` given the current assignments.
pub fn in_scope(
    owner: &std::collections::BTreeMap<RecordId, Option<usize>>,
    holder: Holder,
    household: RecordId,
) -> bool {
    let current = owner.get(&household).copied().flatten();
    match holder {
        Holder::Officer(i) => current == Some(i),
        Holder::Supervisor => current.is_some(),
        Holder::Regency => true,
    }
}
