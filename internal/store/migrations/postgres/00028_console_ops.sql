-- +goose Up
-- Indexes of the operator console's lists and timelines: every integration's payments and
-- off-ramps newest first, narrowed by status or method; an operation's events; the bank
-- transactions matched to a payment.
CREATE INDEX payments_created ON payments(created_at);
CREATE INDEX payments_status_created ON payments(status, created_at);
CREATE INDEX payments_type_created ON payments(payment_type, created_at);
CREATE INDEX rampoffs_created ON rampoffs(created_at);
CREATE INDEX rampoffs_status_created ON rampoffs(status, created_at);
CREATE INDEX events_object ON events(object_type, object_id);
CREATE INDEX bank_transactions_payment ON bank_transactions(payment_id);
CREATE INDEX bank_transactions_payout ON bank_transactions(payout_id);

-- +goose Down
DROP INDEX bank_transactions_payout;
DROP INDEX bank_transactions_payment;
DROP INDEX events_object;
DROP INDEX rampoffs_status_created;
DROP INDEX rampoffs_created;
DROP INDEX payments_type_created;
DROP INDEX payments_status_created;
DROP INDEX payments_created;
