-- +goose Up
-- Amounts are signed integers in minor units; a transfer of x from A to B posts -x on A and +x
-- on B, so per asset the balances of all accounts sum to zero.
CREATE TABLE ledger_accounts (
    id             BIGINT        GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key            TEXT          NOT NULL UNIQUE,
    kind           TEXT          NOT NULL,
    asset          TEXT          NOT NULL,
    non_negative   BOOLEAN       NOT NULL,
    balance        NUMERIC(78,0) NOT NULL DEFAULT 0,
    -- posted_at of the account's latest posting: new postings never go earlier, so balance at a
    -- time is the last posting at or before it.
    last_posted_at BIGINT        NOT NULL DEFAULT 0,
    created_at     BIGINT        NOT NULL,
    CHECK (NOT non_negative OR balance >= 0)
);

CREATE TABLE ledger_transactions (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reference   TEXT   NOT NULL UNIQUE,
    description TEXT   NOT NULL DEFAULT '',
    -- a transaction is reversed at most once
    reverses    BIGINT UNIQUE REFERENCES ledger_transactions(id),
    posted_at   BIGINT NOT NULL
);

CREATE TABLE ledger_postings (
    id            BIGINT        GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tx_id         BIGINT        NOT NULL REFERENCES ledger_transactions(id),
    account_id    BIGINT        NOT NULL REFERENCES ledger_accounts(id),
    amount        NUMERIC(78,0) NOT NULL CHECK (amount <> 0),
    balance_after NUMERIC(78,0) NOT NULL,
    posted_at     BIGINT        NOT NULL
);
CREATE INDEX ledger_postings_account ON ledger_postings(account_id, posted_at, id);
CREATE INDEX ledger_postings_tx ON ledger_postings(tx_id);

-- History is immutable: corrections are reversing transactions.
-- +goose StatementBegin
CREATE FUNCTION ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger history is immutable (%)', TG_TABLE_NAME;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER ledger_transactions_immutable BEFORE UPDATE OR DELETE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
CREATE TRIGGER ledger_postings_immutable BEFORE UPDATE OR DELETE ON ledger_postings
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();

-- +goose Down
DROP TABLE ledger_postings;
DROP TABLE ledger_transactions;
DROP TABLE ledger_accounts;
DROP FUNCTION ledger_immutable();
