ALTER TABLE sync_meta DROP COLUMN cluster_identity;
