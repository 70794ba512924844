-- +goose Up
-- Webhook subscriptions, deliveries and their attempt log. River's own tables (river_job,
-- river_leader, ...) are not created here: internal/webhook applies River's migrations with
-- rivermigrate for the engine at startup, right after these (River versions its tables itself).

-- The Standard Webhooks signing secret (whsec_...) of each integration, sealed with the master key.
CREATE TABLE webhook_signing_secrets (
    integration_id BIGINT PRIMARY KEY REFERENCES integrations(id),
    secret_enc     BYTEA    NOT NULL,
    created_at     BIGINT NOT NULL
);

CREATE TABLE webhook_subscriptions (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    integration_id  BIGINT NOT NULL REFERENCES integrations(id),
    type            TEXT    NOT NULL,
    url             TEXT    NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    failing_since   BIGINT,          -- first failure of the current run of consecutive failures
    last_success_at BIGINT,
    disabled_at     BIGINT,
    disabled_reason TEXT,
    UNIQUE (integration_id, type)
);

CREATE TABLE webhook_deliveries (
    id               TEXT    PRIMARY KEY,
    integration_id   BIGINT NOT NULL REFERENCES integrations(id),
    event_id         TEXT,            -- NULL for test pings
    type             TEXT    NOT NULL,
    seq              BIGINT NOT NULL,
    body             TEXT    NOT NULL, -- the exact bytes every attempt sends
    test             BOOLEAN NOT NULL DEFAULT FALSE,
    status           TEXT    NOT NULL, -- pending, retrying, succeeded, failed
    job_id           BIGINT,         -- the River job that currently owns the delivery
    url              TEXT    NOT NULL DEFAULT '',
    attempts         BIGINT NOT NULL DEFAULT 0,
    last_attempt_at  BIGINT,
    last_status_code BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    delivered_at     BIGINT
);
CREATE INDEX webhook_deliveries_integration ON webhook_deliveries(integration_id, created_at);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries(event_id);

CREATE TABLE webhook_attempts (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id      TEXT    NOT NULL REFERENCES webhook_deliveries(id),
    attempt          BIGINT NOT NULL,
    url              TEXT    NOT NULL,
    started_at       BIGINT NOT NULL,
    latency_us       BIGINT NOT NULL,
    status_code      BIGINT,
    success          BOOLEAN NOT NULL,
    error            TEXT,
    response_excerpt TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id, attempt);

-- Endpoints disabled after failing for days: the operator's to-do list.
CREATE TABLE webhook_alerts (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    integration_id  BIGINT NOT NULL REFERENCES integrations(id),
    subscription_id BIGINT NOT NULL,
    type            TEXT    NOT NULL,
    url             TEXT    NOT NULL,
    reason          TEXT    NOT NULL,
    created_at      BIGINT NOT NULL,
    resolved_at     BIGINT
);

-- +goose Down
DROP TABLE webhook_alerts;
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_subscriptions;
DROP TABLE webhook_signing_secrets;
