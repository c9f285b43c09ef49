ALTER TABLE records ADD COLUMN fields TEXT NOT NULL DEFAULT '{}';

CREATE TABLE record_values (
    record_id TEXT NOT NULL REFERENCES records (id),
    register TEXT NOT NULL,
    dot BIGINT NOT NULL,
    origin_device TEXT NOT NULL,
    origin_seq BIGINT NOT NULL,
    hlc_ms BIGINT NOT NULL,
    hlc_counter BIGINT NOT NULL,
    order_ms BIGINT NOT NULL,
    order_counter BIGINT NOT NULL,
    clock_skew BOOLEAN NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (record_id, register, dot)
);

INSERT INTO record_values
SELECT r.id, reg.key,
       s.value ->> '$[0]', s.value ->> '$[1]', s.value ->> '$[2]', s.value ->> '$[3]',
       s.value ->> '$[4]', s.value ->> '$[5]', s.value ->> '$[6]', s.value ->> '$[7]',
       s.value -> '$[8]'
FROM records r, json_each(r.state, '$.regs') reg, json_each(reg.value) s;

ALTER TABLE records DROP COLUMN view;
ALTER TABLE records DROP COLUMN state;
