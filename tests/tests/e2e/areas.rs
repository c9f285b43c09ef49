//! Areas: the seeded kecamatan and desa, areas administrators add, and the household
//! `desa_code` rule they back.

use kampung_sync::auth::Role;
use kampung_sync_tests::*;
use serde_json::{Value, json};
use uuid::Uuid;

kampung_sync_tests::on_both_backends!(
    the_seeded_areas_are_the_csv_kept_with_the_server,
    the_seed_lists_25_kecamatan_and_the_desa_of_one_by_parent,
    a_desa_an_admin_adds_is_audited_and_then_accepted_in_a_household,
    a_household_naming_an_unknown_desa_is_refused_while_the_rest_of_its_batch_is_applied,
    bad_area_input_gets_a_code_naming_the_fault,
    only_regency_admins_add_areas_and_officers_cannot_list_them,
);

const SEED: &str = include_str!("../../../server/data/banyuwangi-wilayah.csv");

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<none>")
}

fn admin(s: &TestServer) -> Device {
    Device::with_role(s, "regency-admin", Role::RegencyAdmin)
}

fn codes(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect()
}

fn household(seq: u64, record: Uuid, desa: &str) -> Value {
    json!({
        "seq": seq, "collection": "households", "record_id": record, "kind": "put",
        "hlc": {"wall_ms": now_ms(), "counter": 0},
        "fields": {"head_name": "Siti Aminah", "desa_code": desa}
    })
}

fn rejection(result: &Value) -> (&str, &str) {
    (
        result["status"].as_str().unwrap_or("?"),
        result["error"]["code"].as_str().unwrap_or("<none>"),
    )
}

fn the_seeded_areas_are_the_csv_kept_with_the_server(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let a = admin(&s);
    let (st, list) = s.get("/v1/admin/areas", Some(&a.token));
    assert_eq!(st, 200, "{list}");
    let listed: Vec<Value> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            assert_eq!(a["source"], "seed", "{a}");
            json!([a["code"], a["parent_code"], a["level"], a["name"]])
        })
        .collect();
    let mut csv: Vec<Value> = SEED
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let parent = if f[1].is_empty() {
                Value::Null
            } else {
                json!(f[1])
            };
            json!([f[0], parent, f[2], f[3]])
        })
        .collect();
    csv.sort_by(|x, y| x[0].as_str().cmp(&y[0].as_str()));
    assert_eq!(listed.len(), 230);
    assert_eq!(listed, csv);
}

fn the_seed_lists_25_kecamatan_and_the_desa_of_one_by_parent(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let principal = Device::with_role(&s, "kepala.dinsos", Role::AgencyAdmin);
    let (st, kecamatan) = s.get("/v1/admin/areas?level=kecamatan", Some(&principal.token));
    assert_eq!(st, 200, "{kecamatan}");
    let k = kecamatan.as_array().unwrap();
    assert_eq!(k.len(), 25);
    assert!(
        k.iter()
            .all(|a| a["parent_code"] == "3510" && a["level"] == "kecamatan")
    );
    assert_eq!(
        k[0],
        json!({"code": "3510010", "parent_code": "3510", "level": "kecamatan",
               "name": "PESANGGARAN", "source": "seed"})
    );

    let (st, desa) = s.get("/v1/admin/areas?parent=3510010", Some(&principal.token));
    assert_eq!(st, 200, "{desa}");
    assert_eq!(
        codes(&desa),
        [
            "3510010001",
            "3510010002",
            "3510010003",
            "3510010004",
            "3510010009"
        ]
    );
    assert_eq!(desa[0]["name"], "SARONGAN");
    let (_, both) = s.get(
        "/v1/admin/areas?level=desa&parent=3510010",
        Some(&principal.token),
    );
    assert_eq!(both, desa);
    let (_, none) = s.get(
        "/v1/admin/areas?level=kecamatan&parent=3510010",
        Some(&principal.token),
    );
    assert_eq!(none, json!([]));

    let (st, body) = s.get("/v1/admin/areas?level=dusun", Some(&principal.token));
    assert_eq!((st, code(&body)), (400, "invalid_query"), "{body}");
    let (st, body) = s.get("/v1/admin/areas?kecamatan=3510010", Some(&principal.token));
    assert_eq!((st, code(&body)), (400, "invalid_query"), "{body}");
}

fn a_desa_an_admin_adds_is_audited_and_then_accepted_in_a_household(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let a = admin(&s);
    let mut d = Device::new(&s, "siti.aminah");
    let new_desa = "3510010010";

    let before = Uuid::now_v7();
    let seq = d.next_seq();
    let resp = d.push_ok(&s, vec![household(seq, before, new_desa)]);
    assert_eq!(rejection(&resp["results"][0]), ("rejected", "unknown_desa"));

    let (st, added) = s.post(
        "/v1/admin/areas",
        Some(&a.token),
        &json!({"code": new_desa, "parent_code": "3510010", "level": "desa",
                "name": "  Sarongan Baru "}),
    );
    assert_eq!(st, 201, "{added}");
    assert_eq!(
        added,
        json!({"code": new_desa, "parent_code": "3510010", "level": "desa",
               "name": "Sarongan Baru", "source": "admin"})
    );
    let (_, desa) = s.get("/v1/admin/areas?parent=3510010", Some(&a.token));
    assert!(codes(&desa).contains(&new_desa), "{desa}");

    let (st, kel) = s.post(
        "/v1/admin/areas",
        Some(&a.token),
        &json!({"code": "3510180099", "parent_code": "3510180", "level": "kelurahan",
                "name": "Kelurahan Baru"}),
    );
    assert_eq!(st, 201, "{kel}");

    let r = Uuid::now_v7();
    let k = Uuid::now_v7();
    let (s1, s2) = (d.next_seq(), d.next_seq());
    let resp = d.push_ok(
        &s,
        vec![household(s1, r, new_desa), household(s2, k, "3510180099")],
    );
    assert_eq!(statuses(&resp), ["applied", "applied"], "{resp}");
    assert_eq!(
        resp["results"][0]["record"]["fields"]["desa_code"],
        new_desa
    );

    let (_, log) = s.get("/v1/admin/audit?action=area_added", Some(&a.token));
    let entry = &log[1];
    assert_eq!(entry["target"], new_desa, "{log}");
    assert_eq!(entry["actor_username"], "regency-admin");
    assert_eq!(
        entry["detail"],
        json!({"level": "desa", "parent_code": "3510010", "name": "Sarongan Baru"})
    );
}

fn a_household_naming_an_unknown_desa_is_refused_while_the_rest_of_its_batch_is_applied(
    b: Backend,
) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let mut d = Device::new(&s, "siti.aminah");
    let known = Uuid::now_v7();
    let unknown = Uuid::now_v7();
    let kecamatan_as_desa = Uuid::now_v7();
    let seqs: Vec<u64> = (0..6).map(|_| d.next_seq()).collect();
    let address = |desa: &str| json!({"desa_code": desa, "dusun": "Krajan", "rt": "004", "rw": "001", "address": null});
    let refused = household(seqs[0], unknown, "3510010099");
    let resp = d.push_ok(
        &s,
        vec![
            refused.clone(),
            household(seqs[1], known, "3510010001"),
            patch_household(seqs[2], known, 1, None, address("3510999001")),
            // A kecamatan's code padded to ten digits is no desa.
            household(seqs[3], kecamatan_as_desa, "3510010000"),
            patch_household(seqs[4], known, 1, None, address("3510010002")),
            patch_household(seqs[5], known, 2, None, json!({"phone": "085712345678"})),
        ],
    );
    let results = resp["results"].as_array().unwrap();
    assert_eq!(
        results.iter().map(rejection).collect::<Vec<_>>(),
        [
            ("rejected", "unknown_desa"),
            ("applied", "<none>"),
            ("rejected", "unknown_desa"),
            ("rejected", "unknown_desa"),
            ("applied", "<none>"),
            ("applied", "<none>"),
        ],
        "{resp}"
    );
    assert!(
        results[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("3510010099"),
        "{resp}"
    );
    assert_eq!(resp["acked_seq"], seqs[5]);
    // A refused write leaves the record as it was: the patch's answer shows the put.
    assert_eq!(results[2]["record"]["fields"]["desa_code"], "3510010001");

    let pulled = d.pull_all(&s);
    assert_eq!(pulled.len(), 1, "{pulled:?}");
    assert_eq!(pulled[0]["id"], json!(known));
    assert_eq!(pulled[0]["fields"]["desa_code"], "3510010002");
    assert_eq!(pulled[0]["fields"]["phone"], "085712345678");

    // The refusal is final for its sequence number: a retry gets the same answer.
    let again = d.push_ok(&s, vec![refused]);
    assert_eq!(again["results"][0]["status"], "duplicate");
    assert_eq!(again["results"][0]["original_status"], "rejected");
    assert_eq!(again["results"][0]["error"]["code"], "unknown_desa");
}

fn bad_area_input_gets_a_code_naming_the_fault(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let a = admin(&s);
    let add = |body: Value| {
        let (st, resp) = s.post("/v1/admin/areas", Some(&a.token), &body);
        (st, code(&resp).to_owned())
    };
    let desa = |code: &str, parent: &str| json!({"code": code, "parent_code": parent, "level": "desa", "name": "Desa Baru"});
    let refused = |st: u16, c: &str| (st, c.to_owned());
    for (body, want, why) in [
        (
            desa("351001001", "3510010"),
            refused(400, "invalid_area"),
            "nine digits",
        ),
        (
            desa("35100100100", "3510010"),
            refused(400, "invalid_area"),
            "eleven digits",
        ),
        (
            desa("351001001a", "3510010"),
            refused(400, "invalid_area"),
            "not digits",
        ),
        (
            desa("3510020010", "3510010"),
            refused(400, "invalid_area"),
            "not under its parent",
        ),
        (
            desa("3510010010", "3510"),
            refused(400, "invalid_area"),
            "parent a kabupaten",
        ),
        (
            desa("3510220010", "3510220"),
            refused(400, "unknown_area"),
            "no such kecamatan",
        ),
        (
            desa("3510010001", "3510010"),
            refused(409, "area_exists"),
            "SARONGAN's code",
        ),
        (
            json!({"code": "3510010010", "parent_code": "3510010", "level": "desa", "name": "\u{202E}ludaS"}),
            refused(400, "invalid_area"),
            "bidirectional override in the name",
        ),
        (
            json!({"code": "3510010010", "parent_code": "3510010", "level": "desa", "name": "  "}),
            refused(400, "invalid_area"),
            "blank name",
        ),
        (
            json!({"code": "3510010", "parent_code": "3510", "level": "kecamatan", "name": "Pesanggaran"}),
            refused(409, "area_exists"),
            "a seeded kecamatan",
        ),
        (
            json!({"code": "3510010001", "parent_code": "3510010001", "level": "kecamatan", "name": "X"}),
            refused(400, "invalid_area"),
            "a kecamatan of ten digits",
        ),
        (
            json!({"code": "3511", "parent_code": "35", "level": "kabupaten", "name": "Jember"}),
            refused(400, "invalid_area"),
            "a kabupaten",
        ),
        (
            json!({"code": "3510010010", "parent_code": "3510010", "level": "dusun", "name": "X"}),
            refused(400, "invalid_request"),
            "an unknown level",
        ),
        (
            json!({"code": "3510010010", "level": "desa", "name": "X"}),
            refused(400, "invalid_request"),
            "no parent",
        ),
    ] {
        assert_eq!(add(body), want, "{why}");
    }
    let (st, kecamatan) = s.post(
        "/v1/admin/areas",
        Some(&a.token),
        &json!({"code": "3510220", "parent_code": "3510", "level": "kecamatan", "name": "Kecamatan Baru"}),
    );
    assert_eq!(st, 201, "{kecamatan}");
    assert_eq!(add(desa("3510220010", "3510220")), refused(201, "<none>"));
    // A desa is no parent.
    assert_eq!(
        add(
            json!({"code": "3510220010", "parent_code": "3510220010", "level": "desa", "name": "X"})
        ),
        refused(400, "invalid_area")
    );
    let (_, all) = s.get("/v1/admin/areas", Some(&a.token));
    assert_eq!(all.as_array().unwrap().len(), 232);
}

fn only_regency_admins_add_areas_and_officers_cannot_list_them(b: Backend) {
    let db = TestDb::new(b);
    let s = TestServer::start(&db);
    let officer = Device::officer(&s, "siti.aminah");
    let principal = Device::with_role(&s, "kepala.dinsos", Role::AgencyAdmin);
    let body = json!({"code": "3510010010", "parent_code": "3510010", "level": "desa", "name": "Desa Baru"});
    for who in [&officer, &principal] {
        let (st, resp) = s.post("/v1/admin/areas", Some(&who.token), &body);
        assert_eq!((st, code(&resp)), (403, "forbidden_role"), "{}", who.user);
    }
    let (st, resp) = s.get("/v1/admin/areas", Some(&officer.token));
    assert_eq!((st, code(&resp)), (403, "forbidden_role"));
    let (st, resp) = s.get("/v1/admin/areas", None);
    assert_eq!((st, code(&resp)), (401, "missing_token"));
    let (_, desa) = s.get("/v1/admin/areas?parent=3510010", Some(&principal.token));
    assert!(!codes(&desa).contains(&"3510010010"), "nothing was added");
}
