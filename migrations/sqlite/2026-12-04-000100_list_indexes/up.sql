-- The admin lists page by keyset over (sort key, id): each order has an index that holds
-- both, so that a page is one index range from the cursor, never a sort of the whole table.
CREATE INDEX q_households_head_name_id ON q_households (head_name, id);
CREATE INDEX q_households_last_visit_id ON q_households (last_completed_visit_at, id);
CREATE INDEX q_visits_visited_id ON q_visits (visited_at_utc, id);
CREATE INDEX q_visits_user_visited_id ON q_visits (user_id, visited_at_utc, id);
CREATE INDEX q_aid_given_id ON q_aid (given_at_utc, id);
CREATE INDEX q_aid_user_given_id ON q_aid (user_id, given_at_utc, id);
-- The officers list reads each officer's latest push.
CREATE INDEX devices_user ON devices (user_id, last_push_at);
CREATE INDEX devices_created_id ON devices (created_at, id);
CREATE INDEX assignments_starts_id ON assignments (starts_at, id);
