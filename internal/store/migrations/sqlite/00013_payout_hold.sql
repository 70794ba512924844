-- +goose Up
-- A payout that cannot be exported is held (set aside with its reason) instead of blocking its
-- account's pain.001; the operator corrects, retries or cancels it. SQLite cannot alter a CHECK
-- constraint, so the table is rebuilt (nothing references bank_payouts by foreign key).
CREATE TABLE bank_payouts_new (
    id                INTEGER PRIMARY KEY,
    iban              TEXT    NOT NULL REFERENCES bank_accounts(iban),
    end_to_end_id     TEXT    NOT NULL UNIQUE,
    reference         TEXT    NOT NULL UNIQUE,
    amount            INTEGER NOT NULL,
    scale             INTEGER NOT NULL,
    currency          TEXT    NOT NULL,
    creditor_name     TEXT    NOT NULL,
    creditor_iban     TEXT    NOT NULL,
    creditor_bic      TEXT    NOT NULL DEFAULT '',
    remittance        TEXT    NOT NULL DEFAULT '',
    ledger_from       TEXT    NOT NULL DEFAULT '',
    status            TEXT    NOT NULL CHECK (status IN ('pending', 'held', 'exported', 'confirmed', 'returned', 'cancelled')),
    batch_id          INTEGER,
    transaction_id    INTEGER,
    sandbox           INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    hold_reason       TEXT    NOT NULL DEFAULT '',
    original_name     TEXT    NOT NULL DEFAULT '',
    note              TEXT    NOT NULL DEFAULT ''
) STRICT;
INSERT INTO bank_payouts_new (id, iban, end_to_end_id, reference, amount, scale, currency, creditor_name, creditor_iban,
    creditor_bic, remittance, ledger_from, status, batch_id, transaction_id, sandbox, created_at, updated_at)
    SELECT id, iban, end_to_end_id, reference, amount, scale, currency, creditor_name, creditor_iban,
    creditor_bic, remittance, ledger_from, status, batch_id, transaction_id, sandbox, created_at, updated_at FROM bank_payouts;
DROP TABLE bank_payouts;
ALTER TABLE bank_payouts_new RENAME TO bank_payouts;
CREATE INDEX bank_payouts_status ON bank_payouts(iban, status);

-- +goose Down
CREATE TABLE bank_payouts_old (
    id                INTEGER PRIMARY KEY,
    iban              TEXT    NOT NULL REFERENCES bank_accounts(iban),
    end_to_end_id     TEXT    NOT NULL UNIQUE,
    reference         TEXT    NOT NULL UNIQUE,
    amount            INTEGER NOT NULL,
    scale             INTEGER NOT NULL,
    currency          TEXT    NOT NULL,
    creditor_name     TEXT    NOT NULL,
    creditor_iban     TEXT    NOT NULL,
    creditor_bic      TEXT    NOT NULL DEFAULT '',
    remittance        TEXT    NOT NULL DEFAULT '',
    ledger_from       TEXT    NOT NULL DEFAULT '',
    status            TEXT    NOT NULL CHECK (status IN ('pending', 'exported', 'confirmed', 'returned')),
    batch_id          INTEGER,
    transaction_id    INTEGER,
    sandbox           INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
) STRICT;
INSERT INTO bank_payouts_old SELECT id, iban, end_to_end_id, reference, amount, scale, currency, creditor_name, creditor_iban,
    creditor_bic, remittance, ledger_from, CASE status WHEN 'held' THEN 'pending' WHEN 'cancelled' THEN 'returned' ELSE status END,
    batch_id, transaction_id, sandbox, created_at, updated_at FROM bank_payouts;
DROP TABLE bank_payouts;
ALTER TABLE bank_payouts_old RENAME TO bank_payouts;
CREATE INDEX bank_payouts_status ON bank_payouts(iban, status);
