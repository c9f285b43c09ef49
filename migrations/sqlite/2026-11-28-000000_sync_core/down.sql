DROP TABLE applied_ops;
DROP TABLE devices;
DROP TABLE record_values;
DROP TABLE records;
DROP TABLE sync_meta;
