-- Derived columns of the typed query tables, kept by the same batch flush as the rows:
-- a visit's distance from its household's home point, and a household's visit and aid
-- totals. Whether a visit is suspect and whether a household is overdue depend on settings
-- and on the clock, so they are computed when read, from these. Rows written before this
-- migration hold no derived values: run `kampung-sync tables rebuild` once after upgrading
-- (`tables verify` lists every row that needs it).
ALTER TABLE q_visits ADD COLUMN visited_at_utc TEXT;
ALTER TABLE q_visits ADD COLUMN distance_m DOUBLE PRECISION;
ALTER TABLE q_households ADD COLUMN last_completed_visit_at TEXT;
ALTER TABLE q_households ADD COLUMN visit_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE q_households ADD COLUMN aid_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE q_households ADD COLUMN aid_value_rupiah BIGINT NOT NULL DEFAULT 0;

-- Overdue lists per desa and per kecamatan, oldest first.
CREATE INDEX q_households_desa_last_visit ON q_households (desa_code, last_completed_visit_at);
CREATE INDEX q_households_kecamatan_last_visit
    ON q_households (kecamatan_code, last_completed_visit_at);
-- The latest completed visit of a household, for the totals the flush recomputes.
CREATE INDEX q_visits_household_outcome ON q_visits (household_id, outcome, visited_at_utc);
