package onramp

import (
	"context"
	"slices"
	"time"

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

// boundOf is what a bound must show for a payment to fit limits, the bound including the
// payment: at most max (the lowest limit, in EUR cents) and counting the payments created since
// at most since (the earliest window start). ok is false without limits or when one is not in
// EUR cents, as the bound is.
func boundOf(limits []ramp.Limit) (max int64, since time.Time, ok bool) {
	for i, lim := range limits {
		if lim.Max.Scale() != 2 {
			return 0, time.Time{}, false
		}
		if m := lim.Max.Units().Int64(); i == 0 || m < max {
			max = m
		}
		if i == 0 || lim.Since.Before(since) {
			since = lim.Since
		}
	}
	return max, since, len(limits) > 0
}

// addSQL adds p to its customer's bound, and takes the customer's row lock if tx had not.
func addSQL(p Payment) store.Stmt {
	return store.Stmt{SQL: "UPDATE customers SET purchase_bound = purchase_bound + ? WHERE id = ? AND integration_id = ?",
		Args: []any{p.EUREquivalent.Units().Int64(), p.UserID, p.IntegrationID}}
}

// addToBound adds p, about to be inserted in tx after the customer's lock, to the customer's
// bound. When the bound shows that p fits limits, fits is true and the exact check can be
// skipped; otherwise, when there are limits, the bound is set again from the sum of the
// customer's counted payments (with p), counting from the earliest start of their windows
// (windows only move forward, so it covers them from now on).
func addToBound(ctx context.Context, tx *store.Tx, p Payment, limits []ramp.Limit) (fits bool, err error) {
	if p.EUREquivalent.Scale() != 2 { // the bound is in EUR cents: it can no longer be kept
		_, err := tx.Exec(ctx, "UPDATE customers SET purchase_bound = NULL WHERE id = ?", p.UserID)
		return false, err
	}
	max, since, ok := boundOf(limits)
	if !ok {
		add := addSQL(p)
		_, err := tx.Exec(ctx, add.SQL, add.Args...)
		return false, err
	}
	cents := p.EUREquivalent.Units().Int64()
	res, err := tx.Exec(ctx, "UPDATE customers SET purchase_bound = purchase_bound + ? WHERE id = ? AND purchase_bound_since <= ? AND purchase_bound + ? <= ?",
		cents, p.UserID, store.Micros(since), cents, max)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return n == 1, err
	}
	counted, args := ramp.In("status", countedStatuses...)
	_, err = tx.Exec(ctx, `UPDATE customers SET purchase_bound = ? + (SELECT COALESCE(SUM(eur_equivalent), 0) FROM payments
		WHERE user_id = ? AND created_at >= ? AND `+counted+`), purchase_bound_since = ? WHERE id = ?`,
		slices.Concat([]any{cents, p.UserID, store.Micros(since)}, args, []any{store.Micros(since), p.UserID})...)
	return false, err
}
