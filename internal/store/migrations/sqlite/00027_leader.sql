-- +goose Up
-- The instance that runs the background work. With SQLite there is one server per data dir
-- (serve.lock), so it always leads; the row says so (see the PostgreSQL migration).
CREATE TABLE leader (
    name       TEXT    PRIMARY KEY,
    holder     TEXT    NOT NULL,
    url        TEXT    NOT NULL,
    since      INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE leader;
