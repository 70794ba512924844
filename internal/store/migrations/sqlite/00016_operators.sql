-- +goose Up
-- Operator accounts of the console and the operator API (issue 16), their sessions, API tokens,
-- login throttling, console settings, and the hash-chained audit log.
CREATE TABLE operators (
    id               INTEGER PRIMARY KEY,
    email            TEXT    NOT NULL UNIQUE,
    role             TEXT    NOT NULL CHECK (role IN ('admin', 'compliance', 'finance', 'read-only')),
    password_hash    TEXT    NOT NULL DEFAULT '',
    totp_secret      BLOB,
    totp_enabled     INTEGER NOT NULL DEFAULT 0,
    totp_last_step   INTEGER NOT NULL DEFAULT 0,
    disabled         INTEGER NOT NULL DEFAULT 0,
    setup_token_hash BLOB    UNIQUE,
    setup_expires_at INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) STRICT;

CREATE TABLE operator_sessions (
    token_hash   BLOB    PRIMARY KEY,
    operator_id  INTEGER NOT NULL REFERENCES operators(id),
    csrf         TEXT    NOT NULL,
    ip           TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
) STRICT;
CREATE INDEX operator_sessions_operator ON operator_sessions (operator_id);

CREATE TABLE operator_tokens (
    id           INTEGER PRIMARY KEY,
    operator_id  INTEGER NOT NULL REFERENCES operators(id),
    name         TEXT    NOT NULL,
    token_hash   BLOB    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
) STRICT;
CREATE INDEX operator_tokens_operator ON operator_tokens (operator_id);

CREATE TABLE operator_login_failures (
    key          TEXT    PRIMARY KEY,
    failures     INTEGER NOT NULL,
    window_start INTEGER NOT NULL
) STRICT;

CREATE TABLE operator_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    via        TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    before     TEXT    NOT NULL,
    after      TEXT    NOT NULL,
    prev_hash  TEXT    NOT NULL,
    hash       TEXT    NOT NULL
) STRICT;
CREATE INDEX audit_log_target ON audit_log (target);
CREATE INDEX audit_log_actor ON audit_log (actor);

-- The head names the last record, so removing records from the end is detected too.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT    NOT NULL
) STRICT;
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

-- Append-only: the application never updates or deletes a record; the database refuses to.
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
-- +goose StatementEnd

-- Console searches over many customers: by name prefix, case-insensitively, through an indexed
-- lower-case copy of the name that a trigger keeps (the same plain column on both engines).
ALTER TABLE customers ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
UPDATE customers SET name_key = lower(name);
CREATE INDEX customers_name_key ON customers (name_key);
-- +goose StatementBegin
CREATE TRIGGER customers_name_key_insert AFTER INSERT ON customers
BEGIN UPDATE customers SET name_key = lower(NEW.name) WHERE id = NEW.id; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER customers_name_key_update AFTER UPDATE OF name ON customers
BEGIN UPDATE customers SET name_key = lower(NEW.name) WHERE id = NEW.id; END;
-- +goose StatementEnd
CREATE INDEX customers_email ON customers (email);
CREATE INDEX customers_identification_any ON customers (identification_hash);
CREATE INDEX customers_iban ON customers (iban);

-- +goose Down
DROP INDEX customers_iban;
DROP INDEX customers_identification_any;
DROP INDEX customers_email;
DROP TRIGGER customers_name_key_update;
DROP TRIGGER customers_name_key_insert;
DROP INDEX customers_name_key;
ALTER TABLE customers DROP COLUMN name_key;
DROP TRIGGER audit_log_no_delete;
DROP TRIGGER audit_log_no_update;
DROP TABLE audit_head;
DROP TABLE audit_log;
DROP TABLE operator_settings;
DROP TABLE operator_login_failures;
DROP TABLE operator_tokens;
DROP TABLE operator_sessions;
DROP TABLE operators;
