-- +goose Up
-- Amounts are signed integers in minor units stored as canonical decimal strings (SQLite has no
-- exact 256-bit arithmetic; Go does the sums). A transfer of x from A to B posts -x on A and +x
-- on B, so per asset the balances of all accounts sum to zero.
CREATE TABLE ledger_accounts (
    id             INTEGER PRIMARY KEY,
    key            TEXT    NOT NULL UNIQUE,
    kind           TEXT    NOT NULL,
    asset          TEXT    NOT NULL,
    non_negative   INTEGER NOT NULL,
    balance        TEXT    NOT NULL DEFAULT '0',
    -- posted_at of the account's latest posting: new postings never go earlier, so balance at a
    -- time is the last posting at or before it.
    last_posted_at INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    CHECK (NOT non_negative OR balance NOT LIKE '-%')
) STRICT;

CREATE TABLE ledger_transactions (
    id          INTEGER PRIMARY KEY,
    reference   TEXT    NOT NULL UNIQUE,
    description TEXT    NOT NULL DEFAULT '',
    -- a transaction is reversed at most once
    reverses    INTEGER UNIQUE REFERENCES ledger_transactions(id),
    posted_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE ledger_postings (
    id            INTEGER PRIMARY KEY,
    tx_id         INTEGER NOT NULL REFERENCES ledger_transactions(id),
    account_id    INTEGER NOT NULL REFERENCES ledger_accounts(id),
    amount        TEXT    NOT NULL CHECK (amount <> '0'),
    balance_after TEXT    NOT NULL,
    posted_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX ledger_postings_account ON ledger_postings(account_id, posted_at, id);
CREATE INDEX ledger_postings_tx ON ledger_postings(tx_id);

-- History is immutable: corrections are reversing transactions.
-- +goose StatementBegin
CREATE TRIGGER ledger_transactions_no_update BEFORE UPDATE ON ledger_transactions
BEGIN SELECT RAISE(ABORT, 'ledger history is immutable (ledger_transactions)'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER ledger_transactions_no_delete BEFORE DELETE ON ledger_transactions
BEGIN SELECT RAISE(ABORT, 'ledger history is immutable (ledger_transactions)'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER ledger_postings_no_update BEFORE UPDATE ON ledger_postings
BEGIN SELECT RAISE(ABORT, 'ledger history is immutable (ledger_postings)'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER ledger_postings_no_delete BEFORE DELETE ON ledger_postings
BEGIN SELECT RAISE(ABORT, 'ledger history is immutable (ledger_postings)'); END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE ledger_postings;
DROP TABLE ledger_transactions;
DROP TABLE ledger_accounts;
