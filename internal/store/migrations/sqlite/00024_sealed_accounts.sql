-- +goose Up
-- Customers' bank accounts are encrypted at rest like their ID numbers: customers.iban,
-- rampoffs.payout_account and bank_payouts.creditor_iban hold secret.SealText values
-- ("sealed:v1:" + base64 AES-GCM). SQL cannot encrypt, so rows written before this migration
-- are sealed by the application at startup, right after the migrations (app.sealAccounts,
-- idempotent). The console finds a customer by account through iban_hash, a keyed hash; the
-- index on the old plaintext column is gone. The operator's own accounts (bank_accounts.iban,
-- rampoffs.operator_iban, payments.bank_iban) stay in clear.
ALTER TABLE customers ADD COLUMN iban_hash BLOB;
DROP INDEX customers_iban;
CREATE INDEX customers_iban_hash ON customers (iban_hash);

-- +goose Down
DROP INDEX customers_iban_hash;
CREATE INDEX customers_iban ON customers (iban);
ALTER TABLE customers DROP COLUMN iban_hash;
