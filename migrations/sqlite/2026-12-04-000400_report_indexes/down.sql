DROP INDEX applied_ops_clock_skew;
DROP INDEX q_aid_report;
DROP INDEX q_visits_report;
DROP INDEX q_households_area;
DROP INDEX q_households_report;
