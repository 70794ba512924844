package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/pocketramp/pocketramp/internal/store"
)

// AccountsPage returns one page of the accounts whose key starts with prefix, ordered by key,
// and how many there are.
func AccountsPage(ctx context.Context, db *store.DB, prefix string, page, perPage int) ([]Account, int, error) {
	var w store.Where
	w.AddIf(prefix != "", `key LIKE ? ESCAPE '\'`, likePrefix(prefix))
	return store.Page(ctx, db, "ledger_accounts", accountColumns, w, "key", page, perPage,
		func(sc store.Scanner) (Account, error) { return scanAccount(sc) })
}

// Total is the sum of the balances of one kind of account in one asset.
type Total struct {
	Sandbox  bool // the sandbox books ("sb:" accounts)
	Kind     Kind
	Asset    string
	Accounts int
	Balance  *big.Int
}

// Totals sums the balances by books (live, sandbox), kind and asset, live first then by asset
// and kind. Per asset and books the totals of all kinds sum to zero when the ledger balances.
func Totals(ctx context.Context, db *store.DB) ([]Total, error) {
	rows, err := db.Query(ctx, `SELECT key, kind, asset, balance FROM ledger_accounts`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type group struct {
		sandbox     bool
		kind, asset string
	}
	sums := map[group]*Total{}
	for rows.Next() {
		var key, kind, asset, balance string
		if err := rows.Scan(&key, &kind, &asset, &balance); err != nil {
			return nil, err
		}
		b, err := parseAmount(balance)
		if err != nil {
			return nil, fmt.Errorf("ledger: account %s: %w", key, err)
		}
		g := group{strings.HasPrefix(key, "sb:"), kind, asset}
		t := sums[g]
		if t == nil {
			t = &Total{Sandbox: g.sandbox, Kind: Kind(kind), Asset: asset, Balance: new(big.Int)}
			sums[g] = t
		}
		t.Accounts++
		t.Balance.Add(t.Balance, b)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Total, 0, len(sums))
	for _, t := range sums {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Sandbox != b.Sandbox {
			return !a.Sandbox
		}
		if a.Asset != b.Asset {
			return a.Asset < b.Asset
		}
		return a.Kind < b.Kind
	})
	return out, nil
}

// TransactionsByPrefix returns the transactions whose reference starts with one of prefixes
// (an operation's postings: "onramp:<id>:"), with their entries, in posting order. Each prefix
// is a range scan of the reference index.
func TransactionsByPrefix(ctx context.Context, q Querier, prefixes ...string) ([]Record, error) {
	seen := map[TxID]bool{}
	var out []Record
	for _, prefix := range prefixes {
		if prefix == "" {
			continue
		}
		// [prefix, prefix with its last byte + 1): every reference that starts with prefix.
		upper := []byte(prefix)
		upper[len(upper)-1]++
		rows, err := q.Query(ctx, `SELECT id, reference, description, reverses, posted_at FROM ledger_transactions
			WHERE reference >= ? AND reference < ? ORDER BY id`, prefix, string(upper))
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var r Record
			var reverses sql.NullInt64
			var posted int64
			if err := rows.Scan(&r.ID, &r.Reference, &r.Description, &reverses, &posted); err != nil {
				rows.Close()
				return nil, err
			}
			if seen[r.ID] || !strings.HasPrefix(r.Reference, prefix) {
				continue
			}
			seen[r.ID] = true
			r.Reverses, r.PostedAt = TxID(reverses.Int64), store.Time(posted)
			out = append(out, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	for i := range out {
		rows, err := q.Query(ctx, entrySelect+` WHERE p.tx_id = ? ORDER BY p.id`, out[i].ID)
		if err != nil {
			return nil, err
		}
		if out[i].Entries, err = scanEntries(rows); err != nil {
			return nil, err
		}
	}
	return out, nil
}
