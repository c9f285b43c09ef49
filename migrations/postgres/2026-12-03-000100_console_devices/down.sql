DROP INDEX q_households_registry;
DROP INDEX devices_console_owner;
ALTER TABLE devices DROP COLUMN kind;
