package banking

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/store"
)

// AccountSummary is an operator account as the console's bank page shows it: its balance in the
// ledger (what the statements and payouts booked), what is unmatched in its suspense, and its
// payouts by status.
type AccountSummary struct {
	Account
	Balance   money.Amount   // the ledger's balance of the account, in its currency
	Suspense  money.Amount   // unmatched credits waiting in the account's suspense
	Payouts   map[string]int // payouts by status
	LastEntry string         // booking date of the latest statement line ("" for none)
}

// Summaries lists every operator account (live first) with its balances and payout counts.
func (s *Service) Summaries(ctx context.Context) ([]AccountSummary, error) {
	rows, err := s.DB.Query(ctx, `SELECT a.iban, a.bic, a.holder_name, a.bank_name, a.currency, a.status, a.sandbox, a.id_scheme,
		a.batch_booking, a.pain_version FROM bank_accounts a ORDER BY a.sandbox, a.currency, a.iban`)
	if err != nil {
		return nil, err
	}
	var out []AccountSummary
	for rows.Next() {
		var a AccountSummary
		if err := rows.Scan(&a.IBAN, &a.BIC, &a.HolderName, &a.BankName, &a.Currency, &a.Status, &a.Sandbox, &a.Scheme,
			&a.BatchBooking, &a.PainVersion); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		a := &out[i]
		if a.Balance, err = s.ledgerBalance(ctx, BankKey(a.Sandbox, a.IBAN, a.Currency), a.Currency, false); err != nil {
			return nil, err
		}
		if a.Suspense, err = s.ledgerBalance(ctx, SuspenseKey(a.Sandbox, a.IBAN, a.Currency), a.Currency, true); err != nil {
			return nil, err
		}
		a.Payouts = map[string]int{}
		prow, err := s.DB.Query(ctx, "SELECT status, COUNT(*) FROM bank_payouts WHERE iban = ? GROUP BY status", a.IBAN)
		if err != nil {
			return nil, err
		}
		for prow.Next() {
			var st string
			var n int
			if err := prow.Scan(&st, &n); err != nil {
				prow.Close()
				return nil, err
			}
			a.Payouts[st] = n
		}
		prow.Close()
		var last *string
		if err := s.DB.QueryRow(ctx, "SELECT MAX(booking_date) FROM bank_transactions WHERE iban = ?", a.IBAN).Scan(&last); err != nil {
			return nil, err
		}
		if last != nil {
			a.LastEntry = *last
		}
	}
	return out, nil
}

// ledgerBalance is an account's ledger balance in the currency (zero when nothing was posted
// yet); negate shows a credit-normal account (suspense: money held for someone not yet known)
// as a positive amount.
func (s *Service) ledgerBalance(ctx context.Context, key, currency string, negate bool) (money.Amount, error) {
	scale, ok := money.FiatScale(currency)
	if !ok {
		scale = 2
	}
	a, err := ledger.AccountByKey(ctx, s.DB, key)
	if errors.Is(err, ledger.ErrUnknownAccount) {
		return money.Zero(scale), nil
	}
	if err != nil {
		return money.Amount{}, err
	}
	if negate {
		a.Balance.Neg(a.Balance)
	}
	return money.New(a.Balance, scale), nil
}

// Import is a statement import as the console lists it, with its warnings.
type Import struct {
	ID        int64
	IBAN      string
	Source    string
	Entries   int
	Report    ImportResult
	CreatedAt string
}

// RecentImports lists the latest imports, newest first, with the warnings of their report
// (balance and sequence checks that failed, statements skipped).
func (s *Service) RecentImports(ctx context.Context, limit int) ([]Import, error) {
	rows, err := s.DB.Query(ctx, "SELECT id, iban, source, entries, report, created_at FROM bank_imports ORDER BY id DESC LIMIT ?", limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Import
	for rows.Next() {
		var im Import
		var report string
		var created int64
		if err := rows.Scan(&im.ID, &im.IBAN, &im.Source, &im.Entries, &report, &created); err != nil {
			return nil, err
		}
		if report != "" {
			if err := json.Unmarshal([]byte(report), &im.Report); err != nil {
				return nil, fmt.Errorf("import %d report: %w", im.ID, err)
			}
		}
		im.CreatedAt = store.Time(created).Format("2006-01-02 15:04")
		out = append(out, im)
	}
	return out, rows.Err()
}

// LinkedTransactions lists the statement lines matched to a payment or booking one of the
// payouts, oldest first (an operation's timeline).
func (s *Service) LinkedTransactions(ctx context.Context, paymentID string, payoutIDs ...int64) ([]Transaction, error) {
	var out []Transaction
	add := func(where string, arg any) error {
		rows, err := s.DB.Query(ctx, "SELECT "+txColumns+" FROM bank_transactions WHERE "+where+" ORDER BY id", arg)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanTransaction(rows)
			if err != nil {
				return err
			}
			out = append(out, t)
		}
		return rows.Err()
	}
	if paymentID != "" {
		if err := add("payment_id = ?", paymentID); err != nil {
			return nil, err
		}
	}
	for _, id := range payoutIDs {
		if err := add("payout_id = ?", id); err != nil {
			return nil, err
		}
	}
	return out, nil
}
