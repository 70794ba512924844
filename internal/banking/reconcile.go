package banking

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Errors of POST /banking/reconcile, in the documented order of checks.
var (
	ErrPaymentNotFound        = errcode.New("payment_not_found", "")
	ErrTransactionNotFound    = errcode.New("transaction_not_found", "")
	ErrAlreadyReconciled      = errcode.New("transaction_already_reconciled", "")
	ErrPaymentNotReconcilable = errcode.New("payment_not_reconcilable", "Only started, pending_bank and expired payments can be reconciled.")
	ErrCurrencyMismatch       = errcode.New("currency_mismatch", "")
	ErrAmountMismatch         = errcode.New("amount_mismatch", "")
)

const txColumns = `id, iban, booking_date, value_date, amount, scale, currency, direction, concept, counterparty_name, counterparty_iban,
	end_to_end_id, entry_ref, return_reason, status, exception, resolution, payment_id, payout_id, created_at`

func scanTransaction(row store.Scanner) (Transaction, error) {
	var t Transaction
	var units int64
	var scale int
	var payment sql.NullString
	var payout sql.NullInt64
	var created int64
	err := row.Scan(&t.ID, &t.IBAN, &t.BookingDate, &t.ValueDate, &units, &scale, &t.Currency, &t.Direction, &t.Concept,
		&t.CounterpartyName, &t.CounterpartyIBAN, &t.EndToEndID, &t.EntryRef, &t.ReturnReason, &t.Status, &t.Exception,
		&t.Resolution, &payment, &payout, &created)
	t.Amount, t.PaymentID, t.PayoutID, t.CreatedAt = money.FromInt64(units, scale), payment.String, payout.Int64, store.Time(created)
	return t, err
}

// TxFilter narrows a transaction list.
type TxFilter struct {
	Status    string
	Exception string
	From, To  string // booking dates, inclusive
}

// Transactions lists one page of an account's transactions, newest first.
func (s *Service) Transactions(ctx context.Context, iban string, f TxFilter, page, perPage int) (_ []Transaction, _ int, err error) {
	defer errcode.Op("banking.Transactions", &err)
	var w store.Where
	w.Add("iban = ?", iban)
	w.AddIf(f.Status != "", "status = ?", f.Status)
	w.AddIf(f.Exception != "", "exception = ?", f.Exception)
	w.AddIf(f.From != "", "booking_date >= ?", f.From)
	w.AddIf(f.To != "", "booking_date <= ?", f.To)
	return store.Page(ctx, s.DB, "bank_transactions", txColumns, w, "booking_date DESC, id DESC", page, perPage, scanTransaction)
}

// Exceptions lists unmatched transactions of every account (the operator's queue), oldest first.
func (s *Service) Exceptions(ctx context.Context, page, perPage int) (_ []Transaction, _ int, err error) {
	defer errcode.Op("banking.Exceptions", &err)
	var w store.Where
	w.Add("status = 'unmatched'")
	return store.Page(ctx, s.DB, "bank_transactions", txColumns, w, "id", page, perPage, scanTransaction)
}

// Reconcile matches a transaction to a payment by hand (POST /banking/reconcile). The transaction
// row is locked, so of two concurrent reconciliations of one transaction exactly one succeeds.
func (s *Service) Reconcile(ctx context.Context, integrationID int64, paymentID, transactionID string) (_ string, err error) {
	defer errcode.Op("banking.Reconcile", &err)
	return s.reconcile(ctx, &integrationID, paymentID, transactionID)
}

// OperatorMatch is Reconcile by the operator, for a payment of any integration.
func (s *Service) OperatorMatch(ctx context.Context, paymentID, transactionID string) (_ string, err error) {
	defer errcode.Op("banking.OperatorMatch", &err)
	return s.reconcile(ctx, nil, paymentID, transactionID)
}

func (s *Service) reconcile(ctx context.Context, integrationID *int64, paymentID, transactionID string) (string, error) {
	var status string
	err := s.DB.Tx(ctx, func(tx *store.Tx) error {
		owned := func(id int64) bool { return integrationID == nil || id == *integrationID }
		var ibans map[string]bool
		if integrationID != nil {
			var err error
			if ibans, err = s.integrationIBANs(ctx, tx, *integrationID); err != nil {
				return err
			}
		}
		p, ok, err := s.Payments.ByID(ctx, tx, owned, paymentID)
		if err != nil {
			return err
		}
		if !ok {
			return ErrPaymentNotFound
		}
		id, convErr := strconv.ParseInt(strings.TrimSpace(transactionID), 10, 64)
		if convErr != nil || id <= 0 {
			return ErrTransactionNotFound
		}
		t, err := scanTransaction(tx.QueryRow(ctx, "SELECT "+txColumns+" FROM bank_transactions WHERE id = ?"+tx.ForUpdate(), id))
		if errors.Is(err, sql.ErrNoRows) || (err == nil && ibans != nil && !ibans[t.IBAN]) {
			return ErrTransactionNotFound
		}
		if err != nil {
			return err
		}
		if t.Status != StatusUnmatched || t.Direction != "credit" {
			return ErrAlreadyReconciled
		}
		if !p.Open && !p.Expired {
			return ErrPaymentNotReconcilable
		}
		if p.Currency != t.Currency {
			return ErrCurrencyMismatch
		}
		if !p.Amount.Equal(t.Amount) {
			return ErrAmountMismatch.With(fmt.Sprintf("The transaction is %s %s; the payment is %s %s.", t.Amount, t.Currency, p.Amount, p.Currency), nil)
		}
		acct, err := s.accountTx(ctx, tx, t.IBAN)
		if err != nil {
			return err
		}
		if err := s.match(ctx, tx, acct, &t, p); err != nil {
			return err
		}
		status = "payment_received"
		_, err = tx.Exec(ctx, "UPDATE bank_transactions SET resolution = 'reconciled' WHERE id = ?", t.ID)
		return err
	})
	return status, err
}

func (s *Service) integrationIBANs(ctx context.Context, tx *store.Tx, integrationID int64) (map[string]bool, error) {
	rows, err := tx.Query(ctx, "SELECT iban FROM integration_bank_accounts WHERE integration_id = ?", integrationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var iban string
		if err := rows.Scan(&iban); err != nil {
			return nil, err
		}
		out[iban] = true
	}
	return out, rows.Err()
}

// resolveAccountTx finds an operator account as a caller spells it (ErrAccountNotFound).
func (s *Service) resolveAccountTx(ctx context.Context, tx *store.Tx, id string) (Account, error) {
	id = strings.ToUpper(strings.ReplaceAll(id, " ", ""))
	a, err := s.accountTx(ctx, tx, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, ErrAccountNotFound.With("No operator account has IBAN "+id+".", nil)
	}
	return a, err
}

func (s *Service) accountTx(ctx context.Context, tx *store.Tx, iban string) (Account, error) {
	var a Account
	err := tx.QueryRow(ctx, "SELECT iban, bic, holder_name, bank_name, currency, status, sandbox, id_scheme, batch_booking, pain_version FROM bank_accounts WHERE iban = ?", iban).
		Scan(&a.IBAN, &a.BIC, &a.HolderName, &a.BankName, &a.Currency, &a.Status, &a.Sandbox, &a.Scheme, &a.BatchBooking, &a.PainVersion)
	return a, err
}

// Resolve is the operator's decision on an exception: ignore it, or return the money to the
// payer (a SEPA payout back to the counterparty, confirmed when its debit is imported).
func (s *Service) Resolve(ctx context.Context, transactionID int64, action, note string) (_ Transaction, err error) {
	defer errcode.Op("banking.Resolve", &err)
	var t Transaction
	err = s.DB.Tx(ctx, func(tx *store.Tx) error {
		var err error
		t, err = scanTransaction(tx.QueryRow(ctx, "SELECT "+txColumns+" FROM bank_transactions WHERE id = ?"+tx.ForUpdate(), transactionID))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrTransactionNotFound
		}
		if err != nil {
			return err
		}
		if t.Status != StatusUnmatched {
			return ErrAlreadyReconciled
		}
		switch action {
		case "ignore":
			t.Status, t.Resolution = StatusIgnored, "ignored: "+note
		case "return":
			if t.Direction != "credit" || t.CounterpartyIBAN == "" {
				return errcode.Field("action", "Only a credit with the payer's IBAN can be returned.")
			}
			acct, err := s.accountTx(ctx, tx, t.IBAN)
			if err != nil {
				return err
			}
			name := t.CounterpartyName
			if name == "" {
				name = "Payer"
			}
			if _, err := s.queuePayout(ctx, tx, acct, PayoutRequest{Reference: fmt.Sprintf("return:%d", t.ID), Amount: t.Amount,
				CreditorName: name, CreditorIBAN: t.CounterpartyIBAN, Remittance: "Return of your transfer " + truncate(t.Concept, 100)}, suspenseSource); err != nil {
				return err
			}
			t.Status, t.Resolution = StatusIgnored, "returned: "+note
		default:
			return errcode.Field("action", "The action must be ignore or return (use reconcile to match).")
		}
		_, err = tx.Exec(ctx, "UPDATE bank_transactions SET status = ?, resolution = ?, updated_at = ? WHERE id = ?", t.Status, t.Resolution, store.Micros(s.Now()), t.ID)
		return err
	})
	return t, err
}
