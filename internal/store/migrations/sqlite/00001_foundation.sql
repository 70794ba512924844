-- +goose Up
CREATE TABLE integrations (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    sandbox       INTEGER NOT NULL,
    api_key       TEXT    NOT NULL UNIQUE,
    secret_enc    BLOB    NOT NULL,
    ip_allowlist  TEXT    NOT NULL DEFAULT '',
    token_ttl_s   INTEGER NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE auth_tokens (
    token_hash     BLOB    PRIMARY KEY,
    integration_id INTEGER NOT NULL REFERENCES integrations(id),
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    revoked_at     INTEGER
) STRICT;
CREATE INDEX auth_tokens_integration ON auth_tokens(integration_id);

CREATE TABLE idempotency_keys (
    integration_id INTEGER NOT NULL REFERENCES integrations(id),
    path           TEXT    NOT NULL,
    key            TEXT    NOT NULL,
    body_hash      BLOB    NOT NULL,
    status_code    INTEGER,
    response       BLOB,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (integration_id, path, key)
) STRICT;
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);

CREATE TABLE assets (
    symbol    TEXT    NOT NULL,
    chain     TEXT    NOT NULL,
    name      TEXT    NOT NULL,
    decimals  INTEGER NOT NULL,
    contract  TEXT,
    onramp    INTEGER NOT NULL,
    offramp   INTEGER NOT NULL,
    PRIMARY KEY (symbol, chain)
) STRICT;

-- +goose Down
DROP TABLE assets;
DROP TABLE idempotency_keys;
DROP TABLE auth_tokens;
DROP TABLE integrations;
