-- +goose Up
-- An upper bound of a customer's purchase-limit usage, so that a payment that fits under it needs
-- no sum over the customer's payments (onramp/bound.go). When purchase_bound is set, it is at
-- least the EUR cents of the customer's payments created since purchase_bound_since in a status
-- that holds a share of the limits (started, pending_bank, payment_received, coins_sent; expiry
-- ignored). The code sets it from that sum and adds each payment it inserts; the trigger below
-- adds every payment that enters one of those statuses later, or whose EUR grows in one,
-- whatever updates it. Nothing subtracts (an expired or failed payment leaves it high until it
-- is set again), so it errs only towards the exact check.
ALTER TABLE customers ADD COLUMN purchase_bound BIGINT;
ALTER TABLE customers ADD COLUMN purchase_bound_since BIGINT;
-- +goose StatementBegin
CREATE FUNCTION payments_purchase_bound() RETURNS trigger AS $$
BEGIN
    UPDATE customers SET purchase_bound = purchase_bound + NEW.eur_equivalent -
        CASE WHEN OLD.status IN ('started', 'pending_bank', 'payment_received', 'coins_sent')
            AND OLD.user_id = NEW.user_id AND OLD.created_at = NEW.created_at THEN OLD.eur_equivalent ELSE 0 END
    WHERE id = NEW.user_id AND purchase_bound IS NOT NULL AND NEW.created_at >= purchase_bound_since;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER payments_purchase_bound_update AFTER UPDATE OF status, eur_equivalent, user_id, created_at ON payments FOR EACH ROW
    WHEN (NEW.status IN ('started', 'pending_bank', 'payment_received', 'coins_sent')
        AND (OLD.status NOT IN ('started', 'pending_bank', 'payment_received', 'coins_sent')
            OR NEW.eur_equivalent > OLD.eur_equivalent OR NEW.user_id <> OLD.user_id OR NEW.created_at <> OLD.created_at))
    EXECUTE FUNCTION payments_purchase_bound();

-- +goose Down
DROP TRIGGER payments_purchase_bound_update ON payments;
DROP FUNCTION payments_purchase_bound();
ALTER TABLE customers DROP COLUMN purchase_bound_since;
ALTER TABLE customers DROP COLUMN purchase_bound;
