-- +goose Up
-- A payout that cannot be exported is held (set aside with its reason) instead of blocking its
-- account's pain.001; the operator corrects, retries or cancels it.
ALTER TABLE bank_payouts DROP CONSTRAINT bank_payouts_status_check;
ALTER TABLE bank_payouts ADD CONSTRAINT bank_payouts_status_check
    CHECK (status IN ('pending', 'held', 'exported', 'confirmed', 'returned', 'cancelled'));
ALTER TABLE bank_payouts ADD COLUMN hold_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE bank_payouts ADD COLUMN original_name TEXT NOT NULL DEFAULT '';
ALTER TABLE bank_payouts ADD COLUMN note TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE bank_payouts DROP COLUMN note;
ALTER TABLE bank_payouts DROP COLUMN original_name;
ALTER TABLE bank_payouts DROP COLUMN hold_reason;
ALTER TABLE bank_payouts DROP CONSTRAINT bank_payouts_status_check;
ALTER TABLE bank_payouts ADD CONSTRAINT bank_payouts_status_check
    CHECK (status IN ('pending', 'exported', 'confirmed', 'returned'));
