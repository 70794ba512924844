-- +goose Up
CREATE TABLE offramp_settings (
    integration_id INTEGER PRIMARY KEY REFERENCES integrations(id),
    data           TEXT    NOT NULL,
    updated_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE rampoffs (
    id               TEXT    PRIMARY KEY,
    integration_id   INTEGER NOT NULL REFERENCES integrations(id),
    user_id          INTEGER NOT NULL REFERENCES customers(id),
    sandbox          INTEGER NOT NULL,
    external_id      TEXT,
    coin_symbol      TEXT    NOT NULL,
    chain            TEXT    NOT NULL,
    coin_decimals    INTEGER NOT NULL,
    amount           TEXT    NOT NULL,
    fiat_symbol      TEXT    NOT NULL,
    fiat_scale       INTEGER NOT NULL,
    fiat_amount      INTEGER NOT NULL,
    quoted_fiat      INTEGER NOT NULL,
    eur_equivalent   INTEGER NOT NULL,
    price            TEXT    NOT NULL,
    fees             TEXT    NOT NULL,
    fee_percent      TEXT    NOT NULL,
    markup_bps       INTEGER NOT NULL,
    tolerance_bps    INTEGER NOT NULL,
    quote_id         TEXT,
    payout_account   TEXT    NOT NULL,
    payout_kind      TEXT    NOT NULL CHECK (payout_kind IN ('sepa', 'local')),
    bank_name        TEXT    NOT NULL DEFAULT '',
    beneficiary      TEXT    NOT NULL,
    operator_iban    TEXT,
    deposit_address  TEXT    NOT NULL,
    deposit_index    INTEGER NOT NULL,
    status           TEXT    NOT NULL,
    hold_reason      TEXT    NOT NULL DEFAULT '',
    failure_reason   TEXT    NOT NULL DEFAULT '',
    deposit_txid     TEXT,
    received_amount  TEXT,
    received_at      INTEGER,
    bank_payout_id   INTEGER,
    payout_confirmed_by TEXT NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    UNIQUE (integration_id, external_id)
) STRICT;
CREATE INDEX rampoffs_integration ON rampoffs(integration_id, created_at);
CREATE INDEX rampoffs_user ON rampoffs(user_id, created_at);
CREATE INDEX rampoffs_status ON rampoffs(status, expires_at);

-- One row per confirmed chain deposit to an off-ramp's address: what was done with it
-- (applied to the sale, held for the operator, refunded) and whether it was swept.
CREATE TABLE rampoff_deposits (
    id               INTEGER PRIMARY KEY,
    rampoff_id       TEXT    NOT NULL REFERENCES rampoffs(id),
    chain_deposit_id INTEGER NOT NULL UNIQUE,
    network          TEXT    NOT NULL,
    chain            TEXT    NOT NULL,
    address          TEXT    NOT NULL,
    hd_index         INTEGER NOT NULL,
    asset            TEXT    NOT NULL,
    decimals         INTEGER NOT NULL,
    amount           TEXT    NOT NULL,
    from_address     TEXT    NOT NULL,
    tx_hash          TEXT    NOT NULL,
    sandbox          INTEGER NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('applied', 'held', 'refund_pending', 'refunded', 'refund_failed')),
    reason           TEXT    NOT NULL DEFAULT '',
    reorged          INTEGER NOT NULL DEFAULT 0,
    refund_to        TEXT    NOT NULL DEFAULT '',
    refund_payout_id INTEGER,
    refund_txid      TEXT    NOT NULL DEFAULT '',
    sweep_status     TEXT    NOT NULL CHECK (sweep_status IN ('pending', 'sending', 'sent', 'swept', 'failed', 'operator')),
    sweep_txid       TEXT    NOT NULL DEFAULT '',
    sweep_gas        TEXT    NOT NULL DEFAULT '0',
    sweep_error      TEXT    NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX rampoff_deposits_rampoff ON rampoff_deposits(rampoff_id);
CREATE INDEX rampoff_deposits_sweep ON rampoff_deposits(sweep_status);

-- +goose Down
DROP TABLE rampoff_deposits;
DROP TABLE rampoffs;
DROP TABLE offramp_settings;
