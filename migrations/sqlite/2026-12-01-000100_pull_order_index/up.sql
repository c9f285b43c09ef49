-- A pull reads one scope's changes in change_seq order. SQLite cannot use records_pull
-- (scope_key, change_xid, change_seq) for that order, as it does not know change_xid is
-- always 0 here: it sorted every later row of the scope for each page, so a first sync
-- cost grew with the square of the records. This index gives the order directly.
CREATE INDEX records_pull_seq ON records (scope_key, change_seq);
