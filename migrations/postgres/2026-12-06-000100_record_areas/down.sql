DROP INDEX q_aid_report;
CREATE INDEX q_aid_report ON q_aid
    (given_at_utc, household_id, agency_id, user_id, kind, source, unit, quantity,
     value_rupiah, voided)
    WHERE NOT voided;
DROP INDEX q_visits_report;
CREATE INDEX q_visits_report ON q_visits
    (visited_at_utc, household_id, agency_id, user_id, outcome, gps_mock, distance_m,
     gps_lat, gps_lon, kesehatan_score, pendidikan_score, pangan_score, papan_score,
     ekonomi_score, deleted)
    WHERE NOT deleted;
ALTER TABLE q_aid DROP COLUMN desa_code;
ALTER TABLE q_aid DROP COLUMN kecamatan_code;
ALTER TABLE q_visits DROP COLUMN desa_code;
ALTER TABLE q_visits DROP COLUMN kecamatan_code;
CREATE INDEX q_households_area ON q_households (id, kecamatan_code, desa_code);
