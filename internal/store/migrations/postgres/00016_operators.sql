-- +goose Up
-- Operator accounts of the console and the operator API (issue 16), their sessions, API tokens,
-- login throttling, console settings, and the hash-chained audit log.
CREATE TABLE operators (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email            TEXT    NOT NULL UNIQUE,
    role             TEXT    NOT NULL CHECK (role IN ('admin', 'compliance', 'finance', 'read-only')),
    password_hash    TEXT    NOT NULL DEFAULT '',
    totp_secret      BYTEA,
    totp_enabled     BOOLEAN NOT NULL DEFAULT FALSE,
    totp_last_step   BIGINT  NOT NULL DEFAULT 0,
    disabled         BOOLEAN NOT NULL DEFAULT FALSE,
    setup_token_hash BYTEA   UNIQUE,
    setup_expires_at BIGINT  NOT NULL DEFAULT 0,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL
);

CREATE TABLE operator_sessions (
    token_hash   BYTEA  PRIMARY KEY,
    operator_id  BIGINT NOT NULL REFERENCES operators(id),
    csrf         TEXT   NOT NULL,
    ip           TEXT   NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX operator_sessions_operator ON operator_sessions (operator_id);

CREATE TABLE operator_tokens (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    operator_id  BIGINT NOT NULL REFERENCES operators(id),
    name         TEXT   NOT NULL,
    token_hash   BYTEA  NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX operator_tokens_operator ON operator_tokens (operator_id);

CREATE TABLE operator_login_failures (
    key          TEXT   PRIMARY KEY,
    failures     BIGINT NOT NULL,
    window_start BIGINT NOT NULL
);

CREATE TABLE operator_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE audit_log (
    seq        BIGINT PRIMARY KEY,
    at         BIGINT NOT NULL,
    actor      TEXT   NOT NULL,
    role       TEXT   NOT NULL,
    via        TEXT   NOT NULL,
    source     TEXT   NOT NULL,
    action     TEXT   NOT NULL,
    target     TEXT   NOT NULL,
    before     TEXT   NOT NULL,
    after      TEXT   NOT NULL,
    prev_hash  TEXT   NOT NULL,
    hash       TEXT   NOT NULL
);
CREATE INDEX audit_log_target ON audit_log (target);
CREATE INDEX audit_log_actor ON audit_log (actor);

-- The head names the last record, so removing records from the end is detected too.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT   NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

-- Append-only: the application never updates or deletes a record; the database refuses to.
-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- Console searches over many customers: by name prefix, case-insensitively, through an indexed
-- lower-case copy of the name that a trigger keeps (the same plain column on both engines).
ALTER TABLE customers ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
UPDATE customers SET name_key = lower(name);
CREATE INDEX customers_name_key ON customers (name_key);
-- +goose StatementBegin
CREATE FUNCTION customers_name_key() RETURNS trigger AS $$
BEGIN
    NEW.name_key := lower(NEW.name);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER customers_name_key BEFORE INSERT OR UPDATE OF name ON customers
    FOR EACH ROW EXECUTE FUNCTION customers_name_key();
CREATE INDEX customers_email ON customers (email);
CREATE INDEX customers_identification_any ON customers (identification_hash);
CREATE INDEX customers_iban ON customers (iban);

-- +goose Down
DROP INDEX customers_iban;
DROP INDEX customers_identification_any;
DROP INDEX customers_email;
DROP TRIGGER customers_name_key ON customers;
DROP FUNCTION customers_name_key();
DROP INDEX customers_name_key;
ALTER TABLE customers DROP COLUMN name_key;
DROP TRIGGER audit_log_no_change ON audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE audit_head;
DROP TABLE audit_log;
DROP TABLE operator_settings;
DROP TABLE operator_login_failures;
DROP TABLE operator_tokens;
DROP TABLE operator_sessions;
DROP TABLE operators;
