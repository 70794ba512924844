// Package onramp is the buy flow: payment methods, quotes, payment intents (direct and guided),
// their state machine, and settlement — fiat received, ledger postings, the chain payout, and
// coins_sent with the real transaction hash. Every change that moves value posts balanced ledger
// transactions and records its event in the same database transaction.
package onramp

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/ramp"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Errors of the contract (REFERENCE §4.3), in the documented order of checks.
var (
	ErrMandatory         = ramp.ErrMandatory
	ErrUserNotFound      = errcode.UserNotFound
	ErrCoinNotSupported  = errcode.CoinNotSupported
	ErrMinPurchase       = errcode.New("min_purchase", "")
	ErrMethodNotAllowed  = errcode.New("method_not_allowed", "")
	ErrExternalIDUsed    = ramp.ErrExternalIDUsed
	ErrPaymentCreation   = errcode.New("error_payment_creation", "")
	ErrGuidedEUROnly     = errcode.New("guided_payment_eur_only", "Guided payments are in EUR only.")
	ErrPaymentNotFound   = errcode.New("payment_not_found", "")
	ErrNotReconcilable   = errcode.New("payment_not_reconcilable", "")
	ErrInvalidTransition = errcode.New("invalid_payment_transition", "")
)

// Payment is an on-ramp payment.
type Payment struct {
	ID             string
	IntegrationID  int64
	UserID         int64
	Sandbox        bool
	ExternalID     string
	Guided         bool
	PaymentType    string
	Fiat           string
	FiatAmount     money.Amount
	EUREquivalent  money.Amount
	Coin           string
	Chain          string
	CoinAmount     money.Amount
	Price          money.Rate
	Fees           json.RawMessage
	QuoteID        string
	Wallet         string
	Status         Status
	FailureReason  string
	HoldReason     string
	Holder         string
	Concept        string
	BankIBAN       string
	CallbackURL    string
	PayoutID       int64
	TxID           string
	ReceivedAmount *money.Amount
	ReceivedAt     time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
	ExpiresAt      time.Time
}

const columns = `id, integration_id, user_id, sandbox, external_id, guided, payment_type, fiat_symbol, fiat_scale, fiat_amount,
	eur_equivalent, coin_symbol, coin_chain, coin_decimals, coin_amount, price, fees, quote_id, wallet, status, failure_reason,
	hold_reason, holder, concept, bank_iban, callback_url, payout_id, txid, received_amount, received_at, created_at, updated_at, expires_at`

func scan(row store.Scanner) (Payment, error) {
	var p Payment
	var ext, quote, holder, concept, iban, txid sql.NullString
	var payout, received, receivedAt sql.NullInt64
	var fiatScale, coinDecimals int
	var fiatUnits, eurUnits int64
	var coinUnits, priceS, fees string
	var created, updated, expires int64
	err := row.Scan(&p.ID, &p.IntegrationID, &p.UserID, &p.Sandbox, &ext, &p.Guided, &p.PaymentType, &p.Fiat, &fiatScale, &fiatUnits,
		&eurUnits, &p.Coin, &p.Chain, &coinDecimals, &coinUnits, &priceS, &fees, &quote, &p.Wallet, &p.Status, &p.FailureReason,
		&p.HoldReason, &holder, &concept, &iban, &p.CallbackURL, &payout, &txid, &received, &receivedAt, &created, &updated, &expires)
	if err != nil {
		return Payment{}, err
	}
	p.ExternalID, p.QuoteID, p.Holder, p.Concept, p.BankIBAN, p.TxID = ext.String, quote.String, holder.String, concept.String, iban.String, txid.String
	p.PayoutID = payout.Int64
	p.FiatAmount = money.FromInt64(fiatUnits, fiatScale)
	p.EUREquivalent = money.FromInt64(eurUnits, 2)
	if p.CoinAmount, err = money.ParseUnits(coinUnits, coinDecimals, money.ParseOptions{}); err != nil {
		return Payment{}, fmt.Errorf("payment %s coin amount: %w", p.ID, err)
	}
	if p.Price, err = money.ParseRate(priceS); err != nil {
		return Payment{}, fmt.Errorf("payment %s price: %w", p.ID, err)
	}
	p.Fees = json.RawMessage(fees)
	if received.Valid {
		a := money.FromInt64(received.Int64, fiatScale)
		p.ReceivedAmount = &a
		p.ReceivedAt = store.Time(receivedAt.Int64)
	}
	p.CreatedAt, p.UpdatedAt, p.ExpiresAt = store.Time(created), store.Time(updated), store.Time(expires)
	return p, nil
}

// View is a payment as GET /payment/{id} shows it; webhooks carry the same object.
type View struct {
	ID            string          `json:"id"`
	ExternalID    *string         `json:"external_id"`
	UserID        string          `json:"user_id"`
	Status        string          `json:"status"`
	FiatAmount    int64           `json:"fiat_amount"`
	FiatSymbol    string          `json:"fiat_symbol"`
	CoinSymbol    string          `json:"coin_symbol"`
	CoinAmount    json.Number     `json:"coin_amount"`
	CreatedAt     string          `json:"created_at"`
	Holder        *string         `json:"holder"`
	TxID          *string         `json:"txid,omitempty"`
	PaymentType   string          `json:"payment_type"`
	CoinChain     string          `json:"coin_chain"`
	Wallet        *string         `json:"wallet"`
	UpdatedAt     string          `json:"updated_at"`
	FailureReason *string         `json:"failure_reason"`
	HoldReason    *string         `json:"hold_reason,omitempty"`
	Fees          json.RawMessage `json:"fees,omitempty"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Timestamp is the contract's time format.
func Timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// decimalNumber shows an amount as a JSON number without trailing zeros ("92.13").
func decimalNumber(a money.Amount) json.Number {
	s := a.String()
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return json.Number(s)
}

// View returns the API object of the payment.
func (p Payment) View() View {
	v := View{ID: p.ID, ExternalID: nullable(p.ExternalID), UserID: fmt.Sprint(p.UserID), Status: string(p.Status),
		FiatAmount: p.FiatAmount.Units().Int64(), FiatSymbol: p.Fiat, CoinSymbol: p.Coin, CoinAmount: decimalNumber(p.CoinAmount),
		CreatedAt: Timestamp(p.CreatedAt), Holder: nullable(p.Holder), PaymentType: p.PaymentType, CoinChain: p.Chain,
		Wallet: nullable(p.Wallet), UpdatedAt: Timestamp(p.UpdatedAt), FailureReason: nullable(p.FailureReason),
		HoldReason: nullable(p.HoldReason), Fees: p.Fees}
	if p.Status == StatusCoinsSent {
		v.TxID = nullable(p.TxID)
	}
	return v
}

// payments reads the payments table.
var payments = ramp.Rows[Payment]{Table: "payments", Columns: columns, Scan: scan, NotFound: ErrPaymentNotFound}

// Get returns a payment of integrationID; another integration's is ErrPaymentNotFound.
func (s *Service) Get(ctx context.Context, integrationID int64, id string) (_ Payment, err error) {
	defer errcode.Op("onramp.Get", &err)
	return payments.Get(ctx, s.DB, integrationID, id)
}

// getTx reads a payment, locked for the rest of tx.
func getTx(ctx context.Context, tx *store.Tx, where string, args ...any) (Payment, error) {
	return payments.Lock(ctx, tx, where, args...)
}

// Filter narrows List.
type Filter = ramp.Filter[Status]

// List returns one page of an integration's payments, newest first, and the total.
func (s *Service) List(ctx context.Context, integrationID int64, f Filter, page, perPage int) (_ []Payment, _ int, err error) {
	defer errcode.Op("onramp.List", &err)
	var w store.Where
	w.Add("integration_id = ?", integrationID)
	f.Where(&w)
	return payments.Page(ctx, s.DB, w, page, perPage)
}

func jsonUnmarshal(raw []byte, v any) error { return json.Unmarshal(raw, v) }
