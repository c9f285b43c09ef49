DROP TABLE applied_ops;
DROP TABLE devices;
DROP TABLE record_values;
DROP TRIGGER records_stamp_change ON records;
DROP FUNCTION records_stamp_change();
DROP SEQUENCE records_change_seq;
DROP TABLE records;
DROP TABLE sync_meta;
