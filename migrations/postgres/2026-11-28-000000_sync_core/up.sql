-- The sync core: records, their per-register values with dots, devices and their
-- exactly-once watermark, stored results for retries, and the database epoch.

CREATE TABLE sync_meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    epoch TEXT NOT NULL,
    -- Unused on PostgreSQL (the trigger below stamps xid and seq); kept so that both
    -- backends share one schema.
    change_seq BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE records (
    id TEXT PRIMARY KEY,
    collection TEXT NOT NULL,
    scope_key TEXT NOT NULL,
    version BIGINT NOT NULL,
    deleted BOOLEAN NOT NULL,
    conflicted BOOLEAN NOT NULL,
    fields TEXT NOT NULL,
    change_xid BIGINT NOT NULL DEFAULT 0,
    change_seq BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);
CREATE INDEX records_pull ON records (scope_key, change_xid, change_seq);
CREATE INDEX records_change ON records (change_xid, change_seq);

CREATE SEQUENCE records_change_seq;

-- Sequences and timestamps are taken before commit and commit out of order, so a pull
-- cursor on them alone skips rows. Stamping the top-level transaction id lets a pull read
-- only below the oldest running transaction (see docs/sync-protocol.md, "The cursor").
-- On UPDATE too: a column default would stamp inserts only.
CREATE FUNCTION records_stamp_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_xid := pg_current_xact_id()::text::bigint;
    NEW.change_seq := nextval('records_change_seq');
    RETURN NEW;
END
$$;

CREATE TRIGGER records_stamp_change
    BEFORE INSERT OR UPDATE ON records
    FOR EACH ROW EXECUTE FUNCTION records_stamp_change();

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

CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    last_seq BIGINT NOT NULL DEFAULT 0,
    revoked BOOLEAN NOT NULL DEFAULT FALSE,
    seq_reuse_count BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    last_push_at BIGINT
);

CREATE TABLE applied_ops (
    device_id TEXT NOT NULL REFERENCES devices (id),
    seq BIGINT NOT NULL,
    fingerprint TEXT NOT NULL,
    record_id TEXT,
    status TEXT NOT NULL,
    result TEXT NOT NULL,
    applied_at BIGINT NOT NULL,
    PRIMARY KEY (device_id, seq)
);
