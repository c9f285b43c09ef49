//! The reference client (`sync_protocol::client`) over HTTP against a [`TestServer`]: the
//! thin transport the e2e tests drive a device's behaviour with. All protocol decisions are
//! the client's; this file only moves bytes, signs in and refreshes tokens.

use std::time::Duration;

use kampung_sync::auth::Role;
use serde_json::{Value, json};
use sync_protocol::DeviceId;
use sync_protocol::client::{Client, ClientStore, Event, MemoryClientStore, Refusal, Request};
use sync_protocol::wire::{PullResponse, PushResponse};
use uuid::Uuid;

use crate::{PASSWORD, TestServer};

/// What happens to the answer of the next request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// The device gets it.
    Deliver,
    /// The server answers, but the answer never reaches the device (a dropped connection).
    LoseAnswer,
}

/// One step of a sync, as it went over the wire.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// A push was sent: the exact body, the status and the answer.
    Push {
        /// The request body.
        sent: String,
        /// HTTP status.
        status: u16,
        /// The answer.
        answer: Value,
    },
    /// A pull page was asked for.
    Pull {
        /// HTTP status.
        status: u16,
        /// The answer.
        answer: Value,
    },
    /// The device signed in with a new installation id.
    NewInstallation(DeviceId),
    /// Nothing left to do.
    Done,
    /// The client stopped syncing, for this code.
    Stopped(String),
}

/// A device running the reference client, signed in over HTTP.
pub struct HttpClient {
    /// The client state.
    pub client: Client,
    /// The user name it signs in as.
    pub user: String,
    /// The user's id.
    pub user_id: String,
    /// The current access token.
    pub token: String,
    refresh: String,
    /// The durable store, saved after every step.
    pub store: MemoryClientStore,
    /// How many times the token was refreshed.
    pub refreshes: u32,
    /// Every event of every sync, in order.
    pub events: Vec<Event>,
}

impl HttpClient {
    /// A new device of `user` (created if needed) whose scope is every record.
    pub fn new(server: &TestServer, user: &str) -> HttpClient {
        Self::with_role(server, user, Role::RegencyAdmin)
    }

    /// A new device of officer `user` (created if needed).
    pub fn officer(server: &TestServer, user: &str) -> HttpClient {
        Self::with_role(server, user, Role::Officer)
    }

    /// A new device of a user with `role`, signed in with a fresh installation id.
    pub fn with_role(server: &TestServer, user: &str, role: Role) -> HttpClient {
        server.ensure_user(user, role);
        let mut c = HttpClient {
            client: Client::new(DeviceId(Uuid::now_v7())),
            user: user.into(),
            user_id: String::new(),
            token: String::new(),
            refresh: String::new(),
            store: MemoryClientStore::default(),
            refreshes: 0,
            events: Vec::new(),
        };
        c.sign_in(server, c.client.device_id());
        c
    }

    /// A second phone restored from this one's image: the same installation id, token and
    /// state, as a cloned tablet has.
    pub fn cloned(&self) -> HttpClient {
        HttpClient {
            client: self.client.clone(),
            user: self.user.clone(),
            user_id: self.user_id.clone(),
            token: self.token.clone(),
            refresh: self.refresh.clone(),
            store: MemoryClientStore::default(),
            refreshes: 0,
            events: Vec::new(),
        }
    }

    fn sign_in(&mut self, server: &TestServer, device: DeviceId) {
        let (status, body) = server.login(&self.user, PASSWORD, device);
        assert_eq!(status, 200, "sign-in failed: {body}");
        self.take_tokens(&body);
        self.user_id = body["user"]["id"].as_str().unwrap().to_owned();
    }

    fn take_tokens(&mut self, body: &Value) {
        self.token = body["access_token"].as_str().unwrap().to_owned();
        self.refresh = body["refresh_token"].as_str().unwrap().to_owned();
    }

    /// Refreshes the access token (api.md section 2.3); signs in again, with the same
    /// installation id, if the refresh credential is no longer good.
    fn refresh_token(&mut self, server: &TestServer) {
        let (status, body) = server.post(
            "/v1/auth/refresh",
            None,
            &json!({"refresh_token": self.refresh}),
        );
        if status == 200 {
            self.take_tokens(&body);
            self.refreshes += 1;
        } else {
            self.sign_in(server, self.client.device_id());
        }
    }

    /// Makes the access token one that expired an hour ago.
    pub fn expire_token(&mut self, server: &TestServer) {
        self.token = server.expired_token(&self.user_id, self.client.device_id());
    }

    /// Sends the client's next request and hands it the answer (unless `delivery` loses
    /// it).
    pub fn step(&mut self, server: &TestServer, delivery: Delivery) -> Step {
        let step = match self.client.next_request() {
            Request::Push { body } => {
                // Gzipped on the way, as a field app on a metered connection sends it; the
                // bytes the client fixed are what the server decodes.
                let (status, answer) = server.post_raw(
                    "/v1/sync/push",
                    Some(&self.token),
                    &[
                        ("Content-Type", "application/json"),
                        ("Content-Encoding", "gzip"),
                    ],
                    gzip(body.as_bytes()),
                );
                if delivery == Delivery::LoseAnswer {
                    self.client.on_lost_answer();
                } else if status == 200 {
                    let resp: PushResponse = serde_json::from_value(answer.clone()).unwrap();
                    self.client.on_push_response(&resp);
                } else {
                    self.refused(server, status, &answer);
                }
                Step::Push {
                    sent: body,
                    status,
                    answer,
                }
            }
            Request::Pull { cursor } => {
                let path = match cursor {
                    Some(c) => format!("/v1/sync/pull?cursor={c}"),
                    None => "/v1/sync/pull".to_owned(),
                };
                let (status, answer) = server.get(&path, Some(&self.token));
                if delivery == Delivery::LoseAnswer {
                    self.client.on_lost_answer();
                } else if status == 200 {
                    let page: PullResponse = serde_json::from_value(answer.clone()).unwrap();
                    self.client.on_pull_response(&page);
                } else {
                    self.refused(server, status, &answer);
                }
                Step::Pull { status, answer }
            }
            Request::NewInstallation(_) => {
                let id = DeviceId(Uuid::now_v7());
                self.sign_in(server, id);
                self.client.new_installation(id);
                Step::NewInstallation(id)
            }
            Request::Done => Step::Done,
            Request::Stopped(code) => Step::Stopped(code),
        };
        self.events.extend(self.client.take_events());
        self.store.save(&self.client).unwrap();
        step
    }

    fn refused(&mut self, server: &TestServer, status: u16, answer: &Value) {
        let code = answer["error"]["code"].as_str().unwrap_or("");
        match self.client.on_refused(status, code) {
            Refusal::RefreshToken => self.refresh_token(server),
            Refusal::SignIn => self.sign_in(server, self.client.device_id()),
            // The tests' server answers at once; a real app waits the whole delay.
            Refusal::Retry(wait) => std::thread::sleep(wait.min(Duration::from_millis(50))),
            Refusal::Stop => {}
        }
    }

    /// One whole sync, push then pull to the end; returns every step. Panics if the client
    /// stops.
    pub fn sync(&mut self, server: &TestServer) -> Vec<Step> {
        self.client.start_sync();
        let mut steps = Vec::new();
        for _ in 0..1000 {
            match self.step(server, Delivery::Deliver) {
                Step::Done => return steps,
                Step::Stopped(code) => panic!("sync stopped: {code}"),
                s => steps.push(s),
            }
        }
        panic!("the sync did not end");
    }

    /// Syncs until the cursor has passed every change committed before the call. On
    /// PostgreSQL a pull may stall a moment behind another test's open transaction (see
    /// `Device::pull_all`).
    pub fn sync_caught_up(&mut self, server: &TestServer) {
        let head = server.head_position();
        for _ in 0..1000 {
            self.sync(server);
            if head.is_none_or(|h| self.cursor_position() >= h) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("pulls did not pass {head:?}");
    }

    fn cursor_position(&self) -> (i64, i64) {
        let Some(c) = self.client.replica().cursor() else {
            return (0, 0);
        };
        let parts: Vec<&str> = c.rsplitn(3, '.').collect();
        (parts[1].parse().unwrap(), parts[0].parse().unwrap())
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(bytes).unwrap();
    z.finish().unwrap()
}

/// A JSON object as the field map an edit takes.
pub fn fields(v: Value) -> serde_json::Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// The fields of a household put whose head is `head`.
pub fn household_fields(head: &str) -> serde_json::Map<String, Value> {
    fields(json!({"head_name": head, "desa_code": "3510010001", "status": "active"}))
}
