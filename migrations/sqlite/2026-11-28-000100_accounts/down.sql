ALTER TABLE devices DROP COLUMN revoked_reason;
ALTER TABLE devices DROP COLUMN revoked_at;
DROP TABLE audit_log;
DROP TABLE login_attempts;
DROP TABLE refresh_tokens;
DROP TABLE users;
DROP TABLE agencies;
