-- Nothing to do: PostgreSQL reads a pull in (change_xid, change_seq) order, which
-- records_pull (scope_key, change_xid, change_seq) already gives. The version exists so
-- that both trees keep the same names.
SELECT 1;
