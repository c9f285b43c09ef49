-- An administrator writes records through a server-side "console" device of their own, so
-- their edits and imports go through the same merge as a phone's. `kind` tells it from the
-- field devices that sign in; a console device is also stored revoked, so no sign-in,
-- refresh or push can ever use it. One per administrator.
ALTER TABLE devices ADD COLUMN kind TEXT NOT NULL DEFAULT 'field';
CREATE UNIQUE INDEX devices_console_owner ON devices (user_id) WHERE kind = 'console';

-- Imports skip households already registered: looked up by registry id.
CREATE INDEX q_households_registry ON q_households (registry_id);
