-- The report indexes of 2026-12-04-000400 lacked the column of their own condition
-- (`deleted`, `voided`): a statement that says `NOT v.deleted` names a column the index
-- does not hold, so SQLite read every row of the period from the table as well (a year of
-- visits: 0.61 s instead of 0.32 s, docs/benchmarks.md 2026-12-06). With the column the
-- index answers the reports alone.
DROP INDEX q_visits_report;
CREATE INDEX q_visits_report ON q_visits
    (visited_at_utc, household_id, agency_id, user_id, outcome, gps_mock, distance_m,
     gps_lat, gps_lon, kesehatan_score, pendidikan_score, pangan_score, papan_score,
     ekonomi_score, deleted)
    WHERE NOT deleted;
DROP INDEX q_aid_report;
CREATE INDEX q_aid_report ON q_aid
    (given_at_utc, household_id, agency_id, user_id, kind, source, unit, quantity,
     value_rupiah, voided)
    WHERE NOT voided;
