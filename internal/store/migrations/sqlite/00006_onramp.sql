-- +goose Up
CREATE TABLE bank_accounts (
    iban        TEXT    PRIMARY KEY,
    bic         TEXT    NOT NULL,
    holder_name TEXT    NOT NULL,
    bank_name   TEXT    NOT NULL,
    currency    TEXT    NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'active',
    sandbox     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE integration_bank_accounts (
    integration_id INTEGER NOT NULL REFERENCES integrations(id),
    iban           TEXT    NOT NULL REFERENCES bank_accounts(iban),
    PRIMARY KEY (integration_id, iban)
) STRICT;

CREATE TABLE integration_settings (
    integration_id INTEGER PRIMARY KEY REFERENCES integrations(id),
    data           TEXT    NOT NULL,
    updated_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE quotes (
    id             TEXT    PRIMARY KEY,
    integration_id INTEGER NOT NULL REFERENCES integrations(id),
    direction      TEXT    NOT NULL,
    fiat_symbol    TEXT    NOT NULL,
    fiat_scale     INTEGER NOT NULL,
    fiat_amount    TEXT    NOT NULL,
    coin_symbol    TEXT    NOT NULL,
    chain          TEXT    NOT NULL,
    coin_decimals  INTEGER NOT NULL,
    coin_amount    TEXT    NOT NULL,
    price          TEXT    NOT NULL,
    fees           TEXT    NOT NULL,
    payment_type   TEXT    NOT NULL,
    source         TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE payments (
    id               TEXT    PRIMARY KEY,
    integration_id   INTEGER NOT NULL REFERENCES integrations(id),
    user_id          INTEGER NOT NULL REFERENCES customers(id),
    sandbox          INTEGER NOT NULL,
    external_id      TEXT,
    guided           INTEGER NOT NULL,
    payment_type     TEXT    NOT NULL,
    fiat_symbol      TEXT    NOT NULL,
    fiat_scale       INTEGER NOT NULL,
    fiat_amount      INTEGER NOT NULL,
    eur_equivalent   INTEGER NOT NULL,
    coin_symbol      TEXT    NOT NULL,
    coin_chain       TEXT    NOT NULL,
    coin_decimals    INTEGER NOT NULL,
    coin_amount      TEXT    NOT NULL,
    price            TEXT    NOT NULL,
    fees             TEXT    NOT NULL,
    quote_id         TEXT,
    wallet           TEXT    NOT NULL DEFAULT '',
    status           TEXT    NOT NULL,
    failure_reason   TEXT    NOT NULL DEFAULT '',
    hold_reason      TEXT    NOT NULL DEFAULT '',
    holder           TEXT,
    concept          TEXT    UNIQUE,
    bank_iban        TEXT,
    callback_url     TEXT    NOT NULL DEFAULT '',
    page_token_hash  BLOB,
    payout_id        INTEGER,
    txid             TEXT,
    received_amount  INTEGER,
    received_at      INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    UNIQUE (integration_id, external_id)
) STRICT;
CREATE INDEX payments_integration ON payments(integration_id, created_at);
CREATE INDEX payments_user ON payments(user_id, created_at);
CREATE INDEX payments_status ON payments(status, expires_at);
CREATE UNIQUE INDEX payments_page_token ON payments(page_token_hash);

-- +goose Down
DROP TABLE payments;
DROP TABLE quotes;
DROP TABLE integration_settings;
DROP TABLE integration_bank_accounts;
DROP TABLE bank_accounts;
