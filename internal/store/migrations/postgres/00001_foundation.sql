-- +goose Up
CREATE TABLE integrations (
    id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          TEXT    NOT NULL,
    sandbox       BOOLEAN NOT NULL,
    api_key       TEXT    NOT NULL UNIQUE,
    secret_enc    BYTEA   NOT NULL,
    ip_allowlist  TEXT    NOT NULL DEFAULT '',
    token_ttl_s   BIGINT  NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT  NOT NULL
);

CREATE TABLE auth_tokens (
    token_hash     BYTEA  PRIMARY KEY,
    integration_id BIGINT NOT NULL REFERENCES integrations(id),
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    revoked_at     BIGINT
);
CREATE INDEX auth_tokens_integration ON auth_tokens(integration_id);

CREATE TABLE idempotency_keys (
    integration_id BIGINT NOT NULL REFERENCES integrations(id),
    path           TEXT   NOT NULL,
    key            TEXT   NOT NULL,
    body_hash      BYTEA  NOT NULL,
    status_code    INTEGER,
    response       BYTEA,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (integration_id, path, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);

CREATE TABLE assets (
    symbol    TEXT    NOT NULL,
    chain     TEXT    NOT NULL,
    name      TEXT    NOT NULL,
    decimals  INTEGER NOT NULL,
    contract  TEXT,
    onramp    BOOLEAN NOT NULL,
    offramp   BOOLEAN NOT NULL,
    PRIMARY KEY (symbol, chain)
);

-- +goose Down
DROP TABLE assets;
DROP TABLE idempotency_keys;
DROP TABLE auth_tokens;
DROP TABLE integrations;
