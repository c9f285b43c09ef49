-- Aid gets the UTC form of `given_at`, as visits have for `visited_at`: offsets differ
-- between devices, so only the UTC form orders and filters as text (date ranges, months).
-- A visit gets its supervisor's review, as the review record of the visit last said it
-- (NULL state: `received`, nobody has reviewed it yet). Both are kept by the batch flush;
-- the typed tables are rebuilt when this migration runs.
ALTER TABLE q_aid ADD COLUMN given_at_utc TEXT;
ALTER TABLE q_visits ADD COLUMN review_state TEXT;
ALTER TABLE q_visits ADD COLUMN review_comment TEXT;
ALTER TABLE q_visits ADD COLUMN reviewed_at TEXT;
ALTER TABLE q_visits ADD COLUMN reviewed_by TEXT;

DROP INDEX q_aid_household;
DROP INDEX q_aid_kind;
DROP INDEX q_aid_agency;
CREATE INDEX q_aid_household ON q_aid (household_id, given_at_utc);
CREATE INDEX q_aid_kind ON q_aid (kind, given_at_utc);
CREATE INDEX q_aid_agency ON q_aid (agency_id, given_at_utc);
CREATE INDEX q_aid_given ON q_aid (given_at_utc);
DROP INDEX q_visits_household;
DROP INDEX q_visits_agency;
DROP INDEX q_visits_user;
CREATE INDEX q_visits_household ON q_visits (household_id, visited_at_utc);
CREATE INDEX q_visits_agency ON q_visits (agency_id, visited_at_utc);
CREATE INDEX q_visits_user ON q_visits (user_id, visited_at_utc);
CREATE INDEX q_visits_visited ON q_visits (visited_at_utc);
CREATE INDEX q_visits_review ON q_visits (review_state, visited_at_utc);
