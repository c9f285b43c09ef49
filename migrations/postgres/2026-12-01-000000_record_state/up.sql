-- One row per record: the merge state (registers, siblings, dots, stamps) moves from one
-- row per register value into the record's own row, as the versioned JSON of
-- server/src/db/state_codec.rs. The winners' `fields` copy goes too: nothing read it.
ALTER TABLE records ADD COLUMN state TEXT NOT NULL DEFAULT '{"v":1,"regs":{}}';
-- The record as pulls send it (a RecordView's JSON), written with the state, so a pull
-- copies text instead of decoding the state and building the view again. NULL until the
-- record is next written (records migrated here): the server then builds it from the state.
ALTER TABLE records ADD COLUMN view TEXT;

-- Rewriting the encoding is no change a device must pull again: keep every change stamp.
ALTER TABLE records DISABLE TRIGGER records_stamp_change;

UPDATE records r SET state = s.state
FROM (
    SELECT record_id,
           json_build_object('v', 1, 'regs', json_object_agg(register, sibs))::text AS state
    FROM (
        SELECT record_id, register,
               json_agg(json_build_array(
                   dot, origin_device, origin_seq, hlc_ms, hlc_counter, order_ms, order_counter,
                   clock_skew, value::json)) AS sibs
        FROM record_values
        GROUP BY record_id, register
    ) g
    GROUP BY record_id
) s
WHERE r.id = s.record_id;

ALTER TABLE records ENABLE TRIGGER records_stamp_change;

DROP TABLE record_values;
ALTER TABLE records DROP COLUMN fields;
