package onramp

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/ramp"
	"github.com/pocketramp/pocketramp/internal/store"
)

// createPipelined makes a createAtOnce payment on PostgreSQL in one round trip instead of four
// (store.Pipelined), when the customer's purchase bound (bound.go) shows that it fits the limits:
// the customer's row lock, taken by the UPDATE that adds the payment to the bound, then one
// statement that reads the customer again and inserts the payment only if the customer may buy,
// the external id is free and the bound shows the payment fits the limits of the customer's
// level. No sum over the customer's payments is read. The two need no BEGIN and COMMIT:
// statements sent in one batch run in an implicit transaction that the server commits at the
// batch's Sync, or rolls back at the first error, skipping the rest. It is the same transaction
// as createAtOnce's: the statement starts after the lock, so it sees every payment of the
// customer committed before (READ COMMITTED takes a snapshot per statement) and the bound that
// includes them, and one customer's payments are still checked one after the other.
//
// It answers only orders it makes. Any other order (an unknown, banned or unverified customer,
// another failing check, an external id taken, a bound not set or too high to show the payment
// fits, a conflict on insert) commits at most the bound's addition (a bound higher than it
// need be, which errs the safe way) and is reported as not done: createAtOnce's
// transaction then makes it again, with the exact limit check, and answers it in the contract's
// order. An order naming a quote, or whose receiving account failed, is left to createAtOnce too
// (the quote is stored by the pricer). Once the batch is sent, only an error of the server's
// (which aborts the transaction) is handed back for that; a lost connection is answered as an
// error, as a failed COMMIT is by createAtOnce.
func (s *Service) createPipelined(ctx context.Context, o order, pr prepared, out *Created, pageToken string) (done bool, err error) {
	if s.DB.Engine() != store.Postgres || o.QuoteID != "" || !passesOrderChecks(o, pr) {
		return false, nil
	}
	p := newPayment(o, customer.Customer{ID: o.UserID}, pr.a, pr.eur, pr.q, s.Now())
	p.BankIBAN = out.Account.IBAN
	if p.BankIBAN != "" {
		p.Concept = newConcept()
	}
	ins, ok := insertFitting(p, pageToken, limitsFor(pr.st, o.method, p.CreatedAt))
	if !ok {
		return false, nil
	}
	err = s.DB.Pipelined(ctx, func(pipe store.Pipe) error {
		// The customer's lock, which adds the payment to the bound: the statement below reads the
		// row after it. A payment not made leaves the bound higher, which errs the safe way.
		br := pipe.Send(ctx, addSQL(p), ins)
		_, err := br.Exec()
		var made pgconn.CommandTag
		if err == nil {
			made, err = br.Exec()
		}
		if cerr := br.Close(); err == nil { // the commit: Close reads up to the batch's end
			err = cerr
		}
		var pgErr *pgconn.PgError
		switch {
		case errors.As(err, &pgErr):
			return nil // the server refused a statement: nothing is committed
		case err != nil:
			return err
		case made.RowsAffected() == 1:
			out.Payment, done = p, true
		}
		return nil
	})
	if errors.Is(err, store.ErrNotPipelined) {
		return false, nil
	}
	return done, err
}

// passesOrderChecks reports whether the order passes every check of checkButLimits that does
// not read the database (all but the external id's).
func passesOrderChecks(o order, pr prepared) bool {
	return pr.err == nil && checkMethodMax(o.method, o.amount) == nil && pr.assetErr == nil &&
		checkMinimum(pr.st, o.method, o.amount, pr.eur) == nil && pr.st.MethodEnabled(o.method.Code) && pr.quoteErr == nil
}

// insertFitting is one statement that reads the customer (locked before it) and inserts p only
// if the customer may buy (valid KYC, not banned), the order's external id is free and the
// customer's purchase bound shows that p fits the limits of the customer's level (levels gives
// them). ok is false when p or a limit is not in EUR cents, as the bound is.
func insertFitting(p Payment, pageToken string, levels func(level string) []ramp.Limit) (ins store.Stmt, ok bool) {
	if p.EUREquivalent.Scale() != 2 {
		return store.Stmt{}, false
	}
	// fits is the condition that the bound, which includes p, shows p fits the limits of one level.
	fits := func(limits []ramp.Limit) (string, []any, bool) {
		if len(limits) == 0 {
			return "TRUE", nil, true
		}
		max, since, ok := boundOf(limits)
		return "purchase_bound <= ? AND purchase_bound_since <= ?", []any{max, store.Micros(since)}, ok
	}
	where := []string{"id = ? AND integration_id = ? AND kyc_status = ? AND NOT banned AND purchase_bound IS NOT NULL"}
	args := append(paymentArgs(p, pageToken), p.UserID, p.IntegrationID, customer.StatusValid)
	if p.ExternalID != "" {
		q, a := book.ExternalIDSQL(p.IntegrationID, p.ExternalID)
		where, args = append(where, "("+q+") = 0"), append(args, a...)
	}
	level := "CASE kyc_level"
	for _, l := range []string{customer.LevelBasic, customer.LevelReinforced, ""} {
		cond, condArgs, ok := fits(levels(l))
		if !ok {
			return store.Stmt{}, false
		}
		if l == "" {
			level += " ELSE " + cond + " END"
		} else {
			level += " WHEN ? THEN " + cond
			args = append(args, l)
		}
		args = append(args, condArgs...)
	}
	where = append(where, level)
	return store.Stmt{SQL: "INSERT INTO payments (" + paymentColumns + ") SELECT " + paymentValues + " FROM customers WHERE " +
		strings.Join(where, " AND "), Args: args}, true
}
