package onramp

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/ramp"
	"github.com/pocketramp/pocketramp/internal/store"
)

// createPipelined makes a createAtOnce payment on PostgreSQL in one round trip instead of four
// (store.Pipelined): BEGIN, the customer's row lock (customer.LockSQL), one statement that reads
// the customer again and its limit usage and inserts the payment only if the customer may buy,
// the external id is free and the payment fits the limits of the customer's level, and COMMIT.
// The transaction is the same as createAtOnce's: the statement starts after the lock, so it sees
// every payment of the customer committed before (READ COMMITTED takes a snapshot per
// statement), and one customer's payments are still checked one after the other.
//
// It answers only orders that pass every check, and a limit's error. Any other order (an
// unknown, banned or unverified customer, another failing check, an external id taken, a
// conflict on insert) is rolled back or commits nothing, and is reported as not done:
// createAtOnce's transaction then makes it again and answers it in the contract's order. An
// order naming a quote, or whose receiving account failed, is left to createAtOnce too (the
// quote is stored by the pricer). Once the batch is sent, only an error of the server's (which
// aborts the transaction) is handed back for that; a lost connection is answered as an error, as
// a failed COMMIT is by createAtOnce.
func (s *Service) createPipelined(ctx context.Context, o order, pr prepared, out *Created, pageToken string) (done bool, err error) {
	if s.DB.Engine() != store.Postgres || o.QuoteID != "" || !passesOrderChecks(o, pr) {
		return false, nil
	}
	p := newPayment(o, customer.Customer{ID: o.UserID}, pr.a, pr.eur, pr.q, s.Now())
	p.BankIBAN = out.Account.IBAN
	if p.BankIBAN != "" {
		p.Concept = newConcept()
	}
	levels := limitsFor(pr.st, o.method, p.CreatedAt)
	ins, ok := insertFitting(p, pageToken, levels)
	if !ok {
		return false, nil
	}
	err = s.DB.Pipelined(ctx, func(pipe store.Pipe) error {
		lockSQL, lockArgs := customer.LockSQL(store.Postgres, o.IntegrationID, o.UserID)
		br := pipe.Send(ctx, store.Stmt{SQL: "BEGIN"}, store.Stmt{SQL: lockSQL, Args: lockArgs},
			store.Stmt{SQL: ins.query, Args: ins.args}, store.Stmt{SQL: "COMMIT"})
		_, err := br.Exec()
		if err == nil {
			_, err = br.Exec() // the lock; the statement below reads the row after it
		}
		var c customer.Customer
		used := make([]int64, len(ins.usages)+2) // the usages, the rows inserted, the external id's uses
		if err == nil {
			dest := []any{&c.KYCStatus, &c.KYCLevel, &c.Banned}
			for i := range used {
				dest = append(dest, &used[i])
			}
			err = br.QueryRow().Scan(dest...)
		}
		if err == nil {
			_, err = br.Exec()
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		var pgErr *pgconn.PgError
		switch {
		case errors.Is(err, pgx.ErrNoRows) || errors.As(err, &pgErr):
			return nil // no such customer, or the server refused a statement: nothing is committed
		case err != nil:
			return err
		case used[len(ins.usages)] == 1:
			out.Payment, done = p, true
			return nil
		case c.Banned || c.KYCStatus != customer.StatusValid || used[len(ins.usages)+1] > 0:
			return nil
		}
		for _, lim := range levels(c.KYCLevel) { // committed without the payment: a limit it would pass
			if money.FromInt64(used[ins.usage(lim)], 2).Add(p.EUREquivalent).Cmp(lim.Max) > 0 {
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

// fitting is insertFitting's statement: its query and arguments, and the usages it returns (one
// per distinct limit window of any level, in the order of the row's columns).
type fitting struct {
	query  string
	args   []any
	usages []string // each usage's SQL and arguments, as a key
}

// usage is the column of the row that holds lim's usage.
func (f fitting) usage(lim ramp.Limit) int {
	return slices.Index(f.usages, usageKey(lim))
}

func usageKey(lim ramp.Limit) string {
	return fmt.Sprint(store.Micros(lim.Since), lim.Where, lim.Args)
}

// insertFitting is one statement that reads the customer (locked before it) and the usage of
// every limit of any KYC level, and inserts p only if the customer may buy (valid KYC, not
// banned), the order's external id is free and p fits the limits of the customer's level
// (levels gives them). It returns one row: the customer's KYC status, KYC level and ban, the
// usages, the rows inserted (0 or 1) and how many payments have the external id; or none when
// the customer does not exist. ok is false when a limit is not in EUR cents (the usage is
// summed in cents).
func insertFitting(p Payment, pageToken string, levels func(level string) []ramp.Limit) (f fitting, ok bool) {
	var usageSQL []string
	var usageArgs []any
	// fits is the condition that p fits the limits of one level.
	fits := func(limits []ramp.Limit) (string, []any, bool) {
		conds, args := []string{"TRUE"}, []any(nil)
		for _, lim := range limits {
			room := lim.Max.Sub(p.EUREquivalent)
			if lim.Max.Scale() != 2 || p.EUREquivalent.Scale() != 2 || room.Scale() != 2 {
				return "", nil, false
			}
			i := f.usage(lim)
			if i < 0 {
				q, a := book.UsageSQL(p.UserID, p.CreatedAt, lim)
				i = len(f.usages)
				f.usages = append(f.usages, usageKey(lim))
				usageSQL = append(usageSQL, fmt.Sprintf("(%s) AS u%d", q, i))
				usageArgs = append(usageArgs, a...)
			}
			conds, args = append(conds, fmt.Sprintf("u%d <= ?", i)), append(args, room.Units().Int64())
		}
		return strings.Join(conds, " AND "), args, true
	}
	var cases []string
	var caseArgs []any
	for _, level := range []string{customer.LevelBasic, customer.LevelReinforced} {
		cond, args, ok := fits(levels(level))
		if !ok {
			return fitting{}, false
		}
		cases, caseArgs = append(cases, "WHEN ? THEN "+cond), append(append(caseArgs, level), args...)
	}
	other, otherArgs, ok := fits(levels(""))
	if !ok {
		return fitting{}, false
	}
	cols := make([]string, len(f.usages))
	for i := range cols {
		cols[i] = fmt.Sprintf("u%d", i)
	}
	where := "kyc_status = ? AND NOT banned AND CASE kyc_level " + strings.Join(cases, " ") + " ELSE " + other + " END"
	whereArgs := append(append([]any{customer.StatusValid}, caseArgs...), otherArgs...)
	taken := "0"
	if p.ExternalID != "" {
		q, a := book.ExternalIDSQL(p.IntegrationID, p.ExternalID)
		taken, usageArgs = "("+q+")", append(usageArgs, a...)
	}
	f.query = "WITH u AS (SELECT kyc_status, kyc_level, banned, " + strings.Join(append(usageSQL, taken+" AS taken"), ", ") +
		" FROM customers WHERE id = ? AND integration_id = ?), ins AS (INSERT INTO payments (" + paymentColumns + ") SELECT " +
		paymentValues + " FROM u WHERE taken = 0 AND " + where + " RETURNING 1) SELECT " +
		strings.Join(append([]string{"kyc_status", "kyc_level", "banned"}, append(cols, "(SELECT COUNT(*) FROM ins)", "taken")...), ", ") + " FROM u"
	f.args = append(append(append(usageArgs, p.UserID, p.IntegrationID), paymentArgs(p, pageToken)...), whereArgs...)
	return f, true
}
