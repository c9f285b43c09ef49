-- Who fosters which household, with history: an assignment is a row that is ended, never
-- overwritten. At most one active (ends_at IS NULL) per household.
CREATE TABLE assignments (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    officer_id TEXT NOT NULL REFERENCES users (id),
    agency_id TEXT REFERENCES agencies (id),
    starts_at BIGINT NOT NULL,
    ends_at BIGINT,
    reason TEXT NOT NULL,
    end_reason TEXT,
    assigned_by TEXT,
    ended_by TEXT
);
CREATE UNIQUE INDEX assignments_one_active ON assignments (household_id) WHERE ends_at IS NULL;
CREATE INDEX assignments_officer_active ON assignments (officer_id) WHERE ends_at IS NULL;
CREATE INDEX assignments_agency_active ON assignments (agency_id) WHERE ends_at IS NULL;
CREATE INDEX assignments_history ON assignments (household_id, starts_at);

-- What a user's devices must drop: records that left the user's scope, each at a position
-- of the change order (the same counter as records), so a pull delivers removals and
-- changes in one order and skips neither.
CREATE TABLE removals (
    user_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    collection TEXT NOT NULL,
    change_xid BIGINT NOT NULL DEFAULT 0,
    change_seq BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, change_xid, change_seq)
);

-- Writes refused because the household was not in the writer's scope when they arrived
-- (typically an officer's offline edits after a reassignment): kept whole for review, so
-- that they are neither lost nor silently applied.
CREATE TABLE held_writes (
    device_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    user_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    household_id TEXT,
    operation TEXT NOT NULL,
    held_at BIGINT NOT NULL,
    PRIMARY KEY (device_id, seq)
);

-- A record's scope is its household: its own id for a household, its household_id for a
-- visit or aid record. Until now every record was in the one scope `regency`.
UPDATE records SET scope_key = CASE
    WHEN collection = 'households' THEN id
    ELSE COALESCE(lower(json_extract(view, '$.fields.household_id')), scope_key)
END;
