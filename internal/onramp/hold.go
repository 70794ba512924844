package onramp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/pocketramp/pocketramp/internal/bankacct"
	"github.com/pocketramp/pocketramp/internal/banking"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/event"
	"github.com/pocketramp/pocketramp/internal/store"
)

// The operator's tools for a held payment (fiat in, crypto not sent because the price moved past
// the tolerance or could not be re-priced): release it (deliver the crypto, at the quoted or
// today's price) or refund the fiat to the payer by bank transfer. They mirror the off-ramp's.
var (
	ErrNotHeld = errcode.New("payment_not_held", "")
	// ErrNotRefundable is a payment whose fiat cannot be sent back from here.
	ErrNotRefundable = errcode.New("payment_not_refundable", "")
)

// RefundPrefix marks the bank payout that refunds an on-ramp payment ("onramp-refund:<id>").
const RefundPrefix = "onramp-refund:"

// held reports whether p waits for the operator: fiat received, no crypto payout queued.
func held(p Payment) bool {
	return p.Status == StatusPaymentReceived && p.HoldReason != "" && p.PayoutID == 0
}

// Release delivers a held payment's crypto: at the quoted amount, or re-priced at today's price
// (the fiat received buys what it buys now). The chain payout is queued in the same database
// transaction; its confirmation posts the sale and moves the payment to coins_sent as usual.
func (s *Service) Release(ctx context.Context, id string, reprice bool) (Payment, error) {
	var p Payment
	err := s.DB.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if p, err = getTx(ctx, tx, "id = ?", id); err != nil {
			return err
		}
		if !held(p) {
			return ErrNotHeld.With(fmt.Sprintf("payment %s is %s and not held", p.ID, p.Status), nil)
		}
		if reprice {
			st, err := SettingsOf(ctx, tx, p.IntegrationID)
			if err != nil {
				return err
			}
			m, _ := MethodByCode(p.PaymentType)
			a, err := s.Assets.Get(ctx, p.Coin, p.Chain)
			if err != nil {
				return err
			}
			q, err := s.Pricer.Buy(ctx, s.params(QuoteInput{IntegrationID: p.IntegrationID, Sandbox: p.Sandbox}, st, m, a), p.FiatAmount)
			if err != nil {
				return ErrNotHeld.With("the payment cannot be re-priced now: "+err.Error(), nil)
			}
			p.CoinAmount, p.Price = q.CoinAmount, q.Price
			if _, err := tx.Exec(ctx, "UPDATE payments SET coin_amount = ?, price = ? WHERE id = ?", p.CoinAmount.UnitsString(), p.Price.String(), p.ID); err != nil {
				return err
			}
		}
		p.HoldReason, p.UpdatedAt = "", s.Now()
		if _, err := tx.Exec(ctx, "UPDATE payments SET hold_reason = '', updated_at = ? WHERE id = ?", store.Micros(p.UpdatedAt), p.ID); err != nil {
			return err
		}
		return s.queuePayout(ctx, tx, &p)
	})
	return p, err
}

// RefundTo is where a refund goes; empty fields default to the payer of the matched bank
// transfer.
type RefundTo struct {
	Name string
	IBAN string
}

// Refund sends a held payment's fiat back to the payer (or to, when given) by a SEPA payout
// from the operator account it arrived in, and ends the payment refunded with PAYMENT_FAILED.
// A payment whose chain payout failed can be refunded the same way. The payout's ledger
// transaction clears what the customer's account is owed, in the same database transaction;
// the bank payout then goes out in the account's next pain.001 export.
func (s *Service) Refund(ctx context.Context, id string, to RefundTo) (Payment, error) {
	if s.Banking == nil {
		return Payment{}, errors.New("onramp: refunds need the banking service")
	}
	to.Name, to.IBAN = strings.TrimSpace(to.Name), strings.TrimSpace(to.IBAN)
	if to.IBAN != "" {
		v, err := bankacct.IBAN(to.IBAN)
		if err != nil {
			return Payment{}, errcode.Field("iban", "The IBAN is not valid: %s.", err.Error())
		}
		to.IBAN = v
	}
	var p Payment
	err := s.DB.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if p, err = getTx(ctx, tx, "id = ?", id); err != nil {
			return err
		}
		failedPaid := p.Status == StatusFailed && p.ReceivedAmount != nil
		if !held(p) && !failedPaid {
			return ErrNotHeld.With(fmt.Sprintf("payment %s is %s: only held payments, and failed ones whose fiat arrived, can be refunded", p.ID, p.Status), nil)
		}
		if p.BankIBAN == "" {
			return ErrNotRefundable.With(fmt.Sprintf("payment %s was paid by %s, not by bank transfer: refund it at the provider", p.ID, p.PaymentType), nil)
		}
		var payerName, payerIBAN string
		err = tx.QueryRow(ctx, "SELECT counterparty_name, counterparty_iban FROM bank_transactions WHERE payment_id = ? AND direction = 'credit' ORDER BY id LIMIT 1",
			p.ID).Scan(&payerName, &payerIBAN)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if to.IBAN == "" {
			to.IBAN = payerIBAN
		}
		if to.Name == "" {
			to.Name = payerName
		}
		if to.Name == "" {
			to.Name = p.Holder
		}
		if to.IBAN == "" {
			return errcode.Field("iban", "The payer's IBAN is not known: give the IBAN to refund to.")
		}
		if to.Name == "" {
			return errcode.Field("name", "The payer's name is not known: give the name of the account holder.")
		}
		if _, err := s.Banking.QueuePayoutTx(ctx, tx, p.BankIBAN, banking.PayoutRequest{Reference: RefundPrefix + p.ID, Amount: *p.ReceivedAmount,
			CreditorName: to.Name, CreditorIBAN: to.IBAN, Remittance: "Devolucion ref " + p.Concept},
			ledgerKey(p.Sandbox, "customer", fmt.Sprint(p.UserID), p.Fiat)); err != nil {
			return err
		}
		reason := p.HoldReason
		if reason == "" {
			reason = p.FailureReason
		}
		p.FailureReason, p.HoldReason = "refunded: "+reason, ""
		if err := setStatus(ctx, tx, &p, StatusRefunded, s.Now()); err != nil {
			return err
		}
		return s.record(ctx, tx, p, event.PaymentFailed)
	})
	return p, err
}

// GetAny returns any integration's payment (the operator's view).
func (s *Service) GetAny(ctx context.Context, id string) (_ Payment, err error) {
	defer errcode.Op("onramp.GetAny", &err)
	return payments.Get(ctx, s.DB, 0, id)
}

// OperatorFilter narrows the operator's list of every integration's payments.
type OperatorFilter struct {
	Filter
	IntegrationID int64
	Method        string // payment_type
	Held          bool   // only payments waiting for the operator
}

// ListAll returns one page of every integration's payments, newest first, and the total. Each
// filter is backed by an index (see migration 00028).
func (s *Service) ListAll(ctx context.Context, f OperatorFilter, page, perPage int) ([]Payment, int, error) {
	var w store.Where
	w.AddIf(f.IntegrationID != 0, "integration_id = ?", f.IntegrationID)
	f.Filter.Where(&w)
	w.AddIf(f.Held, "status = ? AND hold_reason <> ''", string(StatusPaymentReceived))
	w.AddIf(f.Method != "", "payment_type = ?", f.Method)
	return payments.Page(ctx, s.DB, w, page, perPage)
}
