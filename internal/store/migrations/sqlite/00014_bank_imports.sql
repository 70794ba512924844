-- +goose Up
-- Operator accounts identified by another account id than an IBAN (the id is the key in the
-- iban column; id_scheme names its scheme), and their pain.001 settings.
ALTER TABLE bank_accounts ADD COLUMN id_scheme TEXT NOT NULL DEFAULT '';
ALTER TABLE bank_accounts ADD COLUMN batch_booking INTEGER NOT NULL DEFAULT 0;
ALTER TABLE bank_accounts ADD COLUMN pain_version TEXT NOT NULL DEFAULT 'pain.001.001.03';
-- What an import did beyond its counts: statements skipped and warnings (JSON).
ALTER TABLE bank_imports ADD COLUMN report TEXT NOT NULL DEFAULT '';
-- The debit that booked a whole pain.001 batch.
ALTER TABLE bank_payout_batches ADD COLUMN transaction_id INTEGER;
-- Statements seen per account, for sequence-gap checks.
CREATE TABLE bank_statements (
    id                  INTEGER PRIMARY KEY,
    iban                TEXT    NOT NULL REFERENCES bank_accounts(iban),
    import_id           INTEGER NOT NULL REFERENCES bank_imports(id),
    statement_id        TEXT    NOT NULL,
    sequence_number     INTEGER NOT NULL,
    electronic_sequence INTEGER NOT NULL,
    created_at          INTEGER NOT NULL
) STRICT;
CREATE INDEX bank_statements_account ON bank_statements(iban, id);

-- +goose Down
DROP TABLE bank_statements;
ALTER TABLE bank_payout_batches DROP COLUMN transaction_id;
ALTER TABLE bank_imports DROP COLUMN report;
ALTER TABLE bank_accounts DROP COLUMN pain_version;
ALTER TABLE bank_accounts DROP COLUMN batch_booking;
ALTER TABLE bank_accounts DROP COLUMN id_scheme;
