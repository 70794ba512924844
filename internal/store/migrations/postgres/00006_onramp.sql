-- +goose Up
CREATE TABLE bank_accounts (
    iban        TEXT    PRIMARY KEY,
    bic         TEXT    NOT NULL,
    holder_name TEXT    NOT NULL,
    bank_name   TEXT    NOT NULL,
    currency    TEXT    NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'active',
    sandbox     BOOLEAN NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE integration_bank_accounts (
    integration_id BIGINT NOT NULL REFERENCES integrations(id),
    iban           TEXT    NOT NULL REFERENCES bank_accounts(iban),
    PRIMARY KEY (integration_id, iban)
);

CREATE TABLE integration_settings (
    integration_id BIGINT PRIMARY KEY REFERENCES integrations(id),
    data           TEXT    NOT NULL,
    updated_at     BIGINT NOT NULL
);

CREATE TABLE quotes (
    id             TEXT    PRIMARY KEY,
    integration_id BIGINT NOT NULL REFERENCES integrations(id),
    direction      TEXT    NOT NULL,
    fiat_symbol    TEXT    NOT NULL,
    fiat_scale     BIGINT NOT NULL,
    fiat_amount    NUMERIC(78,0) NOT NULL,
    coin_symbol    TEXT    NOT NULL,
    chain          TEXT    NOT NULL,
    coin_decimals  BIGINT NOT NULL,
    coin_amount    NUMERIC(78,0) NOT NULL,
    price          TEXT    NOT NULL,
    fees           TEXT    NOT NULL,
    payment_type   TEXT    NOT NULL,
    source         TEXT    NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);

CREATE TABLE payments (
    id               TEXT    PRIMARY KEY,
    integration_id   BIGINT NOT NULL REFERENCES integrations(id),
    user_id          BIGINT NOT NULL REFERENCES customers(id),
    sandbox          BOOLEAN NOT NULL,
    external_id      TEXT,
    guided           BOOLEAN NOT NULL,
    payment_type     TEXT    NOT NULL,
    fiat_symbol      TEXT    NOT NULL,
    fiat_scale       BIGINT NOT NULL,
    fiat_amount      BIGINT NOT NULL,
    eur_equivalent   BIGINT NOT NULL,
    coin_symbol      TEXT    NOT NULL,
    coin_chain       TEXT    NOT NULL,
    coin_decimals    BIGINT NOT NULL,
    coin_amount      NUMERIC(78,0) NOT NULL,
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
    page_token_hash  BYTEA,
    payout_id        BIGINT,
    txid             TEXT,
    received_amount  BIGINT,
    received_at      BIGINT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    UNIQUE (integration_id, external_id)
);
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
