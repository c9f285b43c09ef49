DROP INDEX records_conflicted;
DROP INDEX q_aid_conflicted;
DROP INDEX q_visits_conflicted;
DROP INDEX q_households_conflicted;
DROP TABLE record_writes;
