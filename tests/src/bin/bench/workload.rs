//! What the devices send: visit reports with every field of the `visits` schema filled
//! (sync-protocol.md section 3.4), the push bodies carrying them, and the mixed run's
//! household-and-visit operations.

use serde_json::{Value, json};
use sync_protocol::schema::{ASPECTS, VISIT_OUTCOMES};
use uuid::Uuid;

/// One visit report, made once and sent by the push and written by the floor.
pub struct Visit {
    /// The record id (made on the device).
    pub id: Uuid,
    /// Its `fields`, as the push sends them.
    pub fields: Value,
    /// The same fields as JSON text: what the floor stores.
    pub doc: String,
    /// The device clock when the report was made, ms.
    pub hlc_ms: u64,
}

const NOTES: [&str; 5] = [
    "Kepala keluarga batuk sejak dua minggu, sudah dirujuk ke puskesmas; anak bungsu belum imunisasi lengkap.",
    "Dua anak usia sekolah, yang sulung putus sekolah kelas 8 karena membantu orang tua di sawah.",
    "Beras tinggal untuk tiga hari, makan dua kali sehari, lauk jarang; belum menerima bantuan pangan bulan ini.",
    "Atap bocor di dapur, lantai tanah, belum ada jamban sendiri; menumpang di rumah tetangga.",
    "Suami buruh tani harian, penghasilan tidak tetap sekitar Rp 40.000 per hari, istri berjualan gorengan.",
];

const NEEDS: [&str; 6] = [
    "beras",
    "obat batuk",
    "seragam sekolah",
    "perbaikan atap",
    "modal usaha",
    "jamban sehat",
];

/// The fields of visit number `i` to `household`, every field of the schema given a valid
/// value. `amends` names `amends` (the protocol does not check that it exists).
pub fn visit_fields(i: usize, household: Uuid, amends: Uuid) -> Value {
    let mut f = serde_json::Map::new();
    f.insert("household_id".into(), json!(household));
    f.insert(
        "visited_at".into(),
        json!(format!(
            "2026-11-{:02}T{:02}:{:02}:{:02}+07:00",
            1 + i % 28,
            8 + i % 9,
            i % 60,
            (i / 60) % 60
        )),
    );
    f.insert(
        "outcome".into(),
        json!(VISIT_OUTCOMES[i % VISIT_OUTCOMES.len()]),
    );
    for (k, aspect) in ASPECTS.iter().enumerate() {
        f.insert(format!("{aspect}_score"), json!(1 + (i + k) % 5));
        f.insert(
            format!("{aspect}_note"),
            json!(NOTES[(i + k) % NOTES.len()]),
        );
    }
    f.insert(
        "needs".into(),
        json!([
            NEEDS[i % NEEDS.len()],
            NEEDS[(i + 2) % NEEDS.len()],
            NEEDS[(i + 4) % NEEDS.len()]
        ]),
    );
    f.insert(
        "gps_lat".into(),
        json!(-8.2192 + (i % 1000) as f64 * 0.0001),
    );
    f.insert(
        "gps_lon".into(),
        json!(114.3691 + (i % 997) as f64 * 0.0001),
    );
    f.insert("gps_accuracy_m".into(), json!(4.0 + (i % 40) as f64 * 0.5));
    f.insert("gps_mock".into(), json!(i.is_multiple_of(50)));
    f.insert(
        "notes".into(),
        json!("Kunjungan rutin bersama kader posyandu; keluarga kooperatif, data KK dicocokkan dengan DTKS."),
    );
    f.insert(
        "next_visit_due".into(),
        json!(format!("2026-12-{:02}", 1 + i % 28)),
    );
    f.insert("amends".into(), json!(amends));
    Value::Object(f)
}

/// `n` visit reports to 100 households, each amending the one before it.
pub fn visits(n: usize) -> Vec<Visit> {
    let households: Vec<Uuid> = (0..100).map(|_| Uuid::now_v7()).collect();
    // An hour in the past: well within the server's allowed clock drift.
    let clock = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0) - 3_600_000;
    let mut previous = Uuid::new_v4();
    (0..n)
        .map(|i| {
            let id = Uuid::now_v7();
            let fields = visit_fields(i, households[i % households.len()], previous);
            previous = id;
            let doc = fields.to_string();
            Visit {
                id,
                fields,
                doc,
                hlc_ms: clock + i as u64,
            }
        })
        .collect()
}

/// The put of one visit as operation `seq`.
pub fn visit_op(seq: u64, v: &Visit) -> Value {
    json!({"seq": seq, "collection": "visits", "record_id": v.id, "kind": "put",
           "hlc": {"wall_ms": v.hlc_ms}, "fields": v.fields})
}

/// The body of a push of `visits` as operations `first_seq..`, asking for the records of
/// applied results only when `needed` is false.
pub fn push_body(device: Uuid, first_seq: u64, visits: &[Visit], needed: bool) -> String {
    let ops: Vec<Value> = visits
        .iter()
        .zip(first_seq..)
        .map(|(v, seq)| visit_op(seq, v))
        .collect();
    let mut body = json!({"device_id": device, "ops": ops});
    if needed {
        body["result_records"] = json!("needed");
    }
    body.to_string()
}

/// The mixed run's operation `seq`: two in three are visit reports with scores, needs and
/// GPS, one in three a household put on top of the version the device last saw.
pub fn mixed_op(seq: u64, household: Uuid, version: u64) -> Value {
    if seq % 3 == 1 {
        json!({"seq": seq, "collection": "households", "record_id": household, "kind": "put",
               "ctx": {"vv": {"server": version}}, "hlc": {"wall_ms": 1_764_300_000_000u64 + seq},
               "fields": {"head_name": "Siti Aminah", "desa_code": "3510010001", "dusun": "Krajan",
                          "rt": "003", "rw": "001", "address": "Jl. Mawar 12", "status": "active", "welfare_decile": 2}})
    } else {
        json!({"seq": seq, "collection": "visits", "record_id": Uuid::now_v7(), "kind": "put",
               "hlc": {"wall_ms": 1_764_300_000_000u64 + seq},
               "fields": {"household_id": household, "visited_at": "2026-11-20T09:30:00+07:00", "outcome": "completed",
                          "kesehatan_score": 3, "pangan_score": 2, "pangan_note": "beras tinggal sedikit",
                          "needs": ["beras", "obat"], "gps_lat": -8.2192, "gps_lon": 114.3691,
                          "gps_accuracy_m": 12.5, "gps_mock": false}})
    }
}
