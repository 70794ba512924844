-- +goose Up
-- Operator accounts identified by another account id than an IBAN (the id is the key in the
-- iban column; id_scheme names its scheme), and their pain.001 settings.
ALTER TABLE bank_accounts ADD COLUMN id_scheme TEXT NOT NULL DEFAULT '';
ALTER TABLE bank_accounts ADD COLUMN batch_booking BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE bank_accounts ADD COLUMN pain_version TEXT NOT NULL DEFAULT 'pain.001.001.03';
-- What an import did beyond its counts: statements skipped and warnings (JSON).
ALTER TABLE bank_imports ADD COLUMN report TEXT NOT NULL DEFAULT '';
-- The debit that booked a whole pain.001 batch.
ALTER TABLE bank_payout_batches ADD COLUMN transaction_id BIGINT;
-- Statements seen per account, for sequence-gap checks.
CREATE TABLE bank_statements (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    iban                TEXT   NOT NULL REFERENCES bank_accounts(iban),
    import_id           BIGINT NOT NULL REFERENCES bank_imports(id),
    statement_id        TEXT   NOT NULL,
    sequence_number     BIGINT NOT NULL,
    electronic_sequence BIGINT NOT NULL,
    created_at          BIGINT NOT NULL
);
CREATE INDEX bank_statements_account ON bank_statements(iban, id);

-- +goose Down
DROP TABLE bank_statements;
ALTER TABLE bank_payout_batches DROP COLUMN transaction_id;
ALTER TABLE bank_imports DROP COLUMN report;
ALTER TABLE bank_accounts DROP COLUMN pain_version;
ALTER TABLE bank_accounts DROP COLUMN batch_booking;
ALTER TABLE bank_accounts DROP COLUMN id_scheme;
