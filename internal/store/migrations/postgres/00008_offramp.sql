-- +goose Up
CREATE TABLE offramp_settings (
    integration_id BIGINT PRIMARY KEY REFERENCES integrations(id),
    data           TEXT    NOT NULL,
    updated_at     BIGINT NOT NULL
);

CREATE TABLE rampoffs (
    id               TEXT    PRIMARY KEY,
    integration_id   BIGINT NOT NULL REFERENCES integrations(id),
    user_id          BIGINT NOT NULL REFERENCES customers(id),
    sandbox          BOOLEAN NOT NULL,
    external_id      TEXT,
    coin_symbol      TEXT    NOT NULL,
    chain            TEXT    NOT NULL,
    coin_decimals    BIGINT NOT NULL,
    amount           NUMERIC(78,0) NOT NULL,
    fiat_symbol      TEXT    NOT NULL,
    fiat_scale       BIGINT NOT NULL,
    fiat_amount      BIGINT NOT NULL,
    quoted_fiat      BIGINT NOT NULL,
    eur_equivalent   BIGINT NOT NULL,
    price            TEXT    NOT NULL,
    fees             TEXT    NOT NULL,
    fee_percent      TEXT    NOT NULL,
    markup_bps       BIGINT NOT NULL,
    tolerance_bps    BIGINT NOT NULL,
    quote_id         TEXT,
    payout_account   TEXT    NOT NULL,
    payout_kind      TEXT    NOT NULL CHECK (payout_kind IN ('sepa', 'local')),
    bank_name        TEXT    NOT NULL DEFAULT '',
    beneficiary      TEXT    NOT NULL,
    operator_iban    TEXT,
    deposit_address  TEXT    NOT NULL,
    deposit_index    BIGINT NOT NULL,
    status           TEXT    NOT NULL,
    hold_reason      TEXT    NOT NULL DEFAULT '',
    failure_reason   TEXT    NOT NULL DEFAULT '',
    deposit_txid     TEXT,
    received_amount  TEXT,
    received_at      BIGINT,
    bank_payout_id   BIGINT,
    payout_confirmed_by TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    UNIQUE (integration_id, external_id)
);
CREATE INDEX rampoffs_integration ON rampoffs(integration_id, created_at);
CREATE INDEX rampoffs_user ON rampoffs(user_id, created_at);
CREATE INDEX rampoffs_status ON rampoffs(status, expires_at);

-- One row per confirmed chain deposit to an off-ramp's address: what was done with it
-- (applied to the sale, held for the operator, refunded) and whether it was swept.
CREATE TABLE rampoff_deposits (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rampoff_id       TEXT    NOT NULL REFERENCES rampoffs(id),
    chain_deposit_id BIGINT NOT NULL UNIQUE,
    network          TEXT    NOT NULL,
    chain            TEXT    NOT NULL,
    address          TEXT    NOT NULL,
    hd_index         BIGINT NOT NULL,
    asset            TEXT    NOT NULL,
    decimals         BIGINT NOT NULL,
    amount           NUMERIC(78,0) NOT NULL,
    from_address     TEXT    NOT NULL,
    tx_hash          TEXT    NOT NULL,
    sandbox          BOOLEAN NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('applied', 'held', 'refund_pending', 'refunded', 'refund_failed')),
    reason           TEXT    NOT NULL DEFAULT '',
    reorged          BOOLEAN NOT NULL DEFAULT FALSE,
    refund_to        TEXT    NOT NULL DEFAULT '',
    refund_payout_id BIGINT,
    refund_txid      TEXT    NOT NULL DEFAULT '',
    sweep_status     TEXT    NOT NULL CHECK (sweep_status IN ('pending', 'sending', 'sent', 'swept', 'failed', 'operator')),
    sweep_txid       TEXT    NOT NULL DEFAULT '',
    sweep_gas        TEXT    NOT NULL DEFAULT '0',
    sweep_error      TEXT    NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX rampoff_deposits_rampoff ON rampoff_deposits(rampoff_id);
CREATE INDEX rampoff_deposits_sweep ON rampoff_deposits(sweep_status);

-- +goose Down
DROP TABLE rampoff_deposits;
DROP TABLE rampoffs;
DROP TABLE offramp_settings;
