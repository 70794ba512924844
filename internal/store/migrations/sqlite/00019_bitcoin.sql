-- +goose Up
-- Bitcoin adapter state (internal/chain/btc). Payouts, deposit addresses, deposits, cursors and
-- scanned blocks reuse the chain_* tables; these hold what only a UTXO chain has.

-- Several payouts share one Bitcoin transaction (batching), so a transaction hash no longer
-- identifies one payout.
DROP INDEX chain_payouts_tx;
CREATE INDEX chain_payouts_tx ON chain_payouts(chain, tx_hash);
-- The Bitcoin transaction currently carrying a payout (btc_txs.id).
ALTER TABLE chain_payouts ADD COLUMN btc_tx_id INTEGER;

-- Signed hot-wallet transactions, recorded before their first broadcast. A fee bump records a
-- replacement (replaces = the bumped row) spending the same inputs; whichever is mined wins.
CREATE TABLE btc_txs (
    id           INTEGER PRIMARY KEY,
    chain        TEXT    NOT NULL,
    txid         TEXT    NOT NULL,
    raw_tx       BLOB    NOT NULL,
    fee          INTEGER  NOT NULL,
    vsize        INTEGER  NOT NULL,
    fee_rate     INTEGER  NOT NULL, -- sat per 1000 vbytes
    change       INTEGER  NOT NULL DEFAULT 0,
    status       TEXT    NOT NULL, -- signed, broadcast, mined, replaced, confirmed
    replaces     INTEGER,
    block_number INTEGER,
    block_hash   TEXT,
    last_error   TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER  NOT NULL,
    broadcast_at INTEGER,
    updated_at   INTEGER  NOT NULL,
    UNIQUE (chain, txid)
) STRICT;
CREATE INDEX btc_txs_open ON btc_txs(chain, status);

-- Hot-wallet outputs seen in scanned blocks. reserved_by is the btc_txs row (or the first of a
-- replacement chain) spending it; spent_block the block where a spend was mined.
CREATE TABLE btc_utxos (
    chain        TEXT    NOT NULL,
    txid         TEXT    NOT NULL,
    vout         INTEGER  NOT NULL,
    amount       INTEGER  NOT NULL,
    script       BLOB    NOT NULL,
    coinbase     INTEGER NOT NULL,
    block_number INTEGER  NOT NULL,
    block_hash   TEXT    NOT NULL,
    reserved_by  INTEGER,
    spent_block  INTEGER,
    PRIMARY KEY (chain, txid, vout)
) STRICT;

-- +goose Down
DROP TABLE btc_utxos;
DROP TABLE btc_txs;
ALTER TABLE chain_payouts DROP COLUMN btc_tx_id;
DROP INDEX chain_payouts_tx;
CREATE UNIQUE INDEX chain_payouts_tx ON chain_payouts(chain, tx_hash);
