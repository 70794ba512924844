-- +goose Up
-- The instance that runs the background work (chain scans and payouts, the sandbox chains,
-- expiry, the sandbox bank, the statement folder) when several share the database. Leadership
-- itself is a PostgreSQL advisory lock held by that instance's session (internal/leader); this
-- row says who holds it and where the other instances reach it (its operator listener, for the
-- sandbox chains' JSON-RPC).
CREATE TABLE leader (
    name       TEXT   PRIMARY KEY,
    holder     TEXT   NOT NULL,
    url        TEXT   NOT NULL,
    since      BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE leader;
