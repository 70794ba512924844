package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

var ctx = context.Background()

func ensure(t testing.TB, db *store.DB, key string, kind ledger.Kind, asset string, nonNegative bool) ledger.AccountID {
	t.Helper()
	var id ledger.AccountID
	err := db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		id, err = ledger.EnsureAccount(ctx, tx, ledger.Account{Key: key, Kind: kind, Asset: asset, NonNegative: nonNegative})
		return err
	})
	if err != nil {
		t.Fatalf("ensure %s: %v", key, err)
	}
	return id
}

func post(db *store.DB, t ledger.Transaction) (ledger.TxID, error) {
	var id ledger.TxID
	err := db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		id, err = ledger.Post(ctx, tx, t)
		return err
	})
	return id, err
}

func mustPost(t testing.TB, db *store.DB, tr ledger.Transaction) ledger.TxID {
	t.Helper()
	id, err := post(db, tr)
	if err != nil {
		t.Fatalf("post %s: %v", tr.Reference, err)
	}
	return id
}

func balance(t testing.TB, db *store.DB, id ledger.AccountID) *big.Int {
	t.Helper()
	b, err := ledger.Balance(ctx, db, id)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wantBalance(t testing.TB, db *store.DB, id ledger.AccountID, want int64) {
	t.Helper()
	if got := balance(t, db, id); got.Cmp(big.NewInt(want)) != 0 {
		t.Errorf("balance of %d = %s, want %d", id, got, want)
	}
}

func mustVerify(t testing.TB, db *store.DB) ledger.Report {
	t.Helper()
	r, err := ledger.Verify(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		t.Fatalf("verify failed:\n%s", r)
	}
	return r
}

// state is everything the ledger has written, to prove a rejection wrote nothing.
func state(t testing.TB, db *store.DB) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT id, reference, description, posted_at FROM ledger_transactions ORDER BY id`,
		`SELECT id, tx_id, account_id, amount, balance_after, posted_at FROM ledger_postings ORDER BY id`,
		`SELECT id, key, balance, last_posted_at FROM ledger_accounts ORDER BY id`,
	} {
		rows, err := db.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, vals...)
		}
		rows.Close()
	}
	return b.String()
}

func TestEnsureAccount(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		a := ensure(t, db, "customer:42:EUR", ledger.KindCustomer, "EUR", true)
		if b := ensure(t, db, "customer:42:EUR", ledger.KindCustomer, "EUR", true); b != a {
			t.Fatalf("EnsureAccount not idempotent: %d then %d", a, b)
		}
		got, err := ledger.AccountByKey(ctx, db, "customer:42:EUR")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != a || got.Kind != ledger.KindCustomer || got.Asset != "EUR" || !got.NonNegative || got.Balance.Sign() != 0 {
			t.Fatalf("AccountByKey = %+v", got)
		}
		if got2, err := ledger.AccountByID(ctx, db, a); err != nil || got2.Key != got.Key {
			t.Fatalf("AccountByID = %+v, %v", got2, err)
		}
		for _, c := range []struct {
			acct ledger.Account
			want error
		}{
			{ledger.Account{Key: "customer:42:EUR", Kind: ledger.KindCustomer, Asset: "USD", NonNegative: true}, ledger.ErrAccountMismatch},
			{ledger.Account{Key: "customer:42:EUR", Kind: ledger.KindCustomer, Asset: "EUR"}, ledger.ErrAccountMismatch},
			{ledger.Account{Key: "customer:42:EUR", Kind: ledger.KindClearing, Asset: "EUR", NonNegative: true}, ledger.ErrAccountMismatch},
			{ledger.Account{Key: "", Kind: ledger.KindCustomer, Asset: "EUR"}, ledger.ErrInvalidAccount},
			{ledger.Account{Key: "has space", Kind: ledger.KindCustomer, Asset: "EUR"}, ledger.ErrInvalidAccount},
			{ledger.Account{Key: "x", Kind: "", Asset: "EUR"}, ledger.ErrInvalidAccount},
			{ledger.Account{Key: "x", Kind: "Bad Kind", Asset: "EUR"}, ledger.ErrInvalidAccount},
			{ledger.Account{Key: "x", Kind: ledger.KindCustomer, Asset: ""}, ledger.ErrInvalidAsset},
		} {
			err := db.Tx(ctx, func(tx *store.Tx) error {
				_, err := ledger.EnsureAccount(ctx, tx, c.acct)
				return err
			})
			if !errors.Is(err, c.want) {
				t.Errorf("EnsureAccount(%+v) = %v, want %v", c.acct, err, c.want)
			}
		}
		if _, err := ledger.AccountByKey(ctx, db, "nope"); !errors.Is(err, ledger.ErrUnknownAccount) {
			t.Errorf("AccountByKey(nope) = %v", err)
		}
		if _, err := ledger.Balance(ctx, db, 12345); !errors.Is(err, ledger.ErrUnknownAccount) {
			t.Errorf("Balance(12345) = %v", err)
		}
	})
}

func TestPostTransfer(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		bank := ensure(t, db, "bank:main:EUR", ledger.KindBank, "EUR", false)
		cust := ensure(t, db, "customer:1:EUR", ledger.KindCustomer, "EUR", true)
		fees := ensure(t, db, "fees:EUR", ledger.KindFeeRevenue, "EUR", true)
		id := mustPost(t, db, ledger.Transaction{Reference: "deposit:1", Description: "SEPA in",
			Postings: ledger.Transfer(bank, cust, "EUR", big.NewInt(10_000))})
		mustPost(t, db, ledger.Transaction{Reference: "fee:1", Postings: []ledger.Posting{
			{Account: cust, Asset: "EUR", Amount: big.NewInt(-150)},
			{Account: fees, Asset: "EUR", Amount: big.NewInt(100)},
			{Account: fees, Asset: "EUR", Amount: big.NewInt(50)},
		}})
		wantBalance(t, db, bank, -10_000)
		wantBalance(t, db, cust, 9_850)
		wantBalance(t, db, fees, 150)

		r, err := ledger.TransactionByReference(ctx, db, "deposit:1")
		if err != nil {
			t.Fatal(err)
		}
		if r.ID != id || r.Description != "SEPA in" || len(r.Entries) != 2 || r.Entries[0].Account != bank ||
			r.Entries[1].Amount.Int64() != 10_000 || r.Entries[1].BalanceAfter.Int64() != 10_000 || r.Entries[1].Asset != "EUR" {
			t.Fatalf("TransactionByReference = %+v", r)
		}
		if _, err := ledger.TransactionByReference(ctx, db, "nope"); !errors.Is(err, ledger.ErrUnknownTransaction) {
			t.Fatalf("unknown reference: %v", err)
		}
		rep := mustVerify(t, db)
		t.Logf("\n%s", rep)
	})
}

// Amounts at the 2^256-1 bound survive both engines exactly.
func TestLargeAmounts(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		a := ensure(t, db, "ext:ETH", ledger.KindExternal, "ETH", false)
		b := ensure(t, db, "wallet:ETH", ledger.KindHotWallet, "ETH", true)
		mustPost(t, db, ledger.Transaction{Reference: "max", Postings: ledger.Transfer(a, b, "ETH", ledger.MaxAmount)})
		if got := balance(t, db, b); got.Cmp(ledger.MaxAmount) != 0 {
			t.Fatalf("balance = %s, want 2^256-1", got)
		}
		if got := balance(t, db, a); new(big.Int).Neg(got).Cmp(ledger.MaxAmount) != 0 {
			t.Fatalf("balance = %s, want -(2^256-1)", got)
		}
		before := state(t, db)
		_, err := post(db, ledger.Transaction{Reference: "overflow", Postings: ledger.Transfer(a, b, "ETH", big.NewInt(1))})
		if !errors.Is(err, ledger.ErrBalanceOverflow) {
			t.Fatalf("overflow: %v", err)
		}
		if state(t, db) != before {
			t.Fatal("rejected overflow wrote something")
		}
		mustVerify(t, db)
	})
}

func TestRejections(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ext := ensure(t, db, "ext:EUR", ledger.KindExternal, "EUR", false)
		cust := ensure(t, db, "customer:1:EUR", ledger.KindCustomer, "EUR", true)
		other := ensure(t, db, "customer:2:EUR", ledger.KindCustomer, "EUR", true)
		usdc := ensure(t, db, "customer:1:USDC:polygon", ledger.KindCustomer, "USDC:polygon", true)
		mustPost(t, db, ledger.Transaction{Reference: "fund", Postings: ledger.Transfer(ext, cust, "EUR", big.NewInt(100))})

		tooBig := new(big.Int).Add(ledger.MaxAmount, big.NewInt(1))
		p := func(acct ledger.AccountID, asset string, amount int64) ledger.Posting {
			return ledger.Posting{Account: acct, Asset: asset, Amount: big.NewInt(amount)}
		}
		cases := []struct {
			name string
			tx   ledger.Transaction
			want error
		}{
			{"unbalanced", ledger.Transaction{Reference: "r", Postings: []ledger.Posting{p(cust, "EUR", -10), p(other, "EUR", 9)}}, ledger.ErrUnbalanced},
			{"unbalanced per asset", ledger.Transaction{Reference: "r", Postings: []ledger.Posting{p(cust, "EUR", -10), p(usdc, "USDC:polygon", 10)}}, ledger.ErrUnbalanced},
			{"duplicate reference", ledger.Transaction{Reference: "fund", Postings: ledger.Transfer(ext, cust, "EUR", big.NewInt(1))}, ledger.ErrDuplicateReference},
			{"overdraft", ledger.Transaction{Reference: "r", Postings: ledger.Transfer(cust, other, "EUR", big.NewInt(101))}, ledger.ErrInsufficientFunds},
			{"intermediate overdraft", ledger.Transaction{Reference: "r", Postings: []ledger.Posting{p(cust, "EUR", -150), p(cust, "EUR", 100), p(other, "EUR", 50)}}, ledger.ErrInsufficientFunds},
			{"zero amount", ledger.Transaction{Reference: "r", Postings: []ledger.Posting{p(cust, "EUR", 0), p(other, "EUR", 0)}}, ledger.ErrInvalidAmount},
			{"nil amount", ledger.Transaction{Reference: "r", Postings: ledger.Transfer(cust, other, "EUR", nil)}, ledger.ErrInvalidAmount},
			{"amount over 2^256-1", ledger.Transaction{Reference: "r", Postings: ledger.Transfer(ext, cust, "EUR", tooBig)}, ledger.ErrInvalidAmount},
			{"empty asset", ledger.Transaction{Reference: "r", Postings: ledger.Transfer(ext, cust, "", big.NewInt(1))}, ledger.ErrInvalidAsset},
			{"no postings", ledger.Transaction{Reference: "r"}, ledger.ErrTooFewPostings},
			{"one posting", ledger.Transaction{Reference: "r", Postings: []ledger.Posting{p(cust, "EUR", 1)}}, ledger.ErrTooFewPostings},
			{"asset mismatch", ledger.Transaction{Reference: "r", Postings: ledger.Transfer(ext, usdc, "EUR", big.NewInt(1))}, ledger.ErrAssetMismatch},
			{"unknown account", ledger.Transaction{Reference: "r", Postings: ledger.Transfer(ext, 99999, "EUR", big.NewInt(1))}, ledger.ErrUnknownAccount},
			{"empty reference", ledger.Transaction{Postings: ledger.Transfer(ext, cust, "EUR", big.NewInt(1))}, ledger.ErrInvalidReference},
			// A replay of a posted event is a duplicate even though it would now overdraw.
			{"duplicate that would overdraw", ledger.Transaction{Reference: "fund", Postings: ledger.Transfer(cust, other, "EUR", big.NewInt(1000))}, ledger.ErrDuplicateReference},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := state(t, db)
				// The rejection must leave the caller's transaction usable (on PostgreSQL any
				// statement fails in an aborted transaction).
				var rejection error
				err := db.Tx(ctx, func(tx *store.Tx) error {
					_, rejection = ledger.Post(ctx, tx, c.tx)
					if rejection == nil {
						return nil
					}
					_, err := ledger.Balance(ctx, tx, cust)
					return err
				})
				if err != nil {
					t.Fatalf("caller transaction unusable after rejection: %v", err)
				}
				if !errors.Is(rejection, c.want) {
					t.Fatalf("Post = %v, want %v", rejection, c.want)
				}
				t.Logf("%v", rejection)
				if after := state(t, db); after != before {
					t.Fatalf("rejected transaction wrote something:\nbefore:\n%s\nafter:\n%s", before, after)
				}
			})
		}
		var ife *ledger.InsufficientFundsError
		_, err := post(db, ledger.Transaction{Reference: "r", Postings: ledger.Transfer(cust, other, "EUR", big.NewInt(101))})
		if !errors.As(err, &ife) || ife.Account != cust || ife.Key != "customer:1:EUR" || ife.Balance.Int64() != -1 {
			t.Fatalf("overdraft error does not name the account: %#v", err)
		}
		wantBalance(t, db, cust, 100)
		wantBalance(t, db, other, 0)
		mustVerify(t, db)
	})
}

func TestFailingCallerLeavesNothing(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		a := ensure(t, db, "a", ledger.KindExternal, "EUR", false)
		b := ensure(t, db, "b", ledger.KindCustomer, "EUR", true)
		before := state(t, db)
		boom := errors.New("state change failed")
		err := db.Tx(ctx, func(tx *store.Tx) error {
			if _, err := ledger.Post(ctx, tx, ledger.Transaction{Reference: "x", Postings: ledger.Transfer(a, b, "EUR", big.NewInt(5))}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Tx = %v", err)
		}
		if state(t, db) != before {
			t.Fatal("rolled-back caller transaction left postings behind")
		}
		// The reference is free again.
		mustPost(t, db, ledger.Transaction{Reference: "x", Postings: ledger.Transfer(a, b, "EUR", big.NewInt(5))})
		wantBalance(t, db, b, 5)
		mustVerify(t, db)
	})
}

func TestReverse(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ext := ensure(t, db, "ext", ledger.KindExternal, "EUR", false)
		c1 := ensure(t, db, "c1", ledger.KindCustomer, "EUR", true)
		c2 := ensure(t, db, "c2", ledger.KindCustomer, "EUR", true)
		orig := mustPost(t, db, ledger.Transaction{Reference: "dep", Postings: ledger.Transfer(ext, c1, "EUR", big.NewInt(70))})
		reverse := func(origRef, newRef string) (ledger.TxID, error) {
			var id ledger.TxID
			err := db.Tx(ctx, func(tx *store.Tx) error {
				var err error
				id, err = ledger.Reverse(ctx, tx, origRef, newRef)
				return err
			})
			return id, err
		}
		id, err := reverse("dep", "dep:reversal")
		if err != nil {
			t.Fatal(err)
		}
		wantBalance(t, db, ext, 0)
		wantBalance(t, db, c1, 0)
		r, err := ledger.TransactionByReference(ctx, db, "dep:reversal")
		if err != nil || r.ID != id || r.Reverses != orig || len(r.Entries) != 2 || r.Entries[1].Amount.Int64() != -70 {
			t.Fatalf("reversal = %+v, %v", r, err)
		}
		// History keeps both.
		h, err := ledger.History(ctx, db, c1, 1, 10)
		if err != nil || h.Total != 2 || h.Entries[0].Reference != "dep:reversal" || h.Entries[1].Reference != "dep" {
			t.Fatalf("history = %+v, %v", h, err)
		}

		before := state(t, db)
		for _, c := range []struct {
			orig, new string
			want      error
		}{
			{"dep", "dep:reversal2", ledger.ErrAlreadyReversed},
			{"dep", "dep:reversal", ledger.ErrDuplicateReference},
			{"nope", "nope:reversal", ledger.ErrUnknownTransaction},
			{"dep", "", ledger.ErrInvalidReference},
		} {
			if _, err := reverse(c.orig, c.new); !errors.Is(err, c.want) {
				t.Errorf("Reverse(%s, %s) = %v, want %v", c.orig, c.new, err, c.want)
			}
		}
		if state(t, db) != before {
			t.Fatal("a rejected reversal wrote something")
		}
		// Reversing a deposit whose money has been spent would overdraw the customer.
		mustPost(t, db, ledger.Transaction{Reference: "dep2", Postings: ledger.Transfer(ext, c1, "EUR", big.NewInt(30))})
		mustPost(t, db, ledger.Transaction{Reference: "spend", Postings: ledger.Transfer(c1, c2, "EUR", big.NewInt(20))})
		before = state(t, db)
		if _, err := reverse("dep2", "dep2:reversal"); !errors.Is(err, ledger.ErrInsufficientFunds) {
			t.Fatalf("Reverse of spent deposit = %v", err)
		}
		if state(t, db) != before {
			t.Fatal("rejected reversal wrote something")
		}
		// A reversal is itself reversible (re-applying the original).
		if _, err := reverse("dep:reversal", "dep:reversal:reversal"); err != nil {
			t.Fatal(err)
		}
		wantBalance(t, db, c1, 80)
		mustVerify(t, db)
	})
}

func TestHistoryPagination(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ext := ensure(t, db, "ext", ledger.KindExternal, "EUR", false)
		c := ensure(t, db, "c", ledger.KindCustomer, "EUR", true)
		const n = 23
		for i := 1; i <= n; i++ {
			mustPost(t, db, ledger.Transaction{Reference: fmt.Sprintf("dep:%d", i), Postings: ledger.Transfer(ext, c, "EUR", big.NewInt(int64(i)))})
		}
		var seen []string
		for page := 1; page <= 4; page++ {
			h, err := ledger.History(ctx, db, c, page, 10)
			if err != nil {
				t.Fatal(err)
			}
			if h.Total != n || h.Page != page || h.PerPage != 10 {
				t.Fatalf("page %d: total %d page %d per_page %d", page, h.Total, h.Page, h.PerPage)
			}
			if want := min(10, max(0, n-(page-1)*10)); len(h.Entries) != want {
				t.Fatalf("page %d has %d entries, want %d", page, len(h.Entries), want)
			}
			for _, e := range h.Entries {
				seen = append(seen, e.Reference)
				// Newest first: the i-th deposit leaves a balance of 1+2+...+i.
				var i int
				fmt.Sscanf(e.Reference, "dep:%d", &i)
				if e.Amount.Int64() != int64(i) || e.BalanceAfter.Int64() != int64(i*(i+1)/2) || e.Account != c || e.Asset != "EUR" {
					t.Fatalf("entry %+v", e)
				}
			}
		}
		if len(seen) != n || seen[0] != "dep:23" || seen[n-1] != "dep:1" {
			t.Fatalf("history order %v", seen)
		}
		for _, c := range [][2]int{{0, 10}, {1, 0}, {1, ledger.MaxPerPage + 1}} {
			if _, err := ledger.History(ctx, db, ext, c[0], c[1]); !errors.Is(err, ledger.ErrInvalidPage) {
				t.Errorf("History(page %d, per_page %d) = %v", c[0], c[1], err)
			}
		}
		if _, err := ledger.History(ctx, db, 9999, 1, 10); !errors.Is(err, ledger.ErrUnknownAccount) {
			t.Errorf("History(unknown) = %v", err)
		}
	})
}

func TestBalanceAt(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ext := ensure(t, db, "ext", ledger.KindExternal, "EUR", false)
		c := ensure(t, db, "c", ledger.KindCustomer, "EUR", true)
		t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		mustPost(t, db, ledger.Transaction{Reference: "a", At: t0, Postings: ledger.Transfer(ext, c, "EUR", big.NewInt(10))})
		mustPost(t, db, ledger.Transaction{Reference: "b", At: t0.Add(time.Hour), Postings: ledger.Transfer(ext, c, "EUR", big.NewInt(5))})
		// Dated before the latest posting: moved forward to it, so history stays ordered.
		mustPost(t, db, ledger.Transaction{Reference: "c", At: t0.Add(time.Minute), Postings: ledger.Transfer(c, ext, "EUR", big.NewInt(3))})
		for _, w := range []struct {
			at   time.Time
			want int64
		}{
			{t0.Add(-time.Microsecond), 0},
			{t0, 10},
			{t0.Add(30 * time.Minute), 10},
			{t0.Add(time.Hour - time.Microsecond), 10},
			{t0.Add(time.Hour), 12},
			{t0.Add(48 * time.Hour), 12},
		} {
			got, err := ledger.BalanceAt(ctx, db, c, w.at)
			if err != nil {
				t.Fatal(err)
			}
			if got.Int64() != w.want {
				t.Errorf("BalanceAt(%v) = %s, want %d", w.at, got, w.want)
			}
		}
		r, _ := ledger.TransactionByReference(ctx, db, "c")
		if !r.PostedAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("back-dated transaction posted at %v", r.PostedAt)
		}
		if _, err := ledger.BalanceAt(ctx, db, 9999, t0); !errors.Is(err, ledger.ErrUnknownAccount) {
			t.Errorf("BalanceAt(unknown) = %v", err)
		}
		mustVerify(t, db)
	})
}

// Verify must notice tampering that bypasses Post.
func TestVerifyDetectsCorruption(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ext := ensure(t, db, "ext", ledger.KindExternal, "EUR", false)
		c := ensure(t, db, "c", ledger.KindCustomer, "EUR", true)
		mustPost(t, db, ledger.Transaction{Reference: "ok", Postings: ledger.Transfer(ext, c, "EUR", big.NewInt(10))})
		mustVerify(t, db)

		// History is immutable even to raw SQL.
		if _, err := db.Exec(ctx, `UPDATE ledger_postings SET amount = '11' WHERE account_id = ?`, c); err == nil {
			t.Fatal("UPDATE of a posting succeeded")
		}
		if _, err := db.Exec(ctx, `DELETE FROM ledger_transactions`); err == nil {
			t.Fatal("DELETE of transactions succeeded")
		}

		if _, err := db.Exec(ctx, `UPDATE ledger_accounts SET balance = '7' WHERE id = ?`, c); err != nil {
			t.Fatal(err)
		}
		err := db.Tx(ctx, func(tx *store.Tx) error {
			var id int64
			if err := tx.QueryRow(ctx, `INSERT INTO ledger_transactions (reference, posted_at) VALUES ('forged', 1) RETURNING id`).Scan(&id); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO ledger_postings (tx_id, account_id, amount, balance_after, posted_at) VALUES (?, ?, '5', '99', 1)`, id, ext)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		r, err := ledger.Verify(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if r.OK() {
			t.Fatalf("Verify missed corruption:\n%s", r)
		}
		s := r.String()
		t.Logf("\n%s", s)
		for _, want := range []string{
			"EUR balances sum to -3",
			"account 2 (c): balance 7, postings sum to 10",
			"balance_after 99",
			"(forged) has 1 postings",
			"ledger INCONSISTENT",
		} {
			if !strings.Contains(s, want) {
				t.Errorf("report lacks %q", want)
			}
		}
	})
}

// Posting the same reference from many writers at once succeeds exactly once.
func TestConcurrentDuplicates(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ext := ensure(t, db, "ext", ledger.KindExternal, "EUR", false)
		c := ensure(t, db, "c", ledger.KindCustomer, "EUR", true)
		var (
			wg         sync.WaitGroup
			mu         sync.Mutex
			ok, dup    int
			unexpected []error
		)
		for range 8 {
			wg.Go(func() {
				_, err := post(db, ledger.Transaction{Reference: "once", Postings: ledger.Transfer(ext, c, "EUR", big.NewInt(1))})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, ledger.ErrDuplicateReference):
					dup++
				default:
					unexpected = append(unexpected, err)
				}
			})
		}
		wg.Wait()
		if ok != 1 || dup != 7 || len(unexpected) > 0 {
			t.Fatalf("ok=%d dup=%d unexpected=%v", ok, dup, unexpected)
		}
		wantBalance(t, db, c, 1)

		// Concurrent reversals of it: one wins, the others see ErrAlreadyReversed (not the
		// overdraft a second reversal would cause).
		ok, unexpected = 0, nil
		var already int
		for i := range 6 {
			wg.Go(func() {
				err := db.Tx(ctx, func(tx *store.Tx) error {
					_, err := ledger.Reverse(ctx, tx, "once", fmt.Sprintf("once:reversal:%d", i))
					return err
				})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, ledger.ErrAlreadyReversed):
					already++
				default:
					unexpected = append(unexpected, err)
				}
			})
		}
		// And concurrent creation of one account yields one id.
		ids := make([]ledger.AccountID, 6)
		for i := range ids {
			wg.Go(func() {
				err := db.Tx(ctx, func(tx *store.Tx) error {
					var err error
					ids[i], err = ledger.EnsureAccount(ctx, tx, ledger.Account{Key: "customer:new:EUR", Kind: ledger.KindCustomer, Asset: "EUR", NonNegative: true})
					return err
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if ok != 1 || already != 5 || len(unexpected) > 0 {
			t.Fatalf("reversals: ok=%d already=%d unexpected=%v", ok, already, unexpected)
		}
		for _, id := range ids {
			if id != ids[0] || id == 0 {
				t.Fatalf("concurrent EnsureAccount ids %v", ids)
			}
		}
		wantBalance(t, db, c, 0)
		mustVerify(t, db)
	})
}

func TestAccountsByPrefix(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		err := db.Tx(ctx, func(tx *store.Tx) error {
			for _, k := range []string{"sb:a_1", "sb:b", "sbx:c", "live:d"} {
				if _, err := ledger.EnsureAccount(ctx, tx, ledger.Account{Key: k, Kind: ledger.KindClearing, Asset: "EUR"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for prefix, want := range map[string]int{"sb:": 2, "sb:a_": 1, "sb:a%": 0, "": 4} {
			got, err := ledger.Accounts(ctx, db, prefix)
			if err != nil || len(got) != want {
				t.Errorf("Accounts(%q) = %d accounts, %v; want %d", prefix, len(got), err, want)
			}
		}
	})
}
