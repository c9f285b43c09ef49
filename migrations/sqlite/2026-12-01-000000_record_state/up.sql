-- One row per record: the merge state (registers, siblings, dots, stamps) moves from one
-- row per register value into the record's own row, as the versioned JSON of
-- server/src/db/state_codec.rs. The winners' `fields` copy goes too: nothing read it.
ALTER TABLE records ADD COLUMN state TEXT NOT NULL DEFAULT '{"v":1,"regs":{}}';
-- The record as pulls send it (a RecordView's JSON), written with the state, so a pull
-- copies text instead of decoding the state and building the view again. NULL until the
-- record is next written (records migrated here): the server then builds it from the state.
ALTER TABLE records ADD COLUMN view TEXT;

UPDATE records SET state = (
    SELECT json_object('v', 1, 'regs', json_group_object(register, json(sibs)))
    FROM (
        SELECT register,
               json_group_array(json_array(
                   dot, origin_device, origin_seq, hlc_ms, hlc_counter, order_ms, order_counter,
                   json(CASE WHEN clock_skew THEN 'true' ELSE 'false' END), json(value))) AS sibs
        FROM record_values
        WHERE record_values.record_id = records.id
        GROUP BY register
    )
)
WHERE EXISTS (SELECT 1 FROM record_values WHERE record_values.record_id = records.id);

DROP TABLE record_values;
ALTER TABLE records DROP COLUMN fields;
