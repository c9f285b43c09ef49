-- The KK and NIK numbers of households, apart from the sync engine: they never sync to
-- devices. Each number is sealed with AES-256-GCM (base64 of nonce, ciphertext and tag, the
-- household id and the kind of number as associated data) and has a blind index, the hex of
-- an HMAC-SHA256 under a key only the server holds, for lookup and de-duplication. `key_id`
-- is the fingerprint of the master key both were made with (docs/operations.md, rotation).
CREATE TABLE household_identity (
    household_id TEXT PRIMARY KEY,
    kk_cipher TEXT,
    kk_index TEXT,
    nik_cipher TEXT,
    nik_index TEXT,
    key_id TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- Unique: one household per number under one key (the service also looks under old keys).
CREATE UNIQUE INDEX household_identity_kk ON household_identity (kk_index);
CREATE UNIQUE INDEX household_identity_nik ON household_identity (nik_index);
CREATE INDEX household_identity_key ON household_identity (key_id);
