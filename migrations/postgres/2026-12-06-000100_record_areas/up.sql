-- A visit's and an aid record's household area (kecamatan and desa), kept in their rows
-- by the batch flush like a visit's distance: the reports by kecamatan and desa read them
-- from the report indexes instead of looking each row's household up. That lookup was most
-- of a regency-wide year report on SQLite (half a million of them: about 0.55 s,
-- docs/benchmarks.md 2026-12-06). The columns follow the household: moving it to another
-- desa rewrites its visits' and aid's, so that a report groups by where it is now, as the
-- join did. The join's index of areas by household goes.
ALTER TABLE q_visits ADD COLUMN kecamatan_code TEXT;
ALTER TABLE q_visits ADD COLUMN desa_code TEXT;
ALTER TABLE q_aid ADD COLUMN kecamatan_code TEXT;
ALTER TABLE q_aid ADD COLUMN desa_code TEXT;
UPDATE q_visits v SET kecamatan_code = h.kecamatan_code, desa_code = h.desa_code
    FROM q_households h WHERE h.id = v.household_id;
UPDATE q_aid a SET kecamatan_code = h.kecamatan_code, desa_code = h.desa_code
    FROM q_households h WHERE h.id = a.household_id;

DROP INDEX q_households_area;
DROP INDEX q_visits_report;
CREATE INDEX q_visits_report ON q_visits
    (visited_at_utc, household_id, agency_id, user_id, outcome, gps_mock, distance_m,
     gps_lat, gps_lon, kesehatan_score, pendidikan_score, pangan_score, papan_score,
     ekonomi_score, kecamatan_code, desa_code, deleted)
    WHERE NOT deleted;
DROP INDEX q_aid_report;
CREATE INDEX q_aid_report ON q_aid
    (given_at_utc, household_id, agency_id, user_id, kind, source, unit, quantity,
     value_rupiah, kecamatan_code, desa_code, voided)
    WHERE NOT voided;
