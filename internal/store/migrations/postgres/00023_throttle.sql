-- +goose Up
-- Per-integration request rate (internal/throttle token bucket, checked after authentication):
-- rate_per_second requests per second with bursts of rate_burst; 0 means unlimited. The
-- defaults fit a busy partner; the operator raises or lowers them per integration.
ALTER TABLE integrations ADD COLUMN rate_per_second INTEGER NOT NULL DEFAULT 50;
ALTER TABLE integrations ADD COLUMN rate_burst INTEGER NOT NULL DEFAULT 100;

-- +goose Down
ALTER TABLE integrations DROP COLUMN rate_burst;
ALTER TABLE integrations DROP COLUMN rate_per_second;
