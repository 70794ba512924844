package onramp

import (
	"context"
	"errors"

	"github.com/pocketramp/pocketramp/internal/banking"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/store"
)

// BankPayments lets banking find payments by reference and record matched transfers.
type BankPayments struct{ S *Service }

var _ banking.Payments = BankPayments{}

func payable(p Payment) banking.Payable {
	return banking.Payable{ID: p.ID, IntegrationID: p.IntegrationID, Status: p.Status, Amount: p.FiatAmount, Currency: p.Fiat,
		IBAN: p.BankIBAN, Sandbox: p.Sandbox}
}

// ByConcept finds the payment whose transfer reference is concept.
func (b BankPayments) ByConcept(ctx context.Context, tx *store.Tx, concept string) (banking.Payable, bool, error) {
	p, err := getTx(ctx, tx, "concept = ?", concept)
	if errors.Is(err, ErrPaymentNotFound) {
		return banking.Payable{}, false, nil
	}
	return payable(p), err == nil, err
}

// ByID finds a payment of an integration accepted by owned.
func (b BankPayments) ByID(ctx context.Context, tx *store.Tx, owned func(int64) bool, id string) (banking.Payable, bool, error) {
	p, err := getTx(ctx, tx, "id = ?", id)
	if errors.Is(err, ErrPaymentNotFound) || (err == nil && !owned(p.IntegrationID)) {
		return banking.Payable{}, false, nil
	}
	return payable(p), err == nil, err
}

// Receive records a matched bank transfer.
func (b BankPayments) Receive(ctx context.Context, tx *store.Tx, id string, amount money.Amount, holder, fromKey string) error {
	_, err := b.S.ReceiveTx(ctx, tx, id, Receipt{Amount: amount, Holder: holder, Source: "bank", LedgerFrom: fromKey})
	return err
}
