package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/store"
)

// Entry is one posting as recorded: the movement on one account within one transaction.
type Entry struct {
	ID           int64
	TxID         TxID
	Reference    string
	Description  string
	Account      AccountID
	AccountKey   string
	Asset        string
	Amount       *big.Int
	BalanceAfter *big.Int
	PostedAt     time.Time
}

// Record is a posted transaction.
type Record struct {
	ID          TxID
	Reference   string
	Description string
	Reverses    TxID // the transaction this one reverses, or 0
	PostedAt    time.Time
	Entries     []Entry // in posting order
}

// Balance returns the current balance of an account.
func Balance(ctx context.Context, q Querier, id AccountID) (*big.Int, error) {
	var s string
	err := q.QueryRow(ctx, `SELECT balance FROM ledger_accounts WHERE id = ?`, id).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: id %d", ErrUnknownAccount, id)
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: balance of %d: %w", id, err)
	}
	return parseAmount(s)
}

// BalanceAt returns the balance of an account after every posting at or before at (zero before
// its first posting).
func BalanceAt(ctx context.Context, q Querier, id AccountID, at time.Time) (*big.Int, error) {
	var s sql.NullString
	err := q.QueryRow(ctx, `SELECT (SELECT p.balance_after FROM ledger_postings p
			WHERE p.account_id = a.id AND p.posted_at <= ? ORDER BY p.posted_at DESC, p.id DESC LIMIT 1)
		FROM ledger_accounts a WHERE a.id = ?`, store.Micros(at), id).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: id %d", ErrUnknownAccount, id)
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: balance of %d at %v: %w", id, at, err)
	}
	if !s.Valid {
		return new(big.Int), nil
	}
	return parseAmount(s.String)
}

// MaxPerPage bounds History's page size.
const MaxPerPage = 500

// HistoryPage is one page of an account's postings, newest first.
type HistoryPage struct {
	Entries []Entry
	Page    int
	PerPage int
	Total   int64 // postings on the account
}

// History returns page (1-based) of an account's postings, newest first.
func History(ctx context.Context, q Querier, id AccountID, page, perPage int) (HistoryPage, error) {
	if page < 1 || perPage < 1 || perPage > MaxPerPage {
		return HistoryPage{}, fmt.Errorf("%w: page %d, per_page %d (per_page must be 1..%d)", ErrInvalidPage, page, perPage, MaxPerPage)
	}
	h := HistoryPage{Page: page, PerPage: perPage, Entries: []Entry{}}
	err := q.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM ledger_postings WHERE account_id = ?)
		FROM ledger_accounts WHERE id = ?`, id, id).Scan(&h.Total)
	if errors.Is(err, sql.ErrNoRows) {
		return HistoryPage{}, fmt.Errorf("%w: id %d", ErrUnknownAccount, id)
	}
	if err != nil {
		return HistoryPage{}, fmt.Errorf("ledger: history of %d: %w", id, err)
	}
	if store.PastEnd(page, perPage, h.Total) { // also keeps the offset below from overflowing
		return h, nil
	}
	offset := int64(page-1) * int64(perPage)
	rows, err := q.Query(ctx, entrySelect+` WHERE p.account_id = ? ORDER BY p.posted_at DESC, p.id DESC LIMIT ? OFFSET ?`,
		id, perPage, offset)
	if err != nil {
		return HistoryPage{}, fmt.Errorf("ledger: history of %d: %w", id, err)
	}
	if h.Entries, err = scanEntries(rows); err != nil {
		return HistoryPage{}, fmt.Errorf("ledger: history of %d: %w", id, err)
	}
	return h, nil
}

// TransactionByReference returns the posted transaction with the given reference, or
// ErrUnknownTransaction.
func TransactionByReference(ctx context.Context, q Querier, ref string) (Record, error) {
	var (
		r        Record
		reverses sql.NullInt64
		posted   int64
	)
	err := q.QueryRow(ctx, `SELECT id, reference, description, reverses, posted_at FROM ledger_transactions WHERE reference = ?`, ref).
		Scan(&r.ID, &r.Reference, &r.Description, &reverses, &posted)
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, fmt.Errorf("%w: %s", ErrUnknownTransaction, ref)
	}
	if err != nil {
		return Record{}, fmt.Errorf("ledger: transaction %s: %w", ref, err)
	}
	r.Reverses, r.PostedAt = TxID(reverses.Int64), store.Time(posted)
	rows, err := q.Query(ctx, entrySelect+` WHERE p.tx_id = ? ORDER BY p.id`, r.ID)
	if err != nil {
		return Record{}, fmt.Errorf("ledger: transaction %s: %w", ref, err)
	}
	if r.Entries, err = scanEntries(rows); err != nil {
		return Record{}, fmt.Errorf("ledger: transaction %s: %w", ref, err)
	}
	return r, nil
}

const entrySelect = `SELECT p.id, p.tx_id, t.reference, t.description, p.account_id, a.key, a.asset,
		p.amount, p.balance_after, p.posted_at
	FROM ledger_postings p
	JOIN ledger_transactions t ON t.id = p.tx_id
	JOIN ledger_accounts a ON a.id = p.account_id`

// scanEntries reads the rows of an entrySelect query.
func scanEntries(rows *sql.Rows) ([]Entry, error) {
	defer rows.Close()
	entries := []Entry{}
	for rows.Next() {
		var (
			e             Entry
			amount, after string
			posted        int64
		)
		err := rows.Scan(&e.ID, &e.TxID, &e.Reference, &e.Description, &e.Account, &e.AccountKey, &e.Asset, &amount, &after, &posted)
		if err != nil {
			return nil, err
		}
		if e.Amount, err = parseAmount(amount); err != nil {
			return nil, err
		}
		if e.BalanceAfter, err = parseAmount(after); err != nil {
			return nil, err
		}
		e.PostedAt = store.Time(posted)
		entries = append(entries, e)
	}
	return entries, rows.Err()
}

// Accounts lists the accounts whose key starts with prefix, ordered by key (e.g. "sb:" for the
// sandbox books), with their balances.
func Accounts(ctx context.Context, db *store.DB, prefix string) ([]Account, error) {
	rows, err := db.Query(ctx, `SELECT `+accountColumns+` FROM ledger_accounts WHERE key LIKE ? ESCAPE '\' ORDER BY key`, likePrefix(prefix))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// likePrefix escapes LIKE wildcards in a literal prefix.
func likePrefix(p string) string {
	r := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)
	return r.Replace(p) + "%"
}
