package onramp

import (
	"context"
	"slices"
	"time"

	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/ramp"
	"github.com/pocketramp/pocketramp/internal/store"
)

// The purchase bound (customers.purchase_bound and purchase_bound_since, migration 00031) is an
// upper bound of what a customer's payments hold against the limits: when set, at least the EUR
// of the customer's payments created since purchase_bound_since in a counted status, expired or
// not. Under the customer's lock it is set from that sum, and every payment inserted is added to
// it (addToBound, createPipelined); a trigger on payments adds every payment that enters a
// counted status later (a late transfer), or whose EUR grows in one. Nothing subtracts.
// A payment that fits a limit with the bound in place of the limit's usage therefore fits it
// with the usage (a limit's usage counts only payments in a counted status created since its
// window's start, which is no earlier than the bound's): such payments are made without summing
// the customer's payments, and any other with the exact check, which sets the bound again. A
// customer's payments are made one after the other under the lock, so the bound read after the
// lock includes every payment committed before.

// countedStatuses are the statuses the bound counts (the trigger lists the same): the open and
// the held ones, whether an open payment has expired or not.
var countedStatuses = slices.Concat(openStatuses, heldStatuses)

// boundOf is what a bound must show for a payment of eur to fit limits: a bound of at most room
// that counts the payments created since at most since.
func boundOf(limits []ramp.Limit, eur money.Amount) (room int64, since time.Time, ok bool) {
	for i, lim := range limits {
		r := lim.Max.Sub(eur)
		if lim.Max.Scale() != 2 || eur.Scale() != 2 || r.Scale() != 2 { // the bound is in EUR cents
			return 0, time.Time{}, false
		}
		if i == 0 || r.Units().Int64() < room {
			room = r.Units().Int64()
		}
		if i == 0 || lim.Since.Before(since) {
			since = lim.Since
		}
	}
	return room, since, len(limits) > 0
}

// addToBound adds a payment of eur, about to be inserted in tx after the customer's lock, to the
// customer's bound. When the bound shows that the payment fits limits, fits is true and the
// exact check can be skipped; otherwise, when there are limits, the bound is set again from the
// sum of the customer's counted payments (with this one), counting from the earliest start of
// their windows (windows only move forward, so it covers them from now on).
func addToBound(ctx context.Context, tx *store.Tx, userID int64, limits []ramp.Limit, eur money.Amount) (fits bool, err error) {
	if eur.Scale() != 2 { // the bound is in EUR cents: it can no longer be kept
		_, err := tx.Exec(ctx, "UPDATE customers SET purchase_bound = NULL WHERE id = ?", userID)
		return false, err
	}
	cents := eur.Units().Int64()
	room, since, ok := boundOf(limits, eur)
	if !ok {
		_, err := tx.Exec(ctx, "UPDATE customers SET purchase_bound = purchase_bound + ? WHERE id = ?", cents, userID)
		return false, err
	}
	res, err := tx.Exec(ctx, "UPDATE customers SET purchase_bound = purchase_bound + ? WHERE id = ? AND purchase_bound_since <= ? AND purchase_bound <= ?",
		cents, userID, store.Micros(since), room)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return n == 1, err
	}
	counted, args := ramp.In("status", countedStatuses...)
	_, err = tx.Exec(ctx, `UPDATE customers SET purchase_bound = ? + (SELECT COALESCE(SUM(eur_equivalent), 0) FROM payments
		WHERE user_id = ? AND created_at >= ? AND `+counted+`), purchase_bound_since = ? WHERE id = ?`,
		slices.Concat([]any{cents, userID, store.Micros(since)}, args, []any{store.Micros(since), userID})...)
	return false, err
}
