package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"

	"github.com/pocketramp/pocketramp/internal/store"
)

// Check is the outcome of one invariant over the whole ledger.
type Check struct {
	Name     string
	Unit     string // what Checked counts
	Checked  int64
	Failed   int64
	Problems []string // the first maxProblems failures
}

// Report is the outcome of Verify.
type Report struct {
	Checks []Check
}

const maxProblems = 50

// OK reports whether every check passed.
func (r Report) OK() bool {
	for _, c := range r.Checks {
		if c.Failed > 0 {
			return false
		}
	}
	return true
}

// String renders one line per check, then every recorded problem.
func (r Report) String() string {
	var b strings.Builder
	width := 0
	for _, c := range r.Checks {
		width = max(width, len(c.Name))
	}
	for _, c := range r.Checks {
		status := "ok"
		if c.Failed > 0 {
			status = fmt.Sprintf("FAILED %d", c.Failed)
		}
		fmt.Fprintf(&b, "%-*s  %10d %-12s  %s\n", width, c.Name, c.Checked, c.Unit, status)
	}
	for _, c := range r.Checks {
		for _, p := range c.Problems {
			fmt.Fprintf(&b, "%s: %s\n", c.Name, p)
		}
		if n := c.Failed - int64(len(c.Problems)); n > 0 {
			fmt.Fprintf(&b, "%s: ... and %d more\n", c.Name, n)
		}
	}
	if r.OK() {
		b.WriteString("ledger OK\n")
	} else {
		b.WriteString("ledger INCONSISTENT\n")
	}
	return b.String()
}

func (c *Check) fail(format string, args ...any) {
	c.Failed++
	if len(c.Problems) < maxProblems {
		c.Problems = append(c.Problems, fmt.Sprintf(format, args...))
	}
}

// Verify checks the ledger's invariants: per asset the balances sum to zero; each account's
// balance equals the sum of its postings and every balance_after is the running sum (never
// negative on a non-negative account); each transaction has two or more postings and balances
// per asset; references are unique. Each check is one streamed statement, so it reads a
// consistent snapshot on both engines without blocking writers, and sums run in Go because SQLite
// cannot add 256-bit integers exactly.
func Verify(ctx context.Context, db *store.DB) (Report, error) {
	sums := Check{Name: "asset sums are zero", Unit: "assets"}
	balances := Check{Name: "balances equal sum of postings", Unit: "accounts"}
	chains := Check{Name: "balance_after are running sums", Unit: "postings"}
	txs := Check{Name: "transactions balance per asset", Unit: "transactions"}
	refs := Check{Name: "references are unique", Unit: "references"}

	if err := verifyAccounts(ctx, db, &sums, &balances, &chains); err != nil {
		return Report{}, err
	}
	if err := verifyTransactions(ctx, db, &txs); err != nil {
		return Report{}, err
	}
	if err := verifyReferences(ctx, db, &refs); err != nil {
		return Report{}, err
	}
	return Report{Checks: []Check{sums, balances, chains, txs, refs}}, nil
}

func verifyAccounts(ctx context.Context, db *store.DB, sums, balances, chains *Check) error {
	rows, err := db.Query(ctx, `SELECT a.id, a.key, a.asset, a.non_negative, a.balance, p.id, p.amount, p.balance_after, p.posted_at
		FROM ledger_accounts a LEFT JOIN ledger_postings p ON p.account_id = a.id
		ORDER BY a.id, p.posted_at, p.id`)
	if err != nil {
		return fmt.Errorf("ledger: verify accounts: %w", err)
	}
	defer rows.Close()

	assetSums := map[string]*big.Int{}
	var (
		cur         AccountID // account being summed
		key, asset  string
		nonNegative bool
		stored      *big.Int
		sum         = new(big.Int) // of the account's posting amounts
		prev        = new(big.Int) // balance_after of the previous posting
		lastPosted  int64
	)
	finish := func() {
		if cur == 0 {
			return
		}
		balances.Checked++
		if sum.Cmp(stored) != 0 {
			balances.fail("account %d (%s): balance %s, postings sum to %s", cur, key, stored, sum)
		}
		if nonNegative && stored.Sign() < 0 {
			balances.fail("account %d (%s) is non-negative but holds %s", cur, key, stored)
		}
	}
	for rows.Next() {
		var (
			id                     AccountID
			rKey, rAsset, rBalance string
			rNonNeg                bool
			postingID, postedAt    sql.NullInt64
			amount, after          sql.NullString
		)
		if err := rows.Scan(&id, &rKey, &rAsset, &rNonNeg, &rBalance, &postingID, &amount, &after, &postedAt); err != nil {
			return fmt.Errorf("ledger: verify accounts: %w", err)
		}
		if id != cur {
			finish()
			cur, key, asset, nonNegative, lastPosted = id, rKey, rAsset, rNonNeg, 0
			sum.SetInt64(0)
			prev.SetInt64(0)
			if stored, err = parseAmount(rBalance); err != nil {
				return err
			}
			s, ok := assetSums[asset]
			if !ok {
				s = new(big.Int)
				assetSums[asset] = s
			}
			s.Add(s, stored)
		}
		if !postingID.Valid {
			continue
		}
		chains.Checked++
		a, err := parseAmount(amount.String)
		if err != nil {
			return err
		}
		b, err := parseAmount(after.String)
		if err != nil {
			return err
		}
		sum.Add(sum, a)
		want := new(big.Int).Add(prev, a)
		switch {
		case a.Sign() == 0:
			chains.fail("posting %d on account %d (%s) is zero", postingID.Int64, id, key)
		case want.Cmp(b) != 0:
			chains.fail("posting %d on account %d (%s): balance_after %s, previous %s + amount %s = %s",
				postingID.Int64, id, key, b, prev, a, want)
		case nonNegative && b.Sign() < 0:
			chains.fail("posting %d takes non-negative account %d (%s) to %s", postingID.Int64, id, key, b)
		case postedAt.Int64 < lastPosted:
			chains.fail("posting %d on account %d (%s) is dated before its predecessor", postingID.Int64, id, key)
		}
		// Chaining from the stored value reports one bad posting once, not on every later one.
		prev = b
		lastPosted = max(lastPosted, postedAt.Int64)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("ledger: verify accounts: %w", err)
	}
	finish()
	for _, asset := range slices.Sorted(maps.Keys(assetSums)) {
		sums.Checked++
		if s := assetSums[asset]; s.Sign() != 0 {
			sums.fail("%s balances sum to %s", asset, s)
		}
	}
	return nil
}

func verifyTransactions(ctx context.Context, db *store.DB, txs *Check) error {
	rows, err := db.Query(ctx, `SELECT t.id, t.reference, a.asset, p.amount
		FROM ledger_transactions t
		LEFT JOIN ledger_postings p ON p.tx_id = t.id
		LEFT JOIN ledger_accounts a ON a.id = p.account_id
		ORDER BY t.id`)
	if err != nil {
		return fmt.Errorf("ledger: verify transactions: %w", err)
	}
	defer rows.Close()
	var (
		cur      TxID
		ref      string
		postings int
		sums     = map[string]*big.Int{}
	)
	finish := func() {
		if cur == 0 {
			return
		}
		txs.Checked++
		if postings < 2 {
			txs.fail("transaction %d (%s) has %d postings", cur, ref, postings)
			return
		}
		for _, asset := range slices.Sorted(maps.Keys(sums)) {
			if s := sums[asset]; s.Sign() != 0 {
				txs.fail("transaction %d (%s): %s postings sum to %s", cur, ref, asset, s)
			}
		}
	}
	for rows.Next() {
		var (
			id     TxID
			rRef   string
			asset  sql.NullString
			amount sql.NullString
		)
		if err := rows.Scan(&id, &rRef, &asset, &amount); err != nil {
			return fmt.Errorf("ledger: verify transactions: %w", err)
		}
		if id != cur {
			finish()
			cur, ref, postings = id, rRef, 0
			clear(sums)
		}
		if !amount.Valid {
			continue
		}
		postings++
		a, err := parseAmount(amount.String)
		if err != nil {
			return err
		}
		s, ok := sums[asset.String]
		if !ok {
			s = new(big.Int)
			sums[asset.String] = s
		}
		s.Add(s, a)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("ledger: verify transactions: %w", err)
	}
	finish()
	return nil
}

func verifyReferences(ctx context.Context, db *store.DB, refs *Check) error {
	// The unique index should make this impossible; the check guards against an index that was
	// dropped or a database restored without it.
	rows, err := db.Query(ctx, `SELECT reference, COUNT(*) FROM ledger_transactions GROUP BY reference ORDER BY reference`)
	if err != nil {
		return fmt.Errorf("ledger: verify references: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			ref string
			n   int64
		)
		if err := rows.Scan(&ref, &n); err != nil {
			return fmt.Errorf("ledger: verify references: %w", err)
		}
		refs.Checked++
		if n > 1 {
			refs.fail("reference %q is used by %d transactions", ref, n)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("ledger: verify references: %w", err)
	}
	return nil
}
