-- Where the database lives (PostgreSQL: system identifier, timeline, database oid). A change
-- means a restore, a failover or a move, and the server starts a new epoch by itself.
ALTER TABLE sync_meta ADD COLUMN cluster_identity TEXT;
