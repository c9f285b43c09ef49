DROP INDEX q_visits_household_outcome;
DROP INDEX q_households_kecamatan_last_visit;
DROP INDEX q_households_desa_last_visit;
ALTER TABLE q_households DROP COLUMN aid_value_rupiah;
ALTER TABLE q_households DROP COLUMN aid_count;
ALTER TABLE q_households DROP COLUMN visit_count;
ALTER TABLE q_households DROP COLUMN last_completed_visit_at;
ALTER TABLE q_visits DROP COLUMN distance_m;
ALTER TABLE q_visits DROP COLUMN visited_at_utc;
