-- +goose Up
CREATE TABLE bank_imports (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    iban        TEXT    NOT NULL REFERENCES bank_accounts(iban),
    format      TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    file_sha256 TEXT    NOT NULL,
    entries     BIGINT NOT NULL,
    imported    BIGINT NOT NULL,
    duplicates  BIGINT NOT NULL,
    matched     BIGINT NOT NULL,
    exceptions  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE bank_transactions (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    iban              TEXT    NOT NULL REFERENCES bank_accounts(iban),
    fingerprint       TEXT    NOT NULL,
    import_id         BIGINT NOT NULL REFERENCES bank_imports(id),
    booking_date      TEXT    NOT NULL,
    value_date        TEXT    NOT NULL DEFAULT '',
    amount            BIGINT NOT NULL,
    scale             BIGINT NOT NULL,
    currency          TEXT    NOT NULL,
    direction         TEXT    NOT NULL CHECK (direction IN ('credit', 'debit')),
    concept           TEXT    NOT NULL DEFAULT '',
    counterparty_name TEXT    NOT NULL DEFAULT '',
    counterparty_iban TEXT    NOT NULL DEFAULT '',
    end_to_end_id     TEXT    NOT NULL DEFAULT '',
    entry_ref         TEXT    NOT NULL DEFAULT '',
    return_reason     TEXT    NOT NULL DEFAULT '',
    status            TEXT    NOT NULL CHECK (status IN ('unmatched', 'matched', 'ignored')),
    exception         TEXT    NOT NULL DEFAULT '',
    resolution        TEXT    NOT NULL DEFAULT '',
    payment_id        TEXT,
    payout_id         BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    UNIQUE (iban, fingerprint)
);
CREATE INDEX bank_transactions_account ON bank_transactions(iban, booking_date, id);
CREATE INDEX bank_transactions_exceptions ON bank_transactions(status, exception);

CREATE TABLE bank_payouts (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    iban              TEXT    NOT NULL REFERENCES bank_accounts(iban),
    end_to_end_id     TEXT    NOT NULL UNIQUE,
    reference         TEXT    NOT NULL UNIQUE,
    amount            BIGINT NOT NULL,
    scale             BIGINT NOT NULL,
    currency          TEXT    NOT NULL,
    creditor_name     TEXT    NOT NULL,
    creditor_iban     TEXT    NOT NULL,
    creditor_bic      TEXT    NOT NULL DEFAULT '',
    remittance        TEXT    NOT NULL DEFAULT '',
    ledger_from       TEXT    NOT NULL DEFAULT '',
    status            TEXT    NOT NULL CHECK (status IN ('pending', 'exported', 'confirmed', 'returned')),
    batch_id          BIGINT,
    transaction_id    BIGINT,
    sandbox           BOOLEAN NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX bank_payouts_status ON bank_payouts(iban, status);

CREATE TABLE bank_payout_batches (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    iban        TEXT    NOT NULL REFERENCES bank_accounts(iban),
    message_id  TEXT    NOT NULL UNIQUE,
    payments    BIGINT NOT NULL,
    total       BIGINT NOT NULL,
    scale       BIGINT NOT NULL,
    file        TEXT    NOT NULL,
    created_at  BIGINT NOT NULL
);

-- +goose Down
DROP TABLE bank_payout_batches;
DROP TABLE bank_payouts;
DROP TABLE bank_transactions;
DROP TABLE bank_imports;
