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
// not. It is set from that sum (setBound), under the customer's lock, and triggers on payments
// add every payment that enters a counted status, or whose EUR grows in one; nothing subtracts.
// A payment that fits a limit with the bound in place of the limit's usage therefore fits it
// with the usage (a limit's usage counts only payments in a counted status created since its
// window's start, which is no earlier than the bound's): createPipelined makes such payments
// without summing the customer's payments, and leaves any other to createAtOnce's exact check,
// which sets the bound again. A customer's payments are made one after the other under the
// lock, so the bound read after the lock includes every payment committed before.

// countedStatuses are the statuses the bound counts (the triggers list the same): the open and
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

// setBound sets the customer's bound from the sum of their counted payments, counting from the
// earliest start of limits' windows (windows only move forward, so it covers them from now on),
// unless the bound already shows that a payment of eur fits them: fits reports that, and the
// exact check can then be skipped. It runs inside the transaction that makes the payment, after
// the customer's lock and before the payment's INSERT (whose trigger then adds it).
func setBound(ctx context.Context, tx *store.Tx, userID int64, limits []ramp.Limit, eur money.Amount) (fits bool, err error) {
	room, since, ok := boundOf(limits, eur)
	if !ok {
		return false, nil
	}
	counted, args := ramp.In("status", countedStatuses...)
	res, err := tx.Exec(ctx, `UPDATE customers SET purchase_bound = (SELECT COALESCE(SUM(eur_equivalent), 0) FROM payments
		WHERE user_id = ? AND created_at >= ? AND `+counted+`), purchase_bound_since = ?
		WHERE id = ? AND (purchase_bound IS NULL OR purchase_bound_since > ? OR purchase_bound > ?)`,
		slices.Concat([]any{userID, store.Micros(since)}, args, []any{store.Micros(since), userID, store.Micros(since), room})...)
	if err != nil {
		return false, err
	}
	set, err := res.RowsAffected()
	return set == 0, err
}
