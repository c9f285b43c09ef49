//! The model of `sync-protocol/tests/model/engine.rs` (causal-history oracle, invariants
//! I1-I7) against the real store: `process_batch` over [`DbBatchStore`] inside
//! `db::write_tx`, pulls through `db::changes`, on an SQLite file and, with
//! `KAMPUNG_TEST_PG_URL` set, on PostgreSQL. What the oracle checks is read back from the
//! database after every push.
#![allow(clippy::unwrap_used)]

#[path = "../../sync-protocol/tests/common/mod.rs"]
mod common;
#[path = "../../sync-protocol/tests/model/engine.rs"]
mod engine;

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use engine::{Server, Stats, config, run, scenario_strategy};
use kampung_sync::api::accounts::NewUserRequest;
use kampung_sync::auth::Role;
use kampung_sync::db::batch_store::DbBatchStore;
use kampung_sync::db::changes::{self, Position};
use kampung_sync::db::schema::{devices, records};
use kampung_sync::db::scope::Scope;
use kampung_sync::db::{self, AnyConnection, DbError};
use kampung_sync::ids::UserId;
use kampung_sync::service::accounts;
use kampung_sync_tests::{Backend, PASSWORD, PG_ENV, TestDb, scalar};
use proptest::test_runner::{TestCaseError, TestRunner};
use sync_protocol::batch::process_batch;
use sync_protocol::wire::{PushResponse, ReceivedOp, RecordView};
use sync_protocol::{ApplyEnv, DeviceId, RecordId, RecordState};

const REGRESSIONS: &str = "proptest-regressions/model_store.txt";

/// Cases per backend. Every push is a committed transaction (an fsync on SQLite), so a case
/// costs tens of milliseconds rather than the in-memory model's fraction of one: 300 cases
/// of shorter scenarios took about 7 s on SQLite and 30 s on PostgreSQL (2 cores), well
/// inside the suite's budget, and the in-memory run covers long scenarios. PROPTEST_CASES
/// overrides it for a soak run.
const CASES: u32 = 300;

/// Actions per scenario (then every device pushes and pulls everything): enough for lost
/// answers, crashes, resends and three-way conflicts to meet, as the path check below
/// requires, at half the in-memory model's length.
const ACTIONS: std::ops::RangeInclusive<usize> = 10..=30;

/// Rows per pull page: smaller than a scenario's record count, so pulls cross pages.
const PAGE: i64 = 2;

/// The real store behind the model's [`Server`]: one connection, one device owner, and a
/// cache of what the database holds so that `record` can hand out references.
struct DbServer {
    // `pull` and `last_seq` read the database behind `&self`.
    conn: RefCell<AnyConnection>,
    owner: UserId,
    registered: BTreeSet<DeviceId>,
    /// Every record a push named, as read back after the latest push.
    records: HashMap<RecordId, RecordState>,
    /// The cursors handed out: token `i` stands for `positions[i]`, 0 for the start.
    positions: RefCell<Vec<Position>>,
}

impl DbServer {
    /// A server on the migrated database at `url`, emptied of the previous case's records
    /// and devices (a new database per case would cost more than the case).
    fn new(url: &str, owner: UserId) -> DbServer {
        let mut conn = db::connect(url).unwrap();
        conn.batch_execute(
            "DELETE FROM applied_ops; DELETE FROM record_writes; DELETE FROM records; DELETE FROM refresh_tokens; \
             DELETE FROM q_households; DELETE FROM q_visits; DELETE FROM q_aid; \
             DELETE FROM devices;",
        )
        .unwrap();
        DbServer {
            conn: RefCell::new(conn),
            owner,
            registered: BTreeSet::new(),
            records: HashMap::new(),
            positions: RefCell::new(vec![Position::default()]),
        }
    }

    /// The highest change position of any live record, or `None` without one.
    fn head(conn: &mut AnyConnection) -> Option<Position> {
        records::table
            .filter(records::version.gt(0))
            .order((records::change_xid.desc(), records::change_seq.desc()))
            .select((records::change_xid, records::change_seq))
            .first::<(i64, i64)>(conn)
            .optional()
            .unwrap()
            .map(|(xid, seq)| Position { xid, seq })
    }

    /// Every page from `after` in one snapshot, as a client pulls until `has_more` is false.
    fn pull_pages(conn: &mut AnyConnection, after: Position) -> (Vec<RecordView>, Position) {
        db::read_tx(conn, |c| {
            let mut views = Vec::new();
            let mut at = after;
            loop {
                let page = changes::changed_since(c, &Scope::All, at, PAGE)?;
                views.extend(
                    page.records
                        .iter()
                        .map(|(raw, _)| serde_json::from_str::<RecordView>(raw.get()).unwrap()),
                );
                at = page.next;
                if !page.has_more {
                    check_scoped_pages(c, after, &views)?;
                    return Ok::<_, DbError>((views, at));
                }
            }
        })
        .unwrap()
    }
}

/// The household a record view belongs to: its own id for a household, else `household_id`.
fn household_of(v: &RecordView) -> String {
    if v.collection == "households" {
        v.id.to_string()
    } else {
        v.fields["household_id"]
            .as_str()
            .unwrap_or_default()
            .to_lowercase()
    }
}

/// In the same snapshot, pages read with a scope of every other household (by id order)
/// hold exactly the records of the whole pull that belong to those households, in the same
/// order: a scope filters the change order, it never reorders or skips within it.
fn check_scoped_pages(
    c: &mut AnyConnection,
    after: Position,
    all: &[RecordView],
) -> Result<(), DbError> {
    let mut households: Vec<String> = all.iter().map(household_of).collect();
    households.sort();
    households.dedup();
    let chosen: BTreeSet<String> = households.into_iter().step_by(2).collect();
    let scope = Scope::Households(chosen.clone());
    let mut scoped = Vec::new();
    let mut at = after;
    loop {
        let page = changes::changed_since(c, &scope, at, PAGE)?;
        scoped.extend(
            page.records
                .iter()
                .map(|(raw, _)| serde_json::from_str::<RecordView>(raw.get()).unwrap()),
        );
        at = page.next;
        if !page.has_more {
            break;
        }
    }
    let expected: Vec<&RecordView> = all
        .iter()
        .filter(|v| chosen.contains(&household_of(v)))
        .collect();
    let got: Vec<&RecordView> = scoped.iter().collect();
    assert_eq!(
        got, expected,
        "a scoped pull is the whole pull filtered by household"
    );
    Ok(())
}

impl Server for DbServer {
    fn push(&mut self, device: DeviceId, env: &ApplyEnv, ops: Vec<ReceivedOp>) -> PushResponse {
        let conn = self.conn.get_mut();
        // Sign-in registers a device before its first push.
        if self.registered.insert(device) {
            db::devices::register(conn, device, self.owner).unwrap();
        }
        let named: Vec<RecordId> = ops
            .iter()
            .filter_map(|r| r.op.as_ref().ok().map(|op| op.record_id))
            .collect();
        let owner = self.owner;
        // Errors end the transaction before the panic, so the failure is the push's and not
        // a connection left inside a transaction.
        let response = db::write_tx(conn, |c| {
            let mut store = DbBatchStore::open(c, device, Scope::All)?
                .ok_or_else(|| anyhow::anyhow!("device {device} is not registered"))?;
            anyhow::ensure!(
                store.device().serves(owner),
                "device {device} does not serve its owner: {:?}",
                store.device()
            );
            Ok(process_batch(&mut store, device, env, ops)?)
        })
        .unwrap_or_else(|e: anyhow::Error| panic!("push failed: {e:#}"));
        // Every record any push named, not only this one's, so that a push disturbing
        // another record is seen too.
        let ids: Vec<RecordId> = self.records.keys().copied().chain(named).collect();
        self.records = db::read_tx(conn, |c| db::records::load_many(c, &ids)).unwrap();
        // The typed tables, kept by every batch as it went, are what a rebuild from the
        // states now would write: conflicts, deletes, resends and crashes included.
        let differences = db::read_tx(conn, db::typed_tables::verify).unwrap();
        assert!(
            differences.is_empty(),
            "typed tables differ: {differences:#?}"
        );
        // The history has a row for every accepted operation and no other: each record's
        // versions 1 to its version, one each (every write issues the next one).
        assert_eq!(
            scalar(
                conn,
                "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM applied_ops \
                 WHERE status IN ('applied', 'conflict')"
            ),
            scalar(
                conn,
                "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM record_writes"
            ),
            "a history row per accepted operation"
        );
        assert_eq!(
            scalar(
                conn,
                "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM records r WHERE r.version > 0 AND \
                 (r.version <> (SELECT COUNT(DISTINCT w.version) FROM record_writes w \
                                WHERE w.record_id = r.id) \
                  OR r.version <> (SELECT MAX(w.version) FROM record_writes w \
                                   WHERE w.record_id = r.id))"
            ),
            0,
            "each record's history holds its versions 1 to its version"
        );
        response
    }

    fn pull(&self, cursor: u64) -> (Vec<RecordView>, u64) {
        let conn = &mut *self.conn.borrow_mut();
        let positions = &mut *self.positions.borrow_mut();
        let mut at = positions[usize::try_from(cursor).unwrap()];
        // Every write of this connection has committed before the pull. On PostgreSQL a
        // transaction of another database on the cluster can still hold the horizon back
        // for a moment (a stall, never a skip): pull again, as a client would, until the
        // cursor passes what was committed. SQLite has one writer and cannot stall, so
        // there one pull must get there.
        let may_stall = matches!(conn, AnyConnection::Postgresql(_));
        let head = Self::head(conn);
        let mut views = Vec::new();
        for _ in 0..1000 {
            let (more, next) = Self::pull_pages(conn, at);
            views.extend(more);
            at = next;
            if head.is_none_or(|h| at >= h) {
                let token = match positions.iter().position(|p| *p == at) {
                    Some(t) => t,
                    None => {
                        positions.push(at);
                        positions.len() - 1
                    }
                };
                return (views, token as u64);
            }
            assert!(
                may_stall,
                "a pull ended at {at:?}, before {head:?}, committed before it"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("pulls did not pass {head:?} (cursor {at:?})");
    }

    fn record(&self, id: RecordId) -> Option<&RecordState> {
        self.records.get(&id)
    }

    fn last_seq(&self, device: DeviceId) -> u64 {
        let last: Option<i64> = devices::table
            .find(device.to_string())
            .select(devices::last_seq)
            .first(&mut *self.conn.borrow_mut())
            .optional()
            .unwrap();
        last.map_or(0, |n| u64::try_from(n).unwrap())
    }
}

/// Runs the model's random scenarios against a fresh database on `backend`, and requires
/// them to have taken every path the in-memory run does.
fn model_holds(backend: Backend) {
    let test_db = TestDb::new(backend);
    db::migrate(&db::Backend::from_url(&test_db.url).unwrap()).unwrap();
    // DbBatchStore::open locks each device with its owner's row.
    let owner = accounts::create_user(
        &mut test_db.connect(),
        NewUserRequest {
            username: "model-owner".into(),
            display_name: "Model owner".into(),
            role: Role::RegencyAdmin,
            agency_id: None,
            password: PASSWORD.into(),
        },
    )
    .unwrap()
    .id;

    let mut config = config(CASES, REGRESSIONS);
    config.source_file = Some(file!());
    let mut runner = TestRunner::new(config);
    let total = RefCell::new(Stats::default());
    let result = runner.run(&scenario_strategy(ACTIONS), |scenario| {
        let world =
            run(DbServer::new(&test_db.url, owner), &scenario).map_err(TestCaseError::fail)?;
        total.borrow_mut().add(&world.stats);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}\n{runner}");
    }
    let total = total.into_inner();
    eprintln!("{total:#?}");
    total.assert_every_path_taken();
}

#[test]
fn i1_to_i7_hold_on_sqlite_under_random_interleavings() {
    model_holds(Backend::Sqlite);
}

#[test]
fn i1_to_i7_hold_on_postgres_under_random_interleavings() {
    match Backend::postgres() {
        Some(backend) => model_holds(backend),
        None if std::env::var("CI").is_ok_and(|v| !v.is_empty()) => {
            panic!("CI is set but {PG_ENV} is not: the model must run on PostgreSQL in CI")
        }
        None => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Derived columns: a visit's distance from its household's home point, and a household's
// visit and aid totals, against a model that computes them from the merge states alone,
// after every push: visits before or after their household, moved home points, deletes,
// voids and concurrent writes (ops based on a stale version) included.

mod derived {
    use std::collections::{BTreeMap, HashMap};

    use chrono::{DateTime, Duration, Utc};
    use diesel::prelude::*;
    use kampung_sync::db::batch_store::DbBatchStore;
    use kampung_sync::db::schema::{q_households, q_visits};
    use kampung_sync::db::scope::Scope;
    use kampung_sync::db::{self, AnyConnection};
    use kampung_sync::ids::UserId;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestCaseError, TestRunner};
    use serde_json::{Map, Value, json};
    use sync_protocol::batch::process_batch;
    use sync_protocol::review::review_id;
    use sync_protocol::rows::{TypedRow, typed_row, utc_text};
    use sync_protocol::schema::REVIEW_STATES;
    use sync_protocol::wire::ReceivedOp;
    use sync_protocol::{Context, DeviceId, Hlc, OpKind, Operation, RecordId, RecordState};
    use uuid::Uuid;

    use super::common::{T0, env};

    const HOUSEHOLDS: usize = 2;
    const VISITS: usize = 4;
    const AIDS: usize = 3;
    const DEVICES: usize = 2;
    /// A home, 100 m from it, about 5 km from it.
    const POINTS: [(f64, f64); 3] = [(-8.2, 114.3), (-8.2009, 114.3), (-8.245, 114.31)];
    /// Offsets devices write: text order is not time order across them.
    const OFFSETS: [(&str, i64); 3] = [("Z", 0), ("+07:00", 7), ("-03:00", -3)];

    #[derive(Clone, Debug)]
    enum Step {
        Household {
            device: usize,
            h: usize,
            home: Option<usize>,
            stale: bool,
        },
        MoveHome {
            device: usize,
            h: usize,
            home: Option<usize>,
            stale: bool,
        },
        DeleteHousehold {
            device: usize,
            h: usize,
            stale: bool,
        },
        Visit {
            device: usize,
            v: usize,
            h: usize,
            completed: bool,
            hours: u16,
            offset: usize,
            gps: Option<usize>,
            mock: bool,
        },
        DeleteVisit {
            device: usize,
            v: usize,
            stale: bool,
        },
        Aid {
            device: usize,
            a: usize,
            h: usize,
            value: Option<u32>,
        },
        VoidAid {
            device: usize,
            a: usize,
            stale: bool,
        },
        /// A supervisor's decision on visit `v`, before or after the visit arrives.
        Review {
            device: usize,
            v: usize,
            state: usize,
            comment: bool,
            stale: bool,
        },
        DeleteReview {
            device: usize,
            v: usize,
            stale: bool,
        },
        Push {
            device: usize,
        },
    }

    fn step() -> impl Strategy<Value = Step> {
        let d = 0..DEVICES;
        let point = prop::option::weighted(0.8, 0..POINTS.len());
        prop_oneof![
            2 => (d.clone(), 0..HOUSEHOLDS, point.clone(), any::<bool>())
                .prop_map(|(device, h, home, stale)| Step::Household { device, h, home, stale }),
            2 => (d.clone(), 0..HOUSEHOLDS, point.clone(), any::<bool>())
                .prop_map(|(device, h, home, stale)| Step::MoveHome { device, h, home, stale }),
            1 => (d.clone(), 0..HOUSEHOLDS, any::<bool>())
                .prop_map(|(device, h, stale)| Step::DeleteHousehold { device, h, stale }),
            4 => (
                d.clone(),
                0..VISITS,
                0..HOUSEHOLDS,
                prop::bool::weighted(0.6),
                0..2000u16,
                0..OFFSETS.len(),
                point,
                prop::bool::weighted(0.2),
            )
                .prop_map(|(device, v, h, completed, hours, offset, gps, mock)| Step::Visit {
                    device, v, h, completed, hours, offset, gps, mock,
                }),
            1 => (d.clone(), 0..VISITS, any::<bool>())
                .prop_map(|(device, v, stale)| Step::DeleteVisit { device, v, stale }),
            3 => (d.clone(), 0..AIDS, 0..HOUSEHOLDS, prop::option::weighted(0.8, 0..1_000_000u32))
                .prop_map(|(device, a, h, value)| Step::Aid { device, a, h, value }),
            1 => (d.clone(), 0..AIDS, any::<bool>())
                .prop_map(|(device, a, stale)| Step::VoidAid { device, a, stale }),
            2 => (d.clone(), 0..VISITS, 0..REVIEW_STATES.len(), any::<bool>(), any::<bool>())
                .prop_map(|(device, v, state, comment, stale)| Step::Review {
                    device, v, state, comment, stale,
                }),
            1 => (d.clone(), 0..VISITS, any::<bool>())
                .prop_map(|(device, v, stale)| Step::DeleteReview { device, v, stale }),
            3 => d.prop_map(|device| Step::Push { device }),
        ]
    }

    fn household_id(h: usize) -> RecordId {
        RecordId(Uuid::from_u128(0x1000 + h as u128))
    }
    fn visit_id(v: usize) -> RecordId {
        RecordId(Uuid::from_u128(0x2000 + v as u128))
    }
    fn aid_id(a: usize) -> RecordId {
        RecordId(Uuid::from_u128(0x3000 + a as u128))
    }
    fn device_id(d: usize) -> DeviceId {
        DeviceId(Uuid::from_u128(0xDE00 + d as u128))
    }
    fn all_ids() -> Vec<RecordId> {
        (0..HOUSEHOLDS)
            .map(household_id)
            .chain((0..VISITS).map(visit_id))
            .chain((0..AIDS).map(aid_id))
            .chain((0..VISITS).map(|v| review_id(visit_id(v))))
            .collect()
    }

    /// `hours` after 2026-10-01T00:00Z, written with the device's offset.
    fn visited_at(hours: u16, offset: usize) -> String {
        let (suffix, shift) = OFFSETS[offset];
        let t = DateTime::parse_from_rfc3339("2026-10-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + Duration::hours(i64::from(hours));
        let local = utc_text(t + Duration::hours(shift));
        format!("{}{suffix}", local.trim_end_matches('Z'))
    }

    fn home_fields(home: Option<usize>) -> Map<String, Value> {
        let (lat, lon) = home.map_or((Value::Null, Value::Null), |i| {
            (json!(POINTS[i].0), json!(POINTS[i].1))
        });
        let mut m = Map::new();
        m.insert("home_lat".into(), lat);
        m.insert("home_lon".into(), lon);
        m
    }

    struct Run {
        conn: AnyConnection,
        queued: Vec<Vec<Operation>>,
        seqs: Vec<u64>,
        clock: u64,
        owner: String,
    }

    impl Run {
        fn version(&mut self, id: RecordId, stale: bool) -> u64 {
            if stale {
                return 0;
            }
            db::records::load_many(&mut self.conn, &[id])
                .unwrap()
                .get(&id)
                .map_or(0, |s| s.version)
        }

        fn queue(
            &mut self,
            device: usize,
            collection: &str,
            id: RecordId,
            kind: OpKind,
            seen: u64,
            fields: Option<Map<String, Value>>,
        ) {
            self.seqs[device] += 1;
            self.clock += 1;
            self.queued[device].push(Operation {
                seq: self.seqs[device],
                op_id: None,
                collection: collection.into(),
                record_id: id,
                kind,
                ctx: Context::seen(env().epoch, seen),
                hlc: Hlc::at(T0 - 100_000 + self.clock * 10),
                fields,
            });
        }

        fn apply(&mut self, step: &Step) {
            match *step {
                Step::Household {
                    device,
                    h,
                    home,
                    stale,
                } => {
                    let seen = self.version(household_id(h), stale);
                    let mut f = home_fields(home);
                    f.insert("head_name".into(), json!("Siti"));
                    f.insert("desa_code".into(), json!("3510010001"));
                    f.insert("status".into(), json!("active"));
                    let id = household_id(h);
                    self.queue(device, "households", id, OpKind::Put, seen, Some(f));
                }
                Step::MoveHome {
                    device,
                    h,
                    home,
                    stale,
                } => {
                    let seen = self.version(household_id(h), stale);
                    let f = home_fields(home);
                    let id = household_id(h);
                    self.queue(device, "households", id, OpKind::Patch, seen, Some(f));
                }
                Step::DeleteHousehold { device, h, stale } => {
                    let seen = self.version(household_id(h), stale);
                    let id = household_id(h);
                    self.queue(device, "households", id, OpKind::Delete, seen, None);
                }
                Step::Visit {
                    device,
                    v,
                    h,
                    completed,
                    hours,
                    offset,
                    gps,
                    mock,
                } => {
                    let mut f = Map::new();
                    f.insert("household_id".into(), json!(household_id(h).to_string()));
                    f.insert("visited_at".into(), json!(visited_at(hours, offset)));
                    let outcome = if completed {
                        "completed"
                    } else {
                        "nobody_home"
                    };
                    f.insert("outcome".into(), json!(outcome));
                    if let Some(p) = gps {
                        f.insert("gps_lat".into(), json!(POINTS[p].0));
                        f.insert("gps_lon".into(), json!(POINTS[p].1));
                        f.insert("gps_mock".into(), json!(mock));
                    }
                    self.queue(device, "visits", visit_id(v), OpKind::Put, 0, Some(f));
                }
                Step::DeleteVisit { device, v, stale } => {
                    let seen = self.version(visit_id(v), stale);
                    self.queue(device, "visits", visit_id(v), OpKind::Delete, seen, None);
                }
                Step::Aid {
                    device,
                    a,
                    h,
                    value,
                } => {
                    let mut f = Map::new();
                    f.insert("household_id".into(), json!(household_id(h).to_string()));
                    f.insert("given_at".into(), json!("2026-11-28T09:30:00+07:00"));
                    f.insert("kind".into(), json!("beras"));
                    if let Some(v) = value {
                        f.insert("value_rupiah".into(), json!(v));
                    }
                    self.queue(device, "aid", aid_id(a), OpKind::Put, 0, Some(f));
                }
                Step::VoidAid { device, a, stale } => {
                    let seen = self.version(aid_id(a), stale);
                    self.queue(device, "aid", aid_id(a), OpKind::Delete, seen, None);
                }
                Step::Review {
                    device,
                    v,
                    state,
                    comment,
                    stale,
                } => {
                    let id = review_id(visit_id(v));
                    let seen = self.version(id, stale);
                    // The visit's household when the server has the visit, as the console
                    // writes it; a review that comes first names the first household.
                    let visit = db::records::load_many(&mut self.conn, &[visit_id(v)]).unwrap();
                    let household = visit
                        .get(&visit_id(v))
                        .and_then(sync_protocol::scope::household_of)
                        .unwrap_or_else(|| household_id(0).to_string());
                    let mut f = Map::new();
                    f.insert("visit_id".into(), json!(visit_id(v).to_string()));
                    f.insert("household_id".into(), json!(household));
                    f.insert("state".into(), json!(REVIEW_STATES[state]));
                    let text = comment.then(|| format!("comment {state} by {device}"));
                    f.insert("comment".into(), json!(text));
                    self.queue(device, "reviews", id, OpKind::Put, seen, Some(f));
                }
                Step::DeleteReview { device, v, stale } => {
                    let id = review_id(visit_id(v));
                    let seen = self.version(id, stale);
                    self.queue(device, "reviews", id, OpKind::Delete, seen, None);
                }
                Step::Push { device } => self.push(device),
            }
        }

        fn push(&mut self, device: usize) {
            let ops: Vec<ReceivedOp> = std::mem::take(&mut self.queued[device])
                .into_iter()
                .map(ReceivedOp::from_operation)
                .collect();
            if ops.is_empty() {
                return;
            }
            db::write_tx(&mut self.conn, |c| {
                let mut store = DbBatchStore::open(c, device_id(device), Scope::All)?
                    .ok_or_else(|| anyhow::anyhow!("device {device} is not registered"))?;
                Ok::<_, anyhow::Error>(process_batch(&mut store, device_id(device), &env(), ops)?)
            })
            .unwrap_or_else(|e| panic!("push failed: {e:#}"));
        }

        /// The derived columns the tables hold against what the states give.
        fn check(&mut self) -> Result<(), TestCaseError> {
            let states: Vec<RecordState> = db::records::load_many(&mut self.conn, &all_ids())
                .unwrap()
                .into_values()
                .collect();
            let (want_households, want_visits) = expected(&states);
            let households: Vec<(String, Option<String>, i64, i64, i64)> = q_households::table
                .select((
                    q_households::id,
                    q_households::last_completed_visit_at,
                    q_households::visit_count,
                    q_households::aid_count,
                    q_households::aid_value_rupiah,
                ))
                .order(q_households::id)
                .load(&mut self.conn)
                .unwrap();
            let got: BTreeMap<String, Totals> = households
                .into_iter()
                .map(|(id, last, visits, aid, value)| {
                    let last = last.map(|l| {
                        DateTime::parse_from_rfc3339(&l)
                            .unwrap()
                            .with_timezone(&Utc)
                    });
                    (id, (last, visits, aid, value))
                })
                .collect();
            prop_assert_eq!(&got, &want_households, "household totals");
            let visits: Vec<(String, Option<f64>)> = q_visits::table
                .select((q_visits::id, q_visits::distance_m))
                .order(q_visits::id)
                .load(&mut self.conn)
                .unwrap();
            prop_assert_eq!(visits.len(), want_visits.len());
            for (id, got) in visits {
                let want = want_visits[&id];
                let close = match (got, want) {
                    (Some(g), Some(w)) => (g - w).abs() < 1e-6,
                    (g, w) => g == w,
                };
                prop_assert!(
                    close,
                    "visit {}: distance {:?}, expected {:?}",
                    id,
                    got,
                    want
                );
            }
            let reviews: Vec<(String, ReviewColumns)> = q_visits::table
                .select((
                    q_visits::id,
                    (
                        q_visits::review_state,
                        q_visits::review_comment,
                        q_visits::reviewed_at,
                        q_visits::reviewed_by,
                    ),
                ))
                .order(q_visits::id)
                .load(&mut self.conn)
                .unwrap();
            for (id, got) in reviews {
                let visit: RecordId = id.parse().unwrap();
                let want = expected_review(&states, visit, &self.owner);
                prop_assert_eq!(got, want, "the review columns of visit {}", id);
            }
            let differences = db::read_tx(&mut self.conn, db::typed_tables::verify).unwrap();
            prop_assert!(differences.is_empty(), "verify: {:#?}", differences);
            Ok(())
        }
    }

    /// Latest completed visit, visits, aid records, aid value.
    type Totals = (Option<DateTime<Utc>>, i64, i64, i64);

    /// A visit's review state (`None` for `received`), comment, when and by whom.
    type ReviewColumns = (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );

    /// The model of a visit's review columns, from the review record's winning decision:
    /// nothing while there is no live review; `received` reads as no state; the time is the
    /// decision's ordering stamp in UTC, and every device here is the owner's.
    fn expected_review(states: &[RecordState], visit: RecordId, owner: &str) -> ReviewColumns {
        let id = review_id(visit);
        let Some(review) = states.iter().find(|s| s.id == id && s.version > 0) else {
            return (None, None, None, None);
        };
        if review.deleted() {
            return (None, None, None, None);
        }
        let decision = review.registers["decision"].winner().unwrap();
        let value = |f: &str| decision.value[f].as_str().map(str::to_owned);
        let at = DateTime::from_timestamp_millis(decision.order_hlc.wall_ms as i64)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string();
        (
            value("state").filter(|s| s != "received"),
            value("comment"),
            Some(at),
            Some(owner.to_owned()),
        )
    }

    /// The model: from the winning values alone, with its own distance formula and its own
    /// ordering of instants (parsed, not compared as text).
    fn expected(
        states: &[RecordState],
    ) -> (BTreeMap<String, Totals>, HashMap<String, Option<f64>>) {
        let rows: Vec<TypedRow> = states.iter().filter_map(typed_row).collect();
        let mut homes = HashMap::new();
        let mut totals = BTreeMap::new();
        for r in &rows {
            if let TypedRow::Household(h) = r {
                homes.insert(h.id.clone(), h.home_lat.zip(h.home_lon));
                totals.insert(h.id.clone(), (None, 0, 0, 0));
            }
        }
        let mut distances = HashMap::new();
        for r in &rows {
            match r {
                TypedRow::Visit(v) => {
                    let home = homes.get(&v.household_id).copied().flatten();
                    let d = v
                        .gps_lat
                        .zip(v.gps_lon)
                        .zip(home)
                        .map(|(a, b)| metres(a, b));
                    distances.insert(v.id.clone(), d);
                    if let Some(t) = totals.get_mut(&v.household_id).filter(|_| !v.deleted) {
                        t.1 += 1;
                        if v.outcome.as_deref() == Some("completed") {
                            let at = v.visited_at.as_deref().map(|s| {
                                DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
                            });
                            t.0 = t.0.max(at);
                        }
                    }
                }
                TypedRow::Aid(a) => {
                    if let Some(t) = totals.get_mut(&a.household_id).filter(|_| !a.voided) {
                        t.2 += 1;
                        t.3 += a.value_rupiah.unwrap_or(0);
                    }
                }
                TypedRow::Household(_) | TypedRow::Review(_) => {}
            }
        }
        (totals, distances)
    }

    /// Haversine on a sphere of the mean Earth radius, written out apart from the server's.
    fn metres((lat1, lon1): (f64, f64), (lat2, lon2): (f64, f64)) -> f64 {
        let r = 6_371_008.8_f64;
        let (f1, f2) = (lat1.to_radians(), lat2.to_radians());
        let h = ((f2 - f1) / 2.0).sin().powi(2)
            + f1.cos() * f2.cos() * ((lon2 - lon1).to_radians() / 2.0).sin().powi(2);
        2.0 * r * h.sqrt().asin()
    }

    pub fn derived_columns_hold(url: &str, owner: UserId) {
        let mut runner = TestRunner::new(Config {
            cases: 100,
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&prop::collection::vec(step(), 5..=30), |steps| {
            let mut conn = db::connect(url).unwrap();
            use diesel::connection::SimpleConnection;
            conn.batch_execute(
                "DELETE FROM applied_ops; DELETE FROM record_writes; DELETE FROM records; DELETE FROM refresh_tokens; \
                 DELETE FROM q_households; DELETE FROM q_visits; DELETE FROM q_aid; \
                 DELETE FROM devices;",
            )
            .unwrap();
            for d in 0..DEVICES {
                db::devices::register(&mut conn, device_id(d), owner).unwrap();
            }
            let mut run = Run {
                conn,
                queued: vec![Vec::new(); DEVICES],
                seqs: vec![0; DEVICES],
                clock: 0,
                owner: owner.to_string(),
            };
            for s in &steps {
                run.apply(s);
                if matches!(s, Step::Push { .. }) {
                    run.check()?;
                }
            }
            for d in 0..DEVICES {
                run.push(d);
                run.check()?;
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}\n{runner}");
        }
    }
}

fn derived_columns_on(backend: Backend) {
    let test_db = TestDb::new(backend);
    db::migrate(&db::Backend::from_url(&test_db.url).unwrap()).unwrap();
    let owner = accounts::create_user(
        &mut test_db.connect(),
        NewUserRequest {
            username: "derived-owner".into(),
            display_name: "Derived owner".into(),
            role: Role::RegencyAdmin,
            agency_id: None,
            password: PASSWORD.into(),
        },
    )
    .unwrap()
    .id;
    derived::derived_columns_hold(&test_db.url, owner);
}

#[test]
fn derived_columns_follow_random_pushes_on_sqlite() {
    derived_columns_on(Backend::Sqlite);
}

#[test]
fn derived_columns_follow_random_pushes_on_postgres() {
    if let Some(backend) = Backend::postgres() {
        derived_columns_on(backend);
    }
}
