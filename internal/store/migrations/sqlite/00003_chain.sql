-- +goose Up
-- Chain adapter state (internal/chain/evm). Amounts are decimal strings of base units.

-- Payouts from the operator hot wallet. A payout is recorded with its signed transaction
-- (raw_tx, tx_hash, nonce) before it is broadcast, so a restart re-broadcasts the same bytes.
CREATE TABLE chain_payouts (
    id              INTEGER PRIMARY KEY,
    chain           TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL,
    asset           TEXT    NOT NULL,
    token           TEXT    NOT NULL DEFAULT '',
    from_address    TEXT    NOT NULL,
    to_address      TEXT    NOT NULL,
    amount          TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    reason          TEXT    NOT NULL DEFAULT '',
    last_error      TEXT    NOT NULL DEFAULT '',
    nonce           INTEGER,
    tx_hash         TEXT,
    raw_tx          BLOB,
    gas_limit       INTEGER,
    max_fee         TEXT,
    max_tip         TEXT,
    block_number    INTEGER,
    block_hash      TEXT,
    confirmations   INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    broadcast_at    INTEGER,
    confirmed_at    INTEGER,
    UNIQUE (chain, idempotency_key)
) STRICT;
CREATE INDEX chain_payouts_open ON chain_payouts(chain, status);
CREATE UNIQUE INDEX chain_payouts_tx ON chain_payouts(chain, tx_hash);

-- Next nonce per (chain, sending address); allocated in the transaction that records the
-- signed payout, so concurrent payouts get gapless nonces.
CREATE TABLE chain_nonces (
    chain      TEXT    NOT NULL,
    address    TEXT    NOT NULL,
    next_nonce INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (chain, address)
) STRICT;

-- Next BIP-32 child index per extended public key (key_id identifies the xpub).
CREATE TABLE chain_hd_counters (
    key_id     TEXT    PRIMARY KEY,
    next_index INTEGER NOT NULL
) STRICT;

-- Deposit addresses derived per operation (ref) from the xpub at m/.../0/hd_index.
CREATE TABLE chain_deposit_addresses (
    id         INTEGER PRIMARY KEY,
    chain      TEXT    NOT NULL,
    ref        TEXT    NOT NULL,
    key_id     TEXT    NOT NULL,
    hd_index   INTEGER NOT NULL,
    address    TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (chain, ref),
    UNIQUE (key_id, hd_index)
) STRICT;
CREATE INDEX chain_deposit_addresses_addr ON chain_deposit_addresses(chain, address);

-- Deposits seen on chain (log_index -1 for native coin transfers).
CREATE TABLE chain_deposits (
    id            INTEGER PRIMARY KEY,
    chain         TEXT    NOT NULL,
    address_id    INTEGER NOT NULL REFERENCES chain_deposit_addresses(id),
    ref           TEXT    NOT NULL,
    address       TEXT    NOT NULL,
    asset         TEXT    NOT NULL,
    token         TEXT    NOT NULL DEFAULT '',
    from_address  TEXT    NOT NULL,
    amount        TEXT    NOT NULL,
    tx_hash       TEXT    NOT NULL,
    log_index     INTEGER NOT NULL,
    block_number  INTEGER NOT NULL,
    block_hash    TEXT    NOT NULL,
    confirmations INTEGER NOT NULL DEFAULT 0,
    status        TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    credited_at   INTEGER,
    UNIQUE (chain, tx_hash, log_index)
) STRICT;
CREATE INDEX chain_deposits_open ON chain_deposits(chain, status);
CREATE INDEX chain_deposits_ref ON chain_deposits(ref);

-- Scan cursor per chain: last scanned block and the genesis it belongs to.
CREATE TABLE chain_cursors (
    chain        TEXT    PRIMARY KEY,
    genesis_hash TEXT    NOT NULL,
    block_number INTEGER NOT NULL,
    block_hash   TEXT    NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

-- Hashes of recently scanned blocks (the reorg window), to find the common ancestor.
CREATE TABLE chain_blocks (
    chain        TEXT    NOT NULL,
    block_number INTEGER NOT NULL,
    block_hash   TEXT    NOT NULL,
    PRIMARY KEY (chain, block_number)
) STRICT;

-- +goose Down
DROP TABLE chain_blocks;
DROP TABLE chain_cursors;
DROP TABLE chain_deposits;
DROP TABLE chain_deposit_addresses;
DROP TABLE chain_hd_counters;
DROP TABLE chain_nonces;
DROP TABLE chain_payouts;
