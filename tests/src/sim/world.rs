//! The simulated regency: an agency, its officers and their devices, a supervisor, the
//! households and their assignments, set up through the admin API, and the virtual days in
//! which devices go offline, record visits and aid, edit shared households, and sync while
//! the administrator reassigns households and edits them from the console.

use anyhow::{Context as _, anyhow, ensure};
use serde_json::{Map, Value, json};
use sync_protocol::schema::{AID_KINDS, VISIT_OUTCOMES};
use sync_protocol::wire::OpKind;
use sync_protocol::{Collection, RecordId};

use super::faults::Faults;
use super::http::Http;
use super::ledger::{Ledger, Write, register_writes};
use super::officer::{Holder, Net, SimDevice, SyncEnd};
use super::servers::{Db, Instance, ServerBin};
use super::summary::Counters;

const DAY_MS: u64 = 86_400_000;
const DESA: &str = "3510010001";
const OFFICER_PASSWORD: &str = "sim-officer-password";
const PHONES: [&str; 3] = ["0811", "0812", "0813"];
const NOTES: [&str; 4] = ["atap bocor", "anak sakit", "pindah rumah", "sudah baik"];

/// The servers of a run.
pub struct Servers {
    /// The database, when the simulator made it.
    pub db: Option<Db>,
    /// How instances are started, when the simulator starts them.
    pub bin: Option<ServerBin>,
    /// The running instances (empty when given an address); moved into [`Net`] at set-up.
    pub instances: Vec<Option<Instance>>,
    /// The database URL, when known: the deep checks read it.
    pub db_url: Option<String>,
}

/// An officer as created.
pub struct Officer {
    /// Sign-in name.
    pub user: String,
    /// User id.
    pub id: String,
}

/// The whole simulated world.
pub struct World {
    /// Network, generator, ledger and counters.
    pub net: Net,
    /// Every device, officers' first, then the supervisor's.
    pub devices: Vec<SimDevice>,
    /// The officers.
    pub officers: Vec<Officer>,
    /// The households, in creation order.
    pub households: Vec<RecordId>,
    /// The servers.
    pub servers: Servers,
    admin_token: String,
    admin_password: String,
    /// Virtual time of the first day, ms since the epoch.
    t0: u64,
    /// Edits made so far: each gets its own virtual minute.
    ticks: u64,
}

impl World {
    /// Sets the world up through the admin API: an agency, `officers` officers and a
    /// supervisor, four households per officer (created from the console and assigned by
    /// a CSV import), and the devices signed in.
    pub fn set_up(
        seed: u64,
        officers: usize,
        days: u32,
        rate: f64,
        mut servers: Servers,
        bases: Vec<String>,
        admin: (&str, &str),
    ) -> anyhow::Result<World> {
        let now = u64::try_from(kampung_sync::db::now_ms()).unwrap_or(0);
        let mut net = Net {
            http: Http::default(),
            bases,
            rng: fastrand::Rng::with_seed(seed),
            faults: Faults {
                rate,
                ..Faults::default()
            },
            ledger: Ledger::default(),
            counters: Counters::default(),
            log: Vec::new(),
            kill_after_push: None,
            killed: None,
            instances: std::mem::take(&mut servers.instances),
        };
        let base = net.bases[0].clone();
        let device = net.uuid();
        let (st, body) = net.http.json(
            "POST",
            &format!("{base}/v1/auth/login"),
            None,
            Some(&json!({"username": admin.0, "password": admin.1, "device_id": device})),
        )?;
        ensure!(st == 200, "administrator's sign-in: {st} {body}");
        let admin_token = body["access_token"].as_str().unwrap_or_default().to_owned();
        let mut w = World {
            net,
            devices: Vec::new(),
            officers: Vec::new(),
            households: Vec::new(),
            servers: std::mem::replace(
                &mut servers,
                Servers {
                    db: None,
                    bin: None,
                    instances: Vec::new(),
                    db_url: None,
                },
            ),
            admin_token,
            admin_password: admin.1.to_owned(),
            t0: (now / DAY_MS).saturating_sub(u64::from(days) + 1) * DAY_MS + 8 * 3_600_000,
            ticks: 0,
        };
        let tag = format!("{seed:x}");
        let agency = w.admin(
            "POST",
            "/v1/admin/agencies",
            &json!({"name": format!("Dinas Sosial sim {tag}"), "kind": "opd"}),
        )?;
        let agency = agency["id"].as_str().unwrap_or_default().to_owned();
        for i in 0..officers {
            let user = format!("sim-{tag}-o{i}");
            let u = w.admin(
                "POST",
                "/v1/admin/users",
                &json!({"username": user, "display_name": format!("Petugas {i}"), "role": "officer",
                        "agency_id": agency, "password": OFFICER_PASSWORD}),
            )?;
            let id = u["id"].as_str().unwrap_or_default().to_owned();
            w.officers.push(Officer { user, id });
        }
        let supervisor = format!("sim-{tag}-sup");
        w.admin(
            "POST",
            "/v1/admin/users",
            &json!({"username": supervisor, "display_name": "Supervisor", "role": "agency_admin",
                    "agency_id": agency, "password": OFFICER_PASSWORD}),
        )?;
        let mut csv = String::from("household_id,officer,reason\n");
        for i in 0..officers * 4 {
            let id = RecordId(w.net.uuid());
            let fields = json!({"head_name": format!("Keluarga {i}"), "desa_code": DESA,
                                "status": "active", "phone": PHONES[i % 3]});
            w.console_write(OpKind::Put, id, None, fields)?;
            w.households.push(id);
            let officer = i % officers;
            csv.push_str(&format!(
                "{id},{},first assignment\n",
                w.officers[officer].user
            ));
            w.net.ledger.owner.insert(id, Some(officer));
        }
        let (st, body) = w.net.http.raw(
            "POST",
            &format!("{base}/v1/admin/assignments/import"),
            Some(&w.admin_token),
            "text/csv",
            Some(&csv),
        )?;
        ensure!(st == 200, "assignment import: {st} {body}");
        let instances = w.net.bases.len();
        for i in 0..officers {
            let mut kinds = vec!["phone"];
            if i % 3 == 0 {
                kinds.push("tablet");
            }
            for kind in kinds {
                let index = w.devices.len();
                let user = w.officers[i].user.clone();
                let d = SimDevice::sign_in(
                    &mut w.net,
                    (index, format!("o{i}/{kind}")),
                    Holder::Officer(i),
                    (&user, OFFICER_PASSWORD),
                    index % instances,
                )?;
                w.devices.push(d);
            }
        }
        let index = w.devices.len();
        let d = SimDevice::sign_in(
            &mut w.net,
            (index, "sup/tablet".into()),
            Holder::Supervisor,
            (&supervisor, OFFICER_PASSWORD),
            index % instances,
        )?;
        w.devices.push(d);
        w.net.log.push(format!(
            "set up: {officers} officers, {} devices, {} households",
            w.devices.len(),
            w.households.len()
        ));
        Ok(w)
    }

    /// An admin API call that must succeed: the answer.
    fn admin(&mut self, method: &str, path: &str, body: &Value) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.net.bases[0]);
        let (st, v) = self
            .net
            .http
            .json(method, &url, Some(&self.admin_token), Some(body))
            .with_context(|| format!("{method} {path}"))?;
        ensure!((200..300).contains(&st), "{method} {path}: {st} {v}");
        Ok(v)
    }

    /// An edit from the administrator's console, remembered for the checks.
    fn console_write(
        &mut self,
        kind: OpKind,
        id: RecordId,
        ctx: Option<&Value>,
        fields: Value,
    ) -> anyhow::Result<()> {
        let method = if kind == OpKind::Put { "PUT" } else { "PATCH" };
        let mut body = json!({"fields": fields});
        if let Some(c) = ctx {
            body["ctx"] = c.clone();
        }
        let answer = self.admin(method, &format!("/v1/admin/records/households/{id}"), &body)?;
        let seq = answer["result"]["seq"]
            .as_u64()
            .ok_or_else(|| anyhow!("a console edit without a seq: {answer}"))?;
        let seen = ctx.and_then(|c| c["vv"]["server"].as_u64()).unwrap_or(0);
        let epoch = ctx
            .and_then(|c| c["epoch"].as_str())
            .and_then(|s| s.parse().ok());
        self.net.ledger.console.insert(
            seq,
            Write {
                record: id,
                kind,
                registers: register_writes(Collection::Households, kind, fields.as_object()),
                seen,
                epoch,
            },
        );
        let status = answer["result"]["status"]
            .as_str()
            .unwrap_or("?")
            .to_owned();
        self.net
            .log
            .push(format!("console {kind:?} {id} seq {seq}: {status}"));
        Ok(())
    }

    /// Runs the days.
    pub fn run_days(&mut self, days: u32, kill_restart: bool) -> anyhow::Result<()> {
        let kill_days = [days / 3, (2 * days) / 3];
        for day in 0..days {
            self.net.log.push(format!("day {day}"));
            if kill_restart && kill_days.contains(&day) {
                // The last instance: with two, the first keeps serving the admin.
                self.net.kill_after_push = Some(self.net.bases.len() - 1);
            }
            self.admin_day()?;
            for i in 0..self.devices.len() {
                self.device_day(i, day)?;
            }
            self.restart_killed()?;
        }
        Ok(())
    }

    fn restart_killed(&mut self) -> anyhow::Result<()> {
        let Some(i) = self.net.killed.take() else {
            return Ok(());
        };
        let (Some(bin), Some(db)) = (&self.servers.bin, &self.servers.db) else {
            return Err(anyhow!("only a server the simulator started can be killed"));
        };
        if let Some(Some(old)) = self.net.instances.get_mut(i) {
            old.kill();
        }
        let new = Instance::start(bin, db)?;
        self.net.bases[i] = new.base.clone();
        self.net.instances[i] = Some(new);
        self.net.counters.kills += 1;
        self.net.log.push(format!("instance {i} restarted"));
        Ok(())
    }

    /// The administrator's day: a reassignment now and then (the devices concerned may be
    /// offline), an assignment ended or restored, a console edit of a household's phone.
    fn admin_day(&mut self) -> anyhow::Result<()> {
        let officers = self.officers.len();
        if self.net.rng.f64() < 0.6 && officers > 1 {
            let h = self.households[self.net.rng.usize(..self.households.len())];
            let to = self.net.rng.usize(..officers);
            if self.net.ledger.owner.get(&h).copied().flatten() != Some(to) {
                self.assign(h, to)?;
                self.net.counters.reassignments += 1;
            }
        }
        if self.net.rng.f64() < 0.15 {
            let h = self.households[self.net.rng.usize(..self.households.len())];
            if self.net.ledger.owner.get(&h).copied().flatten().is_some() {
                let list = self.admin_get(&format!(
                    "/v1/admin/assignments?household_id={h}&active=true"
                ))?;
                let id = list["items"]
                    .as_array()
                    .and_then(|a| a.first())
                    .and_then(|a| a["id"].as_str())
                    .ok_or_else(|| anyhow!("no active assignment of {h}: {list}"))?
                    .to_owned();
                self.admin(
                    "POST",
                    &format!("/v1/admin/assignments/{id}/end"),
                    &json!({"reason": "household moved away"}),
                )?;
                self.net.ledger.owner.insert(h, None);
                self.net.ledger.taken.insert(h);
                self.net.counters.unassigned += 1;
                self.net
                    .log
                    .push(format!("admin ended the assignment of {h}"));
            }
        }
        let unassigned: Vec<RecordId> = self
            .households
            .iter()
            .copied()
            .filter(|h| self.net.ledger.owner.get(h).copied().flatten().is_none())
            .collect();
        if !unassigned.is_empty() && self.net.rng.f64() < 0.3 {
            let h = unassigned[self.net.rng.usize(..unassigned.len())];
            let to = self.net.rng.usize(..officers);
            self.assign(h, to)?;
        }
        if self.net.rng.f64() < 0.5 {
            let h = self.households[self.net.rng.usize(..self.households.len())];
            let read = self.admin_get(&format!("/v1/admin/records/households/{h}"))?;
            let phone = PHONES[self.net.rng.usize(..PHONES.len())];
            self.console_write(
                OpKind::Patch,
                h,
                Some(&read["ctx"]),
                json!({"phone": phone}),
            )?;
            self.net.counters.console_edits += 1;
        }
        Ok(())
    }

    fn admin_get(&mut self, path: &str) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.net.bases[0]);
        let (st, v) = self
            .net
            .http
            .json("GET", &url, Some(&self.admin_token), None)?;
        ensure!(st == 200, "GET {path}: {st} {v}");
        Ok(v)
    }

    fn assign(&mut self, h: RecordId, to: usize) -> anyhow::Result<()> {
        let officer = self.officers[to].id.clone();
        self.admin(
            "POST",
            "/v1/admin/assignments",
            &json!({"household_id": h, "officer_id": officer, "reason": "reassigned by the simulator"}),
        )?;
        let before = self.net.ledger.owner.insert(h, Some(to)).flatten();
        if before.is_some() {
            self.net.ledger.taken.insert(h);
        }
        self.net
            .log
            .push(format!("admin assigned {h}: {before:?} -> {to}"));
        Ok(())
    }

    /// One device's day: maybe offline (for one to three days), a few edits, maybe an app
    /// crash, and a sync when online.
    fn device_day(&mut self, i: usize, day: u32) -> anyhow::Result<()> {
        let offline = if self.devices[i].offline_until > day {
            true
        } else if self.net.rng.f64() < 0.25 {
            let n = 1 + self.net.rng.u32(..3);
            self.devices[i].offline_until = day + n;
            self.net
                .log
                .push(format!("{} offline for {n} days", self.devices[i].label));
            true
        } else {
            false
        };
        if offline {
            self.net.counters.offline_days += 1;
        }
        for _ in 0..1 + self.net.rng.usize(..3) {
            self.edit(i, day)?;
        }
        if self.net.rng.f64() < 0.05 {
            self.devices[i].crash();
            self.net.counters.crashes += 1;
            self.net
                .log
                .push(format!("{} app crashed", self.devices[i].label));
        }
        if !offline {
            self.net.counters.syncs += 1;
            let faults = self.net.faults.rate > 0.0;
            match self.devices[i].sync(&mut self.net, faults)? {
                SyncEnd::Done => {}
                SyncEnd::GaveUp => {
                    self.net.counters.gave_up += 1;
                    self.net
                        .log
                        .push(format!("{} gave up syncing", self.devices[i].label));
                }
                SyncEnd::Stopped(code) => self
                    .net
                    .ledger
                    .violations
                    .push(format!("{} stopped syncing: {code}", self.devices[i].label)),
            }
        }
        Ok(())
    }

    /// One edit on device `i`: a visit, an aid delivery, or a change to a household it
    /// holds.
    fn edit(&mut self, i: usize, day: u32) -> anyhow::Result<()> {
        let held: Vec<RecordId> = self.devices[i]
            .client
            .replica()
            .copies()
            .filter(|c| c.view.collection == "households" && !c.view.deleted)
            .map(|c| c.view.id)
            .collect();
        if held.is_empty() {
            return Ok(());
        }
        let h = held[self.net.rng.usize(..held.len())];
        self.ticks += 1;
        let now = self.t0 + u64::from(day) * DAY_MS + self.ticks * 60_000;
        let at = chrono::DateTime::from_timestamp_millis(i64::try_from(now).unwrap_or(0))
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default();
        let r = self.net.rng.f64();
        let supervisor = self.devices[i].holder == Holder::Supervisor;
        let (kind, collection, id, fields, what) = if r < 0.4 && !supervisor {
            let outcome = VISIT_OUTCOMES[self.net.rng.usize(..VISIT_OUTCOMES.len())];
            let f = json!({"household_id": h, "visited_at": at, "outcome": outcome,
                           "kesehatan_score": 1 + self.net.rng.u8(..5)});
            self.net.counters.visits += 1;
            (
                OpKind::Put,
                Collection::Visits,
                RecordId(self.net.uuid()),
                f,
                "visit",
            )
        } else if r < 0.55 && !supervisor {
            let kind = AID_KINDS[self.net.rng.usize(..AID_KINDS.len())];
            let f = json!({"household_id": h, "given_at": at, "kind": kind,
                           "value_rupiah": 50_000 * (1 + self.net.rng.u64(..10))});
            self.net.counters.aid += 1;
            (
                OpKind::Put,
                Collection::Aid,
                RecordId(self.net.uuid()),
                f,
                "aid",
            )
        } else {
            let f = match self.net.rng.usize(..4) {
                0 | 1 => json!({"phone": PHONES[self.net.rng.usize(..PHONES.len())]}),
                2 => json!({"notes": NOTES[self.net.rng.usize(..NOTES.len())]}),
                _ => json!({"welfare_decile": 1 + self.net.rng.u8(..10)}),
            };
            self.net.counters.household_edits += 1;
            (
                OpKind::Patch,
                Collection::Households,
                h,
                f,
                "household edit",
            )
        };
        let fields: Map<String, Value> = fields.as_object().cloned().unwrap_or_default();
        let d = &mut self.devices[i];
        let seq = match kind {
            OpKind::Put => d.client.put(collection, id, fields, now),
            _ => d.client.patch(collection, id, fields, now),
        }
        .map_err(|e| anyhow!("{}: the client refused an edit: {e:?}", d.label))?;
        let device = d.client.device_id();
        if let Some(p) = d.client.outbox().pending().find(|p| p.seq == seq) {
            self.net.ledger.queued(device, &p.operation());
        }
        let _ = sync_protocol::client::ClientStore::save(&mut d.store, &d.client);
        self.net
            .log
            .push(format!("{} {what} of {h} (seq {seq})", d.label));
        Ok(())
    }

    /// Quiescence: the network heals, every killed instance is back, an auditor device of
    /// the regency administrator joins, and everyone syncs until nothing changes.
    pub fn settle(&mut self) -> anyhow::Result<()> {
        self.net.kill_after_push = None;
        self.restart_killed()?;
        for d in &mut self.devices {
            d.offline_until = 0;
        }
        let index = self.devices.len();
        let admin_user = "admin";
        let password = self.admin_password.clone();
        let auditor = SimDevice::sign_in(
            &mut self.net,
            (index, "auditor".into()),
            Holder::Regency,
            (admin_user, &password),
            0,
        )?;
        self.devices.push(auditor);
        let mut quiet = 0;
        for round in 0..200 {
            let mut changed = false;
            for d in &mut self.devices {
                let before = serde_json::to_string(d.client.replica())?;
                let pending = d.client.outbox().len();
                match d.sync(&mut self.net, false)? {
                    SyncEnd::Done => {}
                    other => anyhow::bail!("{}: the final sync ended {other:?}", d.label),
                }
                changed |= pending > 0 || serde_json::to_string(d.client.replica())? != before;
            }
            quiet = if changed { 0 } else { quiet + 1 };
            if quiet >= 2 && self.auditor_caught_up()? {
                self.net
                    .log
                    .push(format!("settled after {} rounds", round + 1));
                return Ok(());
            }
            if round > 2 {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
        Err(anyhow!("the devices did not settle in 200 rounds"))
    }

    /// Whether the auditor's cursor has passed every change committed (PostgreSQL may hold
    /// a pull back behind a transaction open elsewhere on the cluster). Without the database
    /// URL, quiet rounds are all there is to go by.
    fn auditor_caught_up(&self) -> anyhow::Result<bool> {
        let Some(url) = &self.servers.db_url else {
            return Ok(true);
        };
        let Some(head) = super::checks::head_position(url)? else {
            return Ok(true);
        };
        let Some(auditor) = self.devices.last() else {
            return Ok(true);
        };
        let Some(c) = auditor.client.replica().cursor() else {
            return Ok(false);
        };
        let parts: Vec<&str> = c.rsplitn(3, '.').collect();
        let pos: (i64, i64) = (
            parts.get(1).and_then(|p| p.parse().ok()).unwrap_or(0),
            parts.first().and_then(|p| p.parse().ok()).unwrap_or(0),
        );
        Ok(pos >= head)
    }

    /// The auditor: the last device, added by [`World::settle`].
    pub fn auditor(&self) -> Option<&SimDevice> {
        self.devices.last().filter(|d| d.holder == Holder::Regency)
    }

    /// Sends an old push body again, with its device's current token: (status, answer).
    pub fn resend(&mut self, device: usize, body: &str) -> Option<(u16, Value)> {
        let d = self.devices.get_mut(device)?;
        d.resend(&mut self.net, body)
    }
}
