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
	if a.Key == "" || len(a.Key) > maxKeyLen || strings.ContainsFunc(a.Key, isSpaceOrControl) {
		return 0, fmt.Errorf("%w: key %q", ErrInvalidAccount, a.Key)
	}
	if !kindPattern.MatchString(string(a.Kind)) {
		return 0, fmt.Errorf("%w: kind %q", ErrInvalidAccount, a.Kind)
	}
	if err := validAsset(a.Asset); err != nil {
		return 0, err
	}
	// Look first: almost every call finds the account, and a failed INSERT would burn an id.
	existing, err := AccountByKey(ctx, tx, a.Key)
	if errors.Is(err, ErrUnknownAccount) {
		var id AccountID
		err = tx.QueryRow(ctx, `INSERT INTO ledger_accounts (key, kind, asset, non_negative, created_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING id`,
			a.Key, string(a.Kind), a.Asset, a.NonNegative, store.Micros(time.Now())).Scan(&id)
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("ledger: create account %s: %w", a.Key, err)
		}
		// A concurrent transaction created it first.
		existing, err = AccountByKey(ctx, tx, a.Key)
	}
	if err != nil {
		return 0, err
	}
	if existing.Kind != a.Kind || existing.Asset != a.Asset || existing.NonNegative != a.NonNegative {
		return 0, fmt.Errorf("%w: %s is %s/%s non-negative=%v, not %s/%s non-negative=%v", ErrAccountMismatch,
			a.Key, existing.Kind, existing.Asset, existing.NonNegative, a.Kind, a.Asset, a.NonNegative)
	}
	return existing.ID, nil
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
	return post(ctx, tx, t, 0)
}

type lockedAccount struct {
	key         string
	asset       string
	nonNegative bool
	balance     *big.Int
	lastPosted  int64
}

func post(ctx context.Context, tx *store.Tx, t Transaction, reverses TxID) (TxID, error) {
	ids := make([]AccountID, 0, len(t.Postings))
	for _, p := range t.Postings {
		ids = append(ids, p.Account)
	}
	// Sorted ids make every transaction lock balance rows in the same order: no deadlocks.
	slices.Sort(ids)
	ids = slices.Compact(ids)
	accounts, err := lockAccounts(ctx, tx, ids)
	if err != nil {
		return 0, err
	}

	at := time.Now()
	if !t.At.IsZero() {
		at = t.At
	}
	postedAt := store.Micros(at)
	for _, a := range accounts {
		postedAt = max(postedAt, a.lastPosted)
	}

	after := make([]*big.Int, len(t.Postings))
	rejection := func() error {
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
		return nil
	}()
	if rejection != nil {
		// A replay of a posted event is reported as such even if it would now be rejected (e.g.
		// the money has since been spent), so idempotent callers see ErrDuplicateReference.
		if exists, err := referenceExists(ctx, tx, t.Reference); err != nil {
			return 0, err
		} else if exists {
			return 0, fmt.Errorf("%w: %s", ErrDuplicateReference, t.Reference)
		}
		// Likewise a reversal that lost a race to another reversal of the same transaction.
		if reverses != 0 {
			if done, err := isReversed(ctx, tx, reverses); err != nil {
				return 0, err
			} else if done {
				return 0, fmt.Errorf("%w: transaction %d", ErrAlreadyReversed, reverses)
			}
		}
		return 0, rejection
	}

	var rev sql.NullInt64
	if reverses != 0 {
		rev = sql.NullInt64{Int64: int64(reverses), Valid: true}
	}
	// DO NOTHING rather than a unique violation: on PostgreSQL an error would abort the caller's
	// whole transaction, and a duplicate must leave it usable.
	var id TxID
	err = tx.QueryRow(ctx, `INSERT INTO ledger_transactions (reference, description, reverses, posted_at)
		VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
		t.Reference, t.Description, rev, postedAt).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		if reverses != 0 {
			if exists, err := referenceExists(ctx, tx, t.Reference); err != nil {
				return 0, err
			} else if !exists {
				return 0, fmt.Errorf("%w: transaction %d", ErrAlreadyReversed, reverses)
			}
		}
		return 0, fmt.Errorf("%w: %s", ErrDuplicateReference, t.Reference)
	}
	if err != nil {
		return 0, fmt.Errorf("ledger: insert transaction %s: %w", t.Reference, err)
	}

	var q strings.Builder
	args := make([]any, 0, 5*len(t.Postings))
	q.WriteString(`INSERT INTO ledger_postings (tx_id, account_id, amount, balance_after, posted_at) VALUES `)
	for i, p := range t.Postings {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?)")
		args = append(args, id, p.Account, p.Amount.String(), after[i].String(), postedAt)
	}
	if _, err := tx.Exec(ctx, q.String(), args...); err != nil {
		return 0, fmt.Errorf("ledger: insert postings of %s: %w", t.Reference, err)
	}

	// One UPDATE for all accounts keeps round trips per transaction constant.
	num := "?"
	if tx.Engine() == store.Postgres {
		num = "CAST(? AS NUMERIC)" // an untyped CASE result would be text
	}
	q.Reset()
	args = args[:0]
	q.WriteString(`UPDATE ledger_accounts SET balance = CASE id`)
	for _, id := range ids {
		q.WriteString(" WHEN ? THEN " + num)
		args = append(args, id, accounts[id].balance.String())
	}
	q.WriteString(" END, last_posted_at = ? WHERE id IN (")
	args = append(args, postedAt)
	for i, id := range ids {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("?")
		args = append(args, id)
	}
	q.WriteString(")")
	if _, err := tx.Exec(ctx, q.String(), args...); err != nil {
		return 0, fmt.Errorf("ledger: update balances for %s: %w", t.Reference, err)
	}
	return id, nil
}

// lockAccounts reads and (on PostgreSQL) locks the accounts in id order. Missing ids are absent.
func lockAccounts(ctx context.Context, tx *store.Tx, ids []AccountID) (map[AccountID]*lockedAccount, error) {
	var q strings.Builder
	args := make([]any, len(ids))
	q.WriteString(`SELECT id, key, asset, non_negative, balance, last_posted_at FROM ledger_accounts WHERE id IN (`)
	for i, id := range ids {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("?")
		args[i] = id
	}
	q.WriteString(") ORDER BY id" + tx.ForUpdate())
	rows, err := tx.Query(ctx, q.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("ledger: lock accounts: %w", err)
	}
	defer rows.Close()
	accounts := make(map[AccountID]*lockedAccount, len(ids))
	for rows.Next() {
		var (
			id      AccountID
			a       lockedAccount
			balance string
		)
		if err := rows.Scan(&id, &a.key, &a.asset, &a.nonNegative, &balance, &a.lastPosted); err != nil {
			return nil, fmt.Errorf("ledger: lock accounts: %w", err)
		}
		if a.balance, err = parseAmount(balance); err != nil {
			return nil, fmt.Errorf("ledger: account %d: %w", id, err)
		}
		accounts[id] = &a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: lock accounts: %w", err)
	}
	return accounts, nil
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
	return post(ctx, tx, t, orig.ID)
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
