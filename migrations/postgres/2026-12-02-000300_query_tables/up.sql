-- Typed query tables: one row per record, computed from its merge state (the winning value of
-- each field, sync_protocol::rows) and written by the same batch flush as the state. They
-- serve the admin API's questions; `kampung-sync tables rebuild` recomputes them and
-- `kampung-sync tables verify` compares them with the states.
CREATE TABLE q_households (
    id TEXT PRIMARY KEY,
    registry_id TEXT,
    registry_source TEXT,
    head_name TEXT,
    desa_code TEXT,
    kecamatan_code TEXT,
    welfare_decile BIGINT,
    home_lat DOUBLE PRECISION,
    home_lon DOUBLE PRECISION,
    status TEXT,
    deleted BOOLEAN NOT NULL,
    conflicted BOOLEAN NOT NULL
);
CREATE INDEX q_households_desa ON q_households (desa_code);
CREATE INDEX q_households_kecamatan ON q_households (kecamatan_code);

CREATE TABLE q_visits (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    visited_at TEXT,
    outcome TEXT,
    kesehatan_score BIGINT,
    pendidikan_score BIGINT,
    pangan_score BIGINT,
    papan_score BIGINT,
    ekonomi_score BIGINT,
    gps_lat DOUBLE PRECISION,
    gps_lon DOUBLE PRECISION,
    gps_accuracy_m DOUBLE PRECISION,
    gps_mock BOOLEAN,
    next_visit_due TEXT,
    amends TEXT,
    deleted BOOLEAN NOT NULL,
    conflicted BOOLEAN NOT NULL,
    device_id TEXT,
    user_id TEXT,
    agency_id TEXT
);
CREATE INDEX q_visits_household ON q_visits (household_id, visited_at);
CREATE INDEX q_visits_agency ON q_visits (agency_id, visited_at);
CREATE INDEX q_visits_user ON q_visits (user_id, visited_at);

CREATE TABLE q_aid (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    given_at TEXT,
    kind TEXT,
    quantity DOUBLE PRECISION,
    unit TEXT,
    value_rupiah BIGINT,
    source TEXT,
    voided BOOLEAN NOT NULL,
    conflicted BOOLEAN NOT NULL,
    device_id TEXT,
    user_id TEXT,
    agency_id TEXT
);
CREATE INDEX q_aid_household ON q_aid (household_id, given_at);
CREATE INDEX q_aid_kind ON q_aid (kind, given_at);
CREATE INDEX q_aid_agency ON q_aid (agency_id, given_at);
