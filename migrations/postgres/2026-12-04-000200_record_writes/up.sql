-- What each write to a record was, for an administrator's history of the record and the
-- who and when of its conflicting values: one row per operation that changed a record
-- (applied, or kept as a conflict's sibling), written by the batch flush in the same
-- transaction as the record. `version` is the dot the write was issued, so a record's
-- rows are in write order and a sibling (whose dot names the version, device and seq)
-- finds its write by the key. The device and seq make the key unique even where a version
-- is issued again (a record's row purged and its id created anew): a device never reuses
-- a sequence number.
-- Writes made before this migration have no row: nothing kept what they were.
CREATE TABLE record_writes (
    record_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    collection TEXT NOT NULL,
    device_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    user_id TEXT NOT NULL,
    applied_at BIGINT NOT NULL,
    hlc TEXT NOT NULL,
    kind TEXT NOT NULL,
    ctx TEXT NOT NULL,
    fields TEXT,
    status TEXT NOT NULL,
    PRIMARY KEY (record_id, version, device_id, seq)
);

-- The conflict inbox reads the few conflicted rows of each typed table in id order;
-- partial, so that the push's flush of the many clean rows pays nothing for them.
CREATE INDEX q_households_conflicted ON q_households (id) WHERE conflicted;
CREATE INDEX q_visits_conflicted ON q_visits (id) WHERE conflicted;
CREATE INDEX q_aid_conflicted ON q_aid (id) WHERE conflicted;
-- Reviews have no typed table: their conflicts are read off the records themselves.
CREATE INDEX records_conflicted ON records (collection, id) WHERE conflicted;
