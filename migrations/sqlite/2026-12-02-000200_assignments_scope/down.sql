UPDATE records SET scope_key = 'regency';
DROP TABLE held_writes;
DROP TABLE removals;
DROP TABLE assignments;
