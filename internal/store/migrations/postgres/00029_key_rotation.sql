-- +goose Up
-- Key rotation: after a new api_secret is issued, the previous one still authenticates until
-- prev_secret_expires_at (the grace period), checked against its SHA-256 hash (the secret is
-- random, so the hash is not guessable; the plain previous secret is not kept).
ALTER TABLE integrations ADD COLUMN prev_secret_hash BYTEA;
ALTER TABLE integrations ADD COLUMN prev_secret_expires_at BIGINT;
ALTER TABLE integrations ADD COLUMN secret_rotated_at BIGINT;

-- +goose Down
ALTER TABLE integrations DROP COLUMN secret_rotated_at;
ALTER TABLE integrations DROP COLUMN prev_secret_expires_at;
ALTER TABLE integrations DROP COLUMN prev_secret_hash;
