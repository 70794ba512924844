package onramp

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/ramp"
	"github.com/pocketramp/pocketramp/internal/store"
)

// createPipelined makes a createAtOnce payment on PostgreSQL in two round trips instead of four
// (store.Pipelined): BEGIN travels with the customer's lock (and the external id's lookup), and
// COMMIT with one statement that reads the limit usage and inserts the payment only if it fits.
// The transaction is the same as createAtOnce's: the usage is read by a statement that starts
// after the lock, so one customer's payments are still checked one after the other.
//
// It answers only orders that pass every check, and a limit's error. Any other order (an
// unknown, banned or unverified customer, another failing check, an external id taken, a
// conflict on insert) is rolled back and reported as not done: createAtOnce's transaction then
// makes it again and answers it in the contract's order. An order naming a quote, or whose
// receiving account failed, is left to createAtOnce too (the quote is stored by the pricer).
// Once the INSERT and COMMIT are sent, only an error of the server's (which aborts the
// transaction) is handed back for that; a lost connection is answered as an error, as a failed
// COMMIT is by createAtOnce.
func (s *Service) createPipelined(ctx context.Context, o order, pr prepared, out *Created, pageToken string) (done bool, err error) {
	if s.DB.Engine() != store.Postgres || o.QuoteID != "" || !passesOrderChecks(o, pr) {
		return false, nil
	}
	err = s.DB.Pipelined(ctx, func(pipe store.Pipe) error {
		c, ok := lockForPayment(ctx, pipe, o)
		if !ok {
			return nil
		}
		p := newPayment(o, c, pr.a, pr.eur, pr.q, s.Now())
		p.BankIBAN = out.Account.IBAN
		if p.BankIBAN != "" {
			p.Concept = newConcept()
		}
		limits := limitsFor(pr.st, o.method, p.CreatedAt)(c.KYCLevel)
		query, args, ok := insertFitting(p, pageToken, limits)
		if !ok {
			return nil
		}
		used := make([]int64, len(limits)+1) // the usages, then the rows inserted
		dest := make([]any, len(used))
		for i := range used {
			dest[i] = &used[i]
		}
		br := pipe.Send(ctx, store.Stmt{SQL: query, Args: args}, store.Stmt{SQL: "COMMIT"})
		if err := br.QueryRow().Scan(dest...); err != nil {
			br.Close()
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) {
				return nil // the server refused the INSERT: nothing is committed
			}
			return err
		}
		_, err := br.Exec()
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		if used[len(limits)] == 1 {
			out.Payment, done = p, true
			return nil
		}
		for i, lim := range limits { // committed without the payment: a limit it would pass
			if money.FromInt64(used[i], 2).Add(p.EUREquivalent).Cmp(lim.Max) > 0 {
				done = true
				return lim.Err
			}
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

// lockForPayment sends BEGIN, the customer's lock and, with an external id, its lookup, in one
// round trip. It returns the customer when the order may go on: the customer exists, may buy,
// and the external id is free.
func lockForPayment(ctx context.Context, pipe store.Pipe, o order) (customer.Customer, bool) {
	lockSQL, lockArgs := customer.LockSQL(store.Postgres, o.IntegrationID, o.UserID)
	stmts := []store.Stmt{{SQL: "BEGIN"}, {SQL: lockSQL, Args: lockArgs}}
	if o.ext != "" {
		q, a := book.ExternalIDSQL(o.IntegrationID, o.ext)
		stmts = append(stmts, store.Stmt{SQL: q, Args: a})
	}
	br := pipe.Send(ctx, stmts...)
	_, err := br.Exec()
	var c customer.Customer
	if err == nil {
		c, err = customer.ScanLocked(br.QueryRow())
	}
	taken := 0
	if err == nil && o.ext != "" {
		err = br.QueryRow().Scan(&taken)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return c, err == nil && !c.Banned && c.KYCStatus == customer.StatusValid && taken == 0
}

// insertFitting is one statement that reads the customer's usage of each limit and inserts p
// only if it fits them all, returning the usages and the rows inserted (0 or 1). ok is false
// when a limit is not in EUR cents (the usage is summed in cents).
func insertFitting(p Payment, pageToken string, limits []ramp.Limit) (query string, args []any, ok bool) {
	usages := []string{"0 AS u_"}
	var cols, conds []string
	var condArgs []any
	for i, lim := range limits {
		room := lim.Max.Sub(p.EUREquivalent)
		if lim.Max.Scale() != 2 || p.EUREquivalent.Scale() != 2 || room.Scale() != 2 {
			return "", nil, false
		}
		q, a := book.UsageSQL(p.UserID, p.CreatedAt, lim)
		usages = append(usages, fmt.Sprintf("(%s) AS u%d", q, i))
		args = append(args, a...)
		cols = append(cols, fmt.Sprintf("u%d", i))
		conds = append(conds, fmt.Sprintf("u%d <= ?", i))
		condArgs = append(condArgs, room.Units().Int64())
	}
	where := "TRUE"
	if len(conds) > 0 {
		where = strings.Join(conds, " AND ")
	}
	args = append(append(args, paymentArgs(p, pageToken)...), condArgs...)
	query = "WITH u AS (SELECT " + strings.Join(usages, ", ") + "), ins AS (INSERT INTO payments (" + paymentColumns + ") SELECT " +
		paymentValues + " FROM u WHERE " + where + " RETURNING 1) SELECT " + strings.Join(append(cols, "(SELECT COUNT(*) FROM ins)"), ", ") + " FROM u"
	return query, args, true
}
