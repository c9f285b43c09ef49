ALTER TABLE records DISABLE TRIGGER records_stamp_change;
UPDATE records SET scope_key = 'regency';
ALTER TABLE records ENABLE TRIGGER records_stamp_change;
DROP TABLE held_writes;
DROP TRIGGER removals_stamp_change ON removals;
DROP FUNCTION removals_stamp_change();
DROP TABLE removals;
DROP TABLE assignments;
