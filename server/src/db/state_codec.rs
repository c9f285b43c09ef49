//! The stored form of a record's merge state: its registers with their siblings, dots and
//! stamps, as one versioned JSON text in the record's own row, read and written whole.
//!
//! Version 1: `{"v":1,"regs":{"<register>":[[server,"<device>",seq,hlc_ms,hlc_counter,
//! order_ms,order_counter,clock_skew,value],...]}}`. Arrays instead of named keys keep a
//! visit's state about half the size; JSON keeps it readable in `psql` and `sqlite3`, and
//! lets a migration build it in SQL (`2026-12-01-000000_record_state`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sync_protocol::{DeviceId, Dot, Hlc, Register, Sibling};

use super::{DbError, DbResult};

const VERSION: u32 = 1;

#[derive(Serialize)]
struct Encoding<'a> {
    v: u32,
    regs: BTreeMap<&'a str, Vec<SiblingRef<'a>>>,
}

#[derive(Serialize)]
struct SiblingRef<'a>(u64, DeviceId, u64, u64, u32, u64, u32, bool, &'a Value);

#[derive(Deserialize)]
struct Decoding {
    v: u32,
    regs: BTreeMap<String, Vec<SiblingOwned>>,
}

#[derive(Deserialize)]
struct SiblingOwned(u64, DeviceId, u64, u64, u32, u64, u32, bool, Value);

/// Encodes registers for storage.
pub fn encode(registers: &BTreeMap<String, Register>) -> DbResult<String> {
    let regs = registers
        .iter()
        .map(|(name, reg)| {
            let siblings = reg
                .siblings
                .iter()
                .map(|s| {
                    SiblingRef(
                        s.dot.server,
                        s.dot.device,
                        s.dot.seq,
                        s.hlc.wall_ms,
                        s.hlc.counter,
                        s.order_hlc.wall_ms,
                        s.order_hlc.counter,
                        s.clock_skew,
                        &s.value,
                    )
                })
                .collect();
            (name.as_str(), siblings)
        })
        .collect();
    serde_json::to_string(&Encoding { v: VERSION, regs })
        .map_err(|e| DbError::Corrupt(format!("cannot encode a record state: {e}")))
}

/// Decodes stored registers, siblings in display order.
pub fn decode(text: &str) -> DbResult<BTreeMap<String, Register>> {
    let decoded: Decoding = serde_json::from_str(text)
        .map_err(|e| DbError::Corrupt(format!("unreadable record state: {e}")))?;
    if decoded.v != VERSION {
        return Err(DbError::Corrupt(format!(
            "record state version {} is not one this server reads",
            decoded.v
        )));
    }
    Ok(decoded
        .regs
        .into_iter()
        .map(|(name, siblings)| {
            let mut siblings: Vec<Sibling> = siblings
                .into_iter()
                .map(
                    |SiblingOwned(
                        server,
                        device,
                        seq,
                        hlc_ms,
                        hlc_c,
                        ord_ms,
                        ord_c,
                        skew,
                        value,
                    )| {
                        Sibling {
                            dot: Dot {
                                server,
                                device,
                                seq,
                            },
                            hlc: Hlc {
                                wall_ms: hlc_ms,
                                counter: hlc_c,
                            },
                            order_hlc: Hlc {
                                wall_ms: ord_ms,
                                counter: ord_c,
                            },
                            clock_skew: skew,
                            value,
                        }
                    },
                )
                .collect();
            // Written in display order; sorting again costs nothing then, and keeps a state
            // built by the migration's SQL (no order guaranteed) right.
            siblings.sort_by(Sibling::display_cmp);
            (name, Register { siblings })
        })
        .collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn a_state_survives_encoding_with_siblings_in_display_order() {
        let a = DeviceId(Uuid::from_u128(1));
        let b = DeviceId(Uuid::from_u128(2));
        let sib = |server, device, ms, value: Value| Sibling {
            dot: Dot {
                server,
                device,
                seq: server,
            },
            hlc: Hlc::at(ms),
            order_hlc: Hlc::at(ms),
            clock_skew: server == 2,
            value,
        };
        let mut regs = BTreeMap::new();
        regs.insert(
            "phone".to_owned(),
            Register {
                siblings: vec![
                    sib(3, b, 200, serde_json::json!({"phone": "0812"})),
                    sib(2, a, 100, serde_json::json!({"phone": null})),
                ],
            },
        );
        regs.insert(
            "_exists".to_owned(),
            Register {
                siblings: vec![sib(1, a, 50, Value::Bool(true))],
            },
        );
        let text = encode(&regs).unwrap();
        assert!(text.starts_with(r#"{"v":1,"regs":{"#), "{text}");
        assert_eq!(decode(&text).unwrap(), regs);

        let mut reversed = regs.clone();
        reversed.get_mut("phone").unwrap().siblings.reverse();
        assert_eq!(decode(&encode(&reversed).unwrap()).unwrap(), regs);
    }

    #[test]
    fn every_number_a_device_sends_survives_encoding_to_the_last_bit() {
        // Numbers the default serde_json parser reads back one unit in the last place off
        // (found by `kampung-sync seed` and `tables verify`), and a spread of others.
        let mut numbers = vec![
            29.702_782_947_635_818,
            114.138_259_228_371_95,
            -8.635_875_156_048_973,
        ];
        let mut x = 0.123_456_789_f64;
        for _ in 0..2000 {
            x = (x * 997.0 + 0.271_828_182_845_9).fract();
            numbers.push(-90.0 + 180.0 * x);
        }
        for n in numbers {
            let mut regs = BTreeMap::new();
            regs.insert(
                "gps".to_owned(),
                Register {
                    siblings: vec![Sibling {
                        dot: Dot {
                            server: 1,
                            device: DeviceId(Uuid::from_u128(1)),
                            seq: 1,
                        },
                        hlc: Hlc::at(1),
                        order_hlc: Hlc::at(1),
                        clock_skew: false,
                        value: serde_json::json!({"gps_lat": n}),
                    }],
                },
            );
            let back = decode(&encode(&regs).unwrap()).unwrap();
            let got = back["gps"].siblings[0].value["gps_lat"].as_f64().unwrap();
            assert_eq!(got.to_bits(), n.to_bits(), "{n} came back as {got}");
        }
    }

    #[test]
    fn an_unknown_version_is_refused_as_corrupt() {
        assert!(matches!(
            decode(r#"{"v":2,"regs":{}}"#),
            Err(DbError::Corrupt(_))
        ));
        assert!(matches!(decode("not json"), Err(DbError::Corrupt(_))));
    }
}
