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
	return banking.Payable{ID: p.ID, IntegrationID: p.IntegrationID, Open: p.Status.Open(), Expired: p.Status == StatusExpired, Amount: p.FiatAmount, Currency: p.Fiat,
		IBAN: p.BankIBAN, Sandbox: p.Sandbox, Row: p}
}

// ByConcepts finds the payments whose transfer references are among concepts (one query per
// few thousand references), locking them on PostgreSQL.
func (b BankPayments) ByConcepts(ctx context.Context, tx *store.Tx, concepts []string) (map[string]banking.Payable, error) {
	found, err := payments.LockIn(ctx, tx, "concept", concepts)
	out := make(map[string]banking.Payable, len(found))
	for _, p := range found {
		out[p.Concept] = payable(p)
	}
	return out, err
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

// ReceiveMany records many matched bank transfers at once.
func (b BankPayments) ReceiveMany(ctx context.Context, tx *store.Tx, rs []banking.Receipt) error {
	arrivals := make([]Arrival, len(rs))
	for i, r := range rs {
		arrivals[i] = Arrival{PaymentID: r.PaymentID, Receipt: Receipt{Amount: r.Amount, Holder: r.Holder, Source: "bank", LedgerFrom: r.FromKey}}
		if p, ok := r.Row.(Payment); ok {
			arrivals[i].Locked = &p
		}
	}
	_, err := b.S.ReceiveManyTx(ctx, tx, arrivals)
	return err
}
