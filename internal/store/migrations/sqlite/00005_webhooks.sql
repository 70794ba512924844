-- +goose Up
-- Webhook subscriptions, deliveries and their attempt log. River's own tables (river_job,
-- river_leader, ...) are not created here: internal/webhook applies River's migrations with
-- rivermigrate for the engine at startup, right after these (River versions its tables itself).

-- The Standard Webhooks signing secret (whsec_...) of each integration, sealed with the master key.
CREATE TABLE webhook_signing_secrets (
    integration_id INTEGER PRIMARY KEY REFERENCES integrations(id),
    secret_enc     BLOB    NOT NULL,
    created_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE webhook_subscriptions (
    id              INTEGER PRIMARY KEY,
    integration_id  INTEGER NOT NULL REFERENCES integrations(id),
    type            TEXT    NOT NULL,
    url             TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    failing_since   INTEGER,          -- first failure of the current run of consecutive failures
    last_success_at INTEGER,
    disabled_at     INTEGER,
    disabled_reason TEXT,
    UNIQUE (integration_id, type)
) STRICT;

CREATE TABLE webhook_deliveries (
    id               TEXT    PRIMARY KEY,
    integration_id   INTEGER NOT NULL REFERENCES integrations(id),
    event_id         TEXT,            -- NULL for test pings
    type             TEXT    NOT NULL,
    seq              INTEGER NOT NULL,
    body             TEXT    NOT NULL, -- the exact bytes every attempt sends
    test             INTEGER NOT NULL DEFAULT 0,
    status           TEXT    NOT NULL, -- pending, retrying, succeeded, failed
    job_id           INTEGER,         -- the River job that currently owns the delivery
    url              TEXT    NOT NULL DEFAULT '',
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_attempt_at  INTEGER,
    last_status_code INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    delivered_at     INTEGER
) STRICT;
CREATE INDEX webhook_deliveries_integration ON webhook_deliveries(integration_id, created_at);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries(event_id);

CREATE TABLE webhook_attempts (
    id               INTEGER PRIMARY KEY,
    delivery_id      TEXT    NOT NULL REFERENCES webhook_deliveries(id),
    attempt          INTEGER NOT NULL,
    url              TEXT    NOT NULL,
    started_at       INTEGER NOT NULL,
    latency_us       INTEGER NOT NULL,
    status_code      INTEGER,
    success          INTEGER NOT NULL,
    error            TEXT,
    response_excerpt TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id, attempt);

-- Endpoints disabled after failing for days: the operator's to-do list.
CREATE TABLE webhook_alerts (
    id              INTEGER PRIMARY KEY,
    integration_id  INTEGER NOT NULL REFERENCES integrations(id),
    subscription_id INTEGER NOT NULL,
    type            TEXT    NOT NULL,
    url             TEXT    NOT NULL,
    reason          TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    resolved_at     INTEGER
) STRICT;

-- +goose Down
DROP TABLE webhook_alerts;
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_subscriptions;
DROP TABLE webhook_signing_secrets;
