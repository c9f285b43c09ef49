-- Indexes for the supervisors' reports (/v1/admin/reports/...). Each report is one
-- aggregate over a period; these let it read one index range and nothing else (covering
-- indexes), so that a year of a million visits is read from the index alone, without a
-- visit to the table per row. Partial on the rows the reports count: active households,
-- visits not deleted, aid not voided.

-- Coverage: active households in kecamatan and desa order, with their last completed visit.
CREATE INDEX q_households_report ON q_households
    (kecamatan_code, desa_code, last_completed_visit_at, id)
    WHERE status = 'active' AND NOT deleted;
-- A visit's or aid record's household area, without a second lookup per row.
CREATE INDEX q_households_area ON q_households (id, kecamatan_code, desa_code);
-- Conditions, locations and officer activity over a period.
CREATE INDEX q_visits_report ON q_visits
    (visited_at_utc, household_id, agency_id, user_id, outcome, gps_mock, distance_m,
     gps_lat, gps_lon, kesehatan_score, pendidikan_score, pangan_score, papan_score,
     ekonomi_score)
    WHERE NOT deleted;
-- Aid totals and officer activity over a period.
CREATE INDEX q_aid_report ON q_aid
    (given_at_utc, household_id, agency_id, user_id, kind, source, unit, quantity,
     value_rupiah)
    WHERE NOT voided;
-- A device's operations whose clock was too far ahead (few): the officers report's skew.
CREATE INDEX applied_ops_clock_skew ON applied_ops (device_id, applied_at)
    WHERE result LIKE '%"clock_skew":true%';
