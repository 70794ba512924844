// Package ledger is the double-entry ledger under every movement of fiat and crypto.
//
// Accounts hold one asset each and are identified by a stable key ("customer:42:EUR"). A
// transaction is two or more postings of signed integer minor units that sum to zero per asset:
// a transfer of x from A to B posts -x on A and +x on B, so the balances of all accounts of an
// asset always sum to zero. Each transaction carries a unique business reference, so the same
// event can never post twice. History is immutable; corrections are reversing transactions.
//
// Post runs inside the caller's store.Tx, so a state change and its postings commit together or
// not at all. When Post returns one of the sentinel errors below it has written nothing and the
// caller's transaction stays usable (e.g. to record the failure); after any other error the
// caller must roll back.
package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/store"
)

// Rejections. Every error Post, Reverse and EnsureAccount return for bad input wraps one of these.
var (
	ErrDuplicateReference = errors.New("ledger: duplicate transaction reference")
	ErrUnbalanced         = errors.New("ledger: transaction does not balance")
	ErrInsufficientFunds  = errors.New("ledger: insufficient funds")
	ErrInvalidAmount      = errors.New("ledger: invalid amount")
	ErrInvalidAsset       = errors.New("ledger: invalid asset")
	ErrInvalidReference   = errors.New("ledger: invalid reference")
	ErrTooFewPostings     = errors.New("ledger: a transaction needs at least two postings")
	ErrUnknownAccount     = errors.New("ledger: unknown account")
	ErrAssetMismatch      = errors.New("ledger: posting asset differs from account asset")
	ErrBalanceOverflow    = errors.New("ledger: balance out of range")
	ErrInvalidAccount     = errors.New("ledger: invalid account")
	ErrAccountMismatch    = errors.New("ledger: account key exists with different attributes")
	ErrUnknownTransaction = errors.New("ledger: unknown transaction")
	ErrAlreadyReversed    = errors.New("ledger: transaction already reversed")
	ErrInvalidPage        = errors.New("ledger: invalid page")
)

// MaxAmount is the largest magnitude of a posting and of a balance: 2^256-1, which covers any
// ERC-20 amount and fits PostgreSQL's NUMERIC(78,0).
var MaxAmount = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))

// AccountID identifies an account.
type AccountID int64

// TxID identifies a posted transaction.
type TxID int64

// Kind says what an account represents. Kinds are open-ended; these are the ones pocketramp uses.
type Kind string

const (
	KindCustomer       Kind = "customer"            // what the operator owes a customer
	KindBank           Kind = "operator_bank"       // an operator bank account
	KindHotWallet      Kind = "hot_wallet"          // an operator hot wallet
	KindDepositAddress Kind = "deposit_address"     // a per-operation deposit address
	KindFeeRevenue     Kind = "fee_revenue"         // fees earned
	KindClearing       Kind = "clearing"            // money in flight between two steps
	KindSuspense       Kind = "suspense"            // money not yet matched to anything
	KindProvider       Kind = "provider_receivable" // owed to us by a card/PSD2/KYC provider
	KindExternal       Kind = "external"            // the outside world (counterparty of inflows)
)

// Account is a ledger account. Balance is filled in by reads and ignored by EnsureAccount.
type Account struct {
	ID          AccountID
	Key         string
	Kind        Kind
	Asset       string
	NonNegative bool // postings that would take the balance below zero fail the transaction
	Balance     *big.Int
	CreatedAt   time.Time
}

// Posting moves Amount (signed, minor units) of Asset into Account.
type Posting struct {
	Account AccountID
	Asset   string
	Amount  *big.Int
}

// Transaction is a set of postings that balance per asset.
type Transaction struct {
	Reference   string // unique business reference, e.g. "onramp:123:payment_received"
	Description string
	// At is when the event happened; zero means now. A transaction never posts earlier than the
	// latest posting on any of its accounts (an earlier At moves forward), so each account's
	// history stays in time order and balance-at-time is well defined.
	At       time.Time
	Postings []Posting
}

// Transfer returns the two postings that move amount of asset from one account to another.
func Transfer(from, to AccountID, asset string, amount *big.Int) []Posting {
	if amount == nil {
		return []Posting{{Account: from, Asset: asset}, {Account: to, Asset: asset}} // rejected by Post
	}
	return []Posting{
		{Account: from, Asset: asset, Amount: new(big.Int).Neg(amount)},
		{Account: to, Asset: asset, Amount: new(big.Int).Set(amount)},
	}
}

// InsufficientFundsError names the non-negative account a transaction would overdraw.
type InsufficientFundsError struct {
	Account AccountID
	Key     string
	Asset   string
	Balance *big.Int // the balance the transaction would have left
}

func (e *InsufficientFundsError) Error() string {
	return fmt.Sprintf("%v: account %d (%s) would go to %s %s", ErrInsufficientFunds, e.Account, e.Key, e.Balance, e.Asset)
}

func (e *InsufficientFundsError) Unwrap() error { return ErrInsufficientFunds }

// Querier is what the read functions need: a *store.DB or a *store.Tx.
type Querier interface {
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *sql.Row
}

var (
	_ Querier = (*store.DB)(nil)
	_ Querier = (*store.Tx)(nil)
)

const (
	maxKeyLen   = 200
	maxAssetLen = 64
	maxRefLen   = 200
)

var kindPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

func validAsset(asset string) error {
	if asset == "" || len(asset) > maxAssetLen || strings.ContainsFunc(asset, isSpaceOrControl) {
		return fmt.Errorf("%w: %q", ErrInvalidAsset, asset)
	}
	return nil
}

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f }

// EnsureAccount returns the id of the account with a.Key, creating it if it does not exist. An
// existing account must have the same kind, asset and NonNegative flag (ErrAccountMismatch).
func EnsureAccount(ctx context.Context, tx *store.Tx, a Account) (AccountID, error) {
	ids, err := EnsureAccounts(ctx, tx, []Account{a})
	if err != nil {
		return 0, err
	}
	return ids[a.Key], nil
}

// EnsureAccounts is EnsureAccount for many accounts at once (one lookup and at most one insert
// per few thousand keys) and returns their ids by key. Repeated keys must agree.
func EnsureAccounts(ctx context.Context, tx *store.Tx, as []Account) (map[string]AccountID, error) {
	want := make(map[string]Account, len(as))
	var keys []string
	for _, a := range as {
		if a.Key == "" || len(a.Key) > maxKeyLen || strings.ContainsFunc(a.Key, isSpaceOrControl) {
			return nil, fmt.Errorf("%w: key %q", ErrInvalidAccount, a.Key)
		}
		if !kindPattern.MatchString(string(a.Kind)) {
			return nil, fmt.Errorf("%w: kind %q", ErrInvalidAccount, a.Kind)
		}
		if err := validAsset(a.Asset); err != nil {
			return nil, err
		}
		if prev, ok := want[a.Key]; ok {
			if err := sameAttributes(prev, a); err != nil {
				return nil, err
			}
			continue
		}
		want[a.Key] = a
		keys = append(keys, a.Key)
	}
	// Look first: almost every call finds the account, and a failed INSERT would burn an id.
	found, err := accountsByKey(ctx, tx, keys)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, k := range keys {
		if _, ok := found[k]; !ok {
			missing = append(missing, k)
		}
	}
	ids := make(map[string]AccountID, len(keys))
	if len(missing) > 0 {
		now := store.Micros(time.Now())
		err := store.Chunks(len(missing), store.RowsPerStatement(5), func(from, to int) error {
			args := make([]any, 0, 5*(to-from))
			for _, k := range missing[from:to] {
				a := want[k]
				args = append(args, a.Key, string(a.Kind), a.Asset, a.NonNegative, now)
			}
			rows, err := tx.Query(ctx, `INSERT INTO ledger_accounts (key, kind, asset, non_negative, created_at) VALUES `+
				store.Placeholders(to-from, 5)+` ON CONFLICT (key) DO NOTHING RETURNING id, key`, args...)
			if err != nil {
				return fmt.Errorf("ledger: create account %s: %w", missing[from], err)
			}
			defer rows.Close()
			for rows.Next() {
				var id AccountID
				var key string
				if err := rows.Scan(&id, &key); err != nil {
					return err
				}
				ids[key] = id
			}
			return rows.Err()
		})
		if err != nil {
			return nil, err
		}
		// Those a concurrent transaction created first.
		var raced []string
		for _, k := range missing {
			if _, ok := ids[k]; !ok {
				raced = append(raced, k)
			}
		}
		more, err := accountsByKey(ctx, tx, raced)
		if err != nil {
			return nil, err
		}
		maps.Copy(found, more)
	}
	for _, k := range keys {
		if _, ok := ids[k]; ok {
			continue
		}
		existing, ok := found[k]
		if !ok {
			return nil, fmt.Errorf("%w: key %q", ErrUnknownAccount, k)
		}
		if err := sameAttributes(existing, want[k]); err != nil {
			return nil, err
		}
		ids[k] = existing.ID
	}
	return ids, nil
}

func sameAttributes(existing, a Account) error {
	if existing.Kind != a.Kind || existing.Asset != a.Asset || existing.NonNegative != a.NonNegative {
		return fmt.Errorf("%w: %s is %s/%s non-negative=%v, not %s/%s non-negative=%v", ErrAccountMismatch,
			a.Key, existing.Kind, existing.Asset, existing.NonNegative, a.Kind, a.Asset, a.NonNegative)
	}
	return nil
}

// accountsByKey reads the accounts with the given keys; unknown keys are absent.
func accountsByKey(ctx context.Context, tx *store.Tx, keys []string) (map[string]Account, error) {
	out := make(map[string]Account, len(keys))
	err := store.Chunks(len(keys), store.RowsPerStatement(1), func(from, to int) error {
		args := make([]any, 0, to-from)
		for _, k := range keys[from:to] {
			args = append(args, k)
		}
		rows, err := tx.Query(ctx, `SELECT `+accountColumns+` FROM ledger_accounts WHERE key IN (`+store.In(to-from)+`)`, args...)
		if err != nil {
			return fmt.Errorf("ledger: accounts: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanAccount(rows)
			if err != nil {
				return fmt.Errorf("ledger: accounts: %w", err)
			}
			out[a.Key] = a
		}
		return rows.Err()
	})
	return out, err
}

const accountColumns = `id, key, kind, asset, non_negative, balance, created_at`

func scanAccount(row interface{ Scan(...any) error }) (Account, error) {
	var (
		a       Account
		kind    string
		balance string
		created int64
	)
	if err := row.Scan(&a.ID, &a.Key, &kind, &a.Asset, &a.NonNegative, &balance, &created); err != nil {
		return Account{}, err
	}
	b, err := parseAmount(balance)
	if err != nil {
		return Account{}, err
	}
	a.Kind, a.Balance, a.CreatedAt = Kind(kind), b, store.Time(created)
	return a, nil
}

// AccountByKey returns the account with the given key, or ErrUnknownAccount.
func AccountByKey(ctx context.Context, q Querier, key string) (Account, error) {
	a, err := scanAccount(q.QueryRow(ctx, `SELECT `+accountColumns+` FROM ledger_accounts WHERE key = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, fmt.Errorf("%w: key %q", ErrUnknownAccount, key)
	}
	if err != nil {
		return Account{}, fmt.Errorf("ledger: account %s: %w", key, err)
	}
	return a, nil
}

// AccountByID returns the account with the given id, or ErrUnknownAccount.
func AccountByID(ctx context.Context, q Querier, id AccountID) (Account, error) {
	a, err := scanAccount(q.QueryRow(ctx, `SELECT `+accountColumns+` FROM ledger_accounts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, fmt.Errorf("%w: id %d", ErrUnknownAccount, id)
	}
	if err != nil {
		return Account{}, fmt.Errorf("ledger: account %d: %w", id, err)
	}
	return a, nil
}

// validate checks everything that does not need the database.
func (t *Transaction) validate() error {
	if t.Reference == "" || len(t.Reference) > maxRefLen {
		return fmt.Errorf("%w: %q", ErrInvalidReference, t.Reference)
	}
	if len(t.Postings) < 2 {
		return fmt.Errorf("%w: %s has %d", ErrTooFewPostings, t.Reference, len(t.Postings))
	}
	sums := map[string]*big.Int{}
	for i, p := range t.Postings {
		if err := validAsset(p.Asset); err != nil {
			return fmt.Errorf("posting %d of %s: %w", i, t.Reference, err)
		}
		if p.Amount == nil || p.Amount.Sign() == 0 {
			return fmt.Errorf("%w: posting %d of %s is zero", ErrInvalidAmount, i, t.Reference)
		}
		if p.Amount.CmpAbs(MaxAmount) > 0 {
			return fmt.Errorf("%w: posting %d of %s exceeds 2^256-1 in magnitude", ErrInvalidAmount, i, t.Reference)
		}
		if p.Account <= 0 {
			return fmt.Errorf("%w: posting %d of %s has account id %d", ErrUnknownAccount, i, t.Reference, p.Account)
		}
		s, ok := sums[p.Asset]
		if !ok {
			s = new(big.Int)
			sums[p.Asset] = s
		}
		s.Add(s, p.Amount)
	}
	for _, asset := range slices.Sorted(maps.Keys(sums)) {
		if sums[asset].Sign() != 0 {
			return fmt.Errorf("%w: %s postings of %s sum to %s", ErrUnbalanced, t.Reference, asset, sums[asset])
		}
	}
	return nil
}

// Post records t in the caller's transaction and returns its id. See the package comment for
// what a rejection leaves behind (nothing).
func Post(ctx context.Context, tx *store.Tx, t Transaction) (TxID, error) {
	if err := t.validate(); err != nil {
		return 0, err
	}
	ids, err := post(ctx, tx, []Transaction{t}, 0)
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

// PostMany records ts in the caller's transaction, in order, as Post would one after the other,
// but with a constant number of statements per batch (lock the accounts, insert the
// transactions, insert the postings, update the balances) instead of four per transaction: what
// set-based work such as a bank statement import needs. Each transaction is checked as Post
// checks it and the whole batch is rejected when one is; a duplicate reference may be found only
// after part of the batch was written, so after any error the caller must roll back.
func PostMany(ctx context.Context, tx *store.Tx, ts []Transaction) ([]TxID, error) {
	if len(ts) == 0 {
		return nil, nil
	}
	refs := make(map[string]bool, len(ts))
	for i := range ts {
		if err := ts[i].validate(); err != nil {
			return nil, err
		}
		if refs[ts[i].Reference] {
			return nil, fmt.Errorf("%w: %s (twice in one batch)", ErrDuplicateReference, ts[i].Reference)
		}
		refs[ts[i].Reference] = true
	}
	return post(ctx, tx, ts, 0)
}

type lockedAccount struct {
	key         string
	asset       string
	nonNegative bool
	balance     *big.Int
	lastPosted  int64
}

// post writes validated transactions in order. reverses is set only for a single reversal.
func post(ctx context.Context, tx *store.Tx, ts []Transaction, reverses TxID) ([]TxID, error) {
	var ids []AccountID
	for _, t := range ts {
		for _, p := range t.Postings {
			ids = append(ids, p.Account)
		}
	}
	// Sorted ids make every transaction lock balance rows in the same order: no deadlocks.
	slices.Sort(ids)
	ids = slices.Compact(ids)
	accounts, err := lockAccounts(ctx, tx, ids)
	if err != nil {
		return nil, err
	}

	now := time.Now()
	postedAt := make([]int64, len(ts))
	after := make([][]*big.Int, len(ts))
	for k, t := range ts {
		at := now
		if !t.At.IsZero() {
			at = t.At
		}
		postedAt[k] = store.Micros(at)
		for _, p := range t.Postings {
			if a, ok := accounts[p.Account]; ok {
				postedAt[k] = max(postedAt[k], a.lastPosted)
			}
		}
		after[k] = make([]*big.Int, len(t.Postings))
		if rejection := apply(t, accounts, after[k], postedAt[k]); rejection != nil {
			// A replay of a posted event is reported as such even if it would now be rejected
			// (e.g. the money has since been spent), so idempotent callers see
			// ErrDuplicateReference.
			if exists, err := referenceExists(ctx, tx, t.Reference); err != nil {
				return nil, err
			} else if exists {
				return nil, fmt.Errorf("%w: %s", ErrDuplicateReference, t.Reference)
			}
			// Likewise a reversal that lost a race to another reversal of the same transaction.
			if reverses != 0 {
				if done, err := isReversed(ctx, tx, reverses); err != nil {
					return nil, err
				} else if done {
					return nil, fmt.Errorf("%w: transaction %d", ErrAlreadyReversed, reverses)
				}
			}
			return nil, rejection
		}
	}

	txIDs, err := insertTransactions(ctx, tx, ts, postedAt, reverses)
	if err != nil {
		return nil, err
	}
	if err := insertPostings(ctx, tx, ts, txIDs, after, postedAt); err != nil {
		return nil, err
	}
	if err := updateBalances(ctx, tx, ids, accounts); err != nil {
		return nil, fmt.Errorf("ledger: update balances for %s: %w", ts[0].Reference, err)
	}
	return txIDs, nil
}

// apply adds t's postings to the locked balances, recording each posting's balance after it in
// after, or says why t is rejected.
func apply(t Transaction, accounts map[AccountID]*lockedAccount, after []*big.Int, postedAt int64) error {
	for i, p := range t.Postings {
		a, ok := accounts[p.Account]
		if !ok {
			return fmt.Errorf("%w: posting %d of %s names account %d", ErrUnknownAccount, i, t.Reference, p.Account)
		}
		if a.asset != p.Asset {
			return fmt.Errorf("%w: posting %d of %s is %s, account %d (%s) holds %s",
				ErrAssetMismatch, i, t.Reference, p.Asset, p.Account, a.key, a.asset)
		}
		a.balance = new(big.Int).Add(a.balance, p.Amount)
		// Every intermediate balance counts, so history never shows a non-negative account
		// below zero.
		if a.nonNegative && a.balance.Sign() < 0 {
			return &InsufficientFundsError{Account: p.Account, Key: a.key, Asset: a.asset, Balance: a.balance}
		}
		if a.balance.CmpAbs(MaxAmount) > 0 {
			return fmt.Errorf("%w: account %d (%s) would exceed 2^256-1 in magnitude", ErrBalanceOverflow, p.Account, a.key)
		}
		after[i] = a.balance
	}
	for _, p := range t.Postings {
		accounts[p.Account].lastPosted = postedAt
	}
	return nil
}

// insertTransactions inserts the transactions' rows and returns their ids in order.
func insertTransactions(ctx context.Context, tx *store.Tx, ts []Transaction, postedAt []int64, reverses TxID) ([]TxID, error) {
	var rev sql.NullInt64
	if reverses != 0 {
		rev = sql.NullInt64{Int64: int64(reverses), Valid: true}
	}
	byRef := make(map[string]TxID, len(ts))
	insert := func() error { return insertTransactionRows(ctx, tx, ts, postedAt, rev, byRef) }
	var err error
	if tx.CanCopy() && reverses == 0 && len(ts) >= store.CopyMinRows {
		// COPY with ids from the sequence; a reference already posted undoes the copy and
		// takes the INSERT, which reports it.
		err = copyTransactionRows(ctx, tx, ts, postedAt, byRef, insert)
	} else {
		err = insert()
	}
	if err != nil {
		return nil, err
	}
	out := make([]TxID, len(ts))
	for k, t := range ts {
		id, ok := byRef[t.Reference]
		if !ok {
			if reverses != 0 {
				if exists, err := referenceExists(ctx, tx, t.Reference); err != nil {
					return nil, err
				} else if !exists {
					return nil, fmt.Errorf("%w: transaction %d", ErrAlreadyReversed, reverses)
				}
			}
			return nil, fmt.Errorf("%w: %s", ErrDuplicateReference, t.Reference)
		}
		out[k] = id
	}
	return out, nil
}

// copyTransactionRows is insertTransactionRows by COPY (PostgreSQL), falling back to insert
// when a reference is taken.
func copyTransactionRows(ctx context.Context, tx *store.Tx, ts []Transaction, postedAt []int64, byRef map[string]TxID, insert func() error) error {
	ids, err := tx.NextIDs(ctx, "ledger_transactions", len(ts))
	if err != nil {
		return fmt.Errorf("ledger: insert transaction %s: %w", ts[0].Reference, err)
	}
	rows := make([][]any, len(ts))
	for k := range ts {
		rows[k] = []any{ids[k], ts[k].Reference, ts[k].Description, postedAt[k]}
	}
	copied, err := tx.CopyOrInsert(ctx, "ledger_transactions", []string{"id", "reference", "description", "posted_at"}, rows, insert)
	if err != nil {
		return fmt.Errorf("ledger: insert transaction %s: %w", ts[0].Reference, err)
	}
	if !copied {
		return nil
	}
	for k := range ts {
		byRef[ts[k].Reference] = TxID(ids[k])
	}
	return nil
}

// insertTransactionRows inserts the transactions' rows, skipping references already posted,
// and records the ids of those inserted in byRef.
func insertTransactionRows(ctx context.Context, tx *store.Tx, ts []Transaction, postedAt []int64, rev sql.NullInt64, byRef map[string]TxID) error {
	return store.Chunks(len(ts), store.RowsPerStatement(4), func(from, to int) error {
		args := make([]any, 0, 4*(to-from))
		for k := from; k < to; k++ {
			args = append(args, ts[k].Reference, ts[k].Description, rev, postedAt[k])
		}
		// DO NOTHING rather than a unique violation: on PostgreSQL an error would abort the
		// caller's whole transaction, and a duplicate (of a single Post) must leave it usable.
		rows, err := tx.Query(ctx, `INSERT INTO ledger_transactions (reference, description, reverses, posted_at) VALUES `+
			store.Placeholders(to-from, 4)+` ON CONFLICT DO NOTHING RETURNING id, reference`, args...)
		if err != nil {
			return fmt.Errorf("ledger: insert transaction %s: %w", ts[from].Reference, err)
		}
		defer rows.Close()
		for rows.Next() {
			var id TxID
			var ref string
			if err := rows.Scan(&id, &ref); err != nil {
				return fmt.Errorf("ledger: insert transaction %s: %w", ts[from].Reference, err)
			}
			byRef[ref] = id
		}
		return rows.Err()
	})
}

type postingRow struct {
	tx    TxID
	p     Posting
	after *big.Int
	at    int64
}

func insertPostings(ctx context.Context, tx *store.Tx, ts []Transaction, txIDs []TxID, after [][]*big.Int, postedAt []int64) error {
	var all []postingRow
	for k, t := range ts {
		for i, p := range t.Postings {
			all = append(all, postingRow{txIDs[k], p, after[k][i], postedAt[k]})
		}
	}
	if tx.CanCopy() && len(all) >= store.CopyMinRows {
		rows := make([][]any, len(all))
		for k, r := range all {
			rows[k] = []any{int64(r.tx), int64(r.p.Account), store.Numeric(r.p.Amount), store.Numeric(r.after), r.at}
		}
		if err := tx.CopyFrom(ctx, "ledger_postings", []string{"tx_id", "account_id", "amount", "balance_after", "posted_at"}, rows); err != nil {
			return fmt.Errorf("ledger: insert postings of %s: %w", ts[0].Reference, err)
		}
		return nil
	}
	return store.Chunks(len(all), store.RowsPerStatement(5), func(from, to int) error {
		args := make([]any, 0, 5*(to-from))
		for _, r := range all[from:to] {
			args = append(args, r.tx, r.p.Account, r.p.Amount.String(), r.after.String(), r.at)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO ledger_postings (tx_id, account_id, amount, balance_after, posted_at) VALUES `+
			store.Placeholders(to-from, 5), args...); err != nil {
			return fmt.Errorf("ledger: insert postings of %s: %w", ts[0].Reference, err)
		}
		return nil
	})
}

// updateBalances writes the accounts' new balances and last posting times: one UPDATE per
// few thousand accounts keeps round trips per batch constant.
func updateBalances(ctx context.Context, tx *store.Tx, ids []AccountID, accounts map[AccountID]*lockedAccount) error {
	num := "?"
	if tx.Engine() == store.Postgres {
		num = "CAST(? AS NUMERIC)" // an untyped CASE result would be text
	}
	return store.Chunks(len(ids), store.RowsPerStatement(5), func(from, to int) error {
		var q strings.Builder
		args := make([]any, 0, 5*(to-from))
		q.WriteString(`UPDATE ledger_accounts SET balance = CASE id`)
		for _, id := range ids[from:to] {
			q.WriteString(" WHEN ? THEN " + num)
			args = append(args, id, accounts[id].balance.String())
		}
		q.WriteString(" END, last_posted_at = CASE id")
		for _, id := range ids[from:to] {
			q.WriteString(" WHEN ? THEN CAST(? AS BIGINT)")
			args = append(args, id, accounts[id].lastPosted)
		}
		q.WriteString(" END WHERE id IN (" + store.In(to-from) + ")")
		for _, id := range ids[from:to] {
			args = append(args, id)
		}
		_, err := tx.Exec(ctx, q.String(), args...)
		return err
	})
}

// lockAccounts reads and (on PostgreSQL) locks the accounts in id order. Missing ids are absent.
func lockAccounts(ctx context.Context, tx *store.Tx, ids []AccountID) (map[AccountID]*lockedAccount, error) {
	accounts := make(map[AccountID]*lockedAccount, len(ids))
	err := store.Chunks(len(ids), store.RowsPerStatement(1), func(from, to int) error {
		args := make([]any, 0, to-from)
		for _, id := range ids[from:to] {
			args = append(args, id)
		}
		rows, err := tx.Query(ctx, `SELECT id, key, asset, non_negative, balance, last_posted_at FROM ledger_accounts WHERE id IN (`+
			store.In(to-from)+`) ORDER BY id`+tx.ForUpdate(), args...)
		if err != nil {
			return fmt.Errorf("ledger: lock accounts: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				id      AccountID
				a       lockedAccount
				balance string
			)
			if err := rows.Scan(&id, &a.key, &a.asset, &a.nonNegative, &balance, &a.lastPosted); err != nil {
				return fmt.Errorf("ledger: lock accounts: %w", err)
			}
			if a.balance, err = parseAmount(balance); err != nil {
				return fmt.Errorf("ledger: account %d: %w", id, err)
			}
			accounts[id] = &a
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("ledger: lock accounts: %w", err)
		}
		return nil
	})
	return accounts, err
}

func referenceExists(ctx context.Context, q Querier, ref string) (bool, error) {
	var n int
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM ledger_transactions WHERE reference = ?`, ref).Scan(&n); err != nil {
		return false, fmt.Errorf("ledger: look up reference %s: %w", ref, err)
	}
	return n > 0, nil
}

// Reverse posts a transaction with reference newRef that undoes the transaction originalRef
// posting for posting. A transaction is reversed at most once (ErrAlreadyReversed); reversing
// is subject to the same checks as any posting, so it fails with ErrInsufficientFunds if the
// money has since left a non-negative account.
func Reverse(ctx context.Context, tx *store.Tx, originalRef, newRef string) (TxID, error) {
	orig, err := TransactionByReference(ctx, tx, originalRef)
	if err != nil {
		return 0, err
	}
	t := Transaction{
		Reference:   newRef,
		Description: "reversal of " + originalRef,
		Postings:    make([]Posting, len(orig.Entries)),
	}
	for i, e := range orig.Entries {
		t.Postings[i] = Posting{Account: e.Account, Asset: e.Asset, Amount: new(big.Int).Neg(e.Amount)}
	}
	if err := t.validate(); err != nil {
		return 0, err
	}
	if exists, err := referenceExists(ctx, tx, newRef); err != nil {
		return 0, err
	} else if exists {
		return 0, fmt.Errorf("%w: %s", ErrDuplicateReference, newRef)
	}
	if done, err := isReversed(ctx, tx, orig.ID); err != nil {
		return 0, err
	} else if done {
		return 0, fmt.Errorf("%w: %s", ErrAlreadyReversed, originalRef)
	}
	ids, err := post(ctx, tx, []Transaction{t}, orig.ID)
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

func isReversed(ctx context.Context, q Querier, id TxID) (bool, error) {
	var n int
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM ledger_transactions WHERE reverses = ?`, id).Scan(&n); err != nil {
		return false, fmt.Errorf("ledger: look up reversal of %d: %w", id, err)
	}
	return n > 0, nil
}

// parseAmount parses a stored decimal integer.
func parseAmount(s string) (*big.Int, error) {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, fmt.Errorf("ledger: stored amount %q is not an integer", s)
	}
	return n, nil
}
