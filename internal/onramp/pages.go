package onramp

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pocketramp/pocketramp/internal/banking"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/pricing"
	"github.com/pocketramp/pocketramp/internal/ramp"
	"github.com/pocketramp/pocketramp/internal/store"
)

// SandboxProvider is the in-process twin of a card/PSD2/LATAM provider: its checkout is our own
// hosted page, where the customer chooses to pay or to fail.
type SandboxProvider struct{}

// Name implements Provider.
func (SandboxProvider) Name() string { return "sandbox" }

// Checkout implements Provider: the sandbox checkout is the page itself.
func (SandboxProvider) Checkout(_ context.Context, _ Payment, returnURL string) (string, error) {
	return returnURL, nil
}

// Page is what a customer page (checkout, gateway, transfer details) shows.
type Page struct {
	Payment Payment
	Account banking.Account // transfer payments
}

// PageByToken finds the payment behind a customer page link.
func (s *Service) PageByToken(ctx context.Context, token string) (_ Page, err error) {
	defer errcode.Op("onramp.PageByToken", &err)
	if token == "" || len(token) > 100 {
		return Page{}, ErrPaymentNotFound
	}
	p, err := scan(s.DB.QueryRow(ctx, "SELECT "+columns+" FROM payments WHERE page_token_hash = ?", hashToken(token)))
	if err != nil {
		return Page{}, ErrPaymentNotFound
	}
	pg := Page{Payment: p}
	if p.BankIBAN != "" {
		accts, err := s.Accounts.ForIntegration(ctx, p.IntegrationID)
		if err != nil {
			return Page{}, err
		}
		for _, a := range accts {
			if a.IBAN == p.BankIBAN {
				pg.Account = a
			}
		}
	}
	return pg, nil
}

// CompleteCheckout is the hosted checkout's outcome for a sandbox payment: paid → the provider
// reports the funds (payment_received and onwards); declined → failed.
func (s *Service) CompleteCheckout(ctx context.Context, token string, paid bool) (_ Payment, err error) {
	defer errcode.Op("onramp.CompleteCheckout", &err)
	pg, err := s.PageByToken(ctx, token)
	if err != nil {
		return Payment{}, err
	}
	p := pg.Payment
	if !p.Sandbox {
		return Payment{}, ErrPaymentCreation.With("this payment is handled by the payment provider", nil)
	}
	if !paid {
		return s.Fail(ctx, p.IntegrationID, p.ID, "card_declined")
	}
	return s.Confirm(ctx, p.IntegrationID, p.ID, Receipt{Amount: p.FiatAmount, Source: "provider", Holder: ""})
}

// Confirm records a provider-confirmed (or sandbox) payment of the full amount.
func (s *Service) Confirm(ctx context.Context, integrationID int64, id string, r Receipt) (_ Payment, err error) {
	defer errcode.Op("onramp.Confirm", &err)
	var p Payment
	err = s.DB.Tx(ctx, func(tx *store.Tx) error {
		cur, err := getTx(ctx, tx, "id = ? AND integration_id = ?", id, integrationID)
		if err != nil {
			return err
		}
		if cur.Wallet == "" {
			return errcode.Field("wallet", "Choose the wallet on the payment page first.")
		}
		p, err = s.ReceiveTx(ctx, tx, id, r)
		return err
	})
	return p, err
}

// GatewayChoice is what the customer picks on the guided payment page.
type GatewayChoice struct {
	Wallet string
	Method string // card, psd2 or transfer
}

// SubmitGateway stores the customer's wallet and method for a guided payment and returns the
// page to continue on (the checkout, or the transfer details).
func (s *Service) SubmitGateway(ctx context.Context, token string, c GatewayChoice) (_ string, err error) {
	defer errcode.Op("onramp.SubmitGateway", &err)
	pg, err := s.PageByToken(ctx, token)
	if err != nil {
		return "", err
	}
	p := pg.Payment
	if !p.Guided || p.Status != StatusStarted {
		return "", ErrInvalidTransition.With("this payment can no longer be changed", nil)
	}
	f := errcode.Fields{}
	wallet, err := s.walletValidator(p.Sandbox)(p.Chain, strings.TrimSpace(c.Wallet))
	if err != nil {
		f.Add("wallet", "The wallet is not a valid %s address.", p.Chain)
	}
	m, ok := MethodByCode(c.Method)
	if !ok || (m.Code != "card" && m.Code != "psd2" && m.Code != "transfer") {
		f.Add("method", "Choose card, psd2 or transfer.")
	}
	if err := f.Err(); err != nil {
		return "", err
	}
	st, err := SettingsOf(ctx, s.DB, p.IntegrationID)
	if err != nil {
		return "", err
	}
	if !st.MethodEnabled(m.Code) {
		return "", ErrMethodNotAllowed
	}
	// The guided payment was priced for a card; the customer's choice sets the real fees.
	a, err := s.Assets.Get(ctx, p.Coin, p.Chain)
	if err != nil {
		return "", err
	}
	q, err := s.Pricer.Buy(ctx, s.params(QuoteInput{IntegrationID: p.IntegrationID, Sandbox: p.Sandbox}, st, m, a), p.FiatAmount)
	if errors.Is(err, pricing.ErrTooSmall) {
		return "", ErrMinPurchase.With("The amount does not cover the fees of this method.", nil)
	}
	if err != nil {
		return "", err
	}
	base := strings.TrimRight(s.PublicURL, "/")
	next := base + "/checkout/" + token
	var iban string
	if m.Code == "transfer" {
		acct, err := s.Accounts.Receiving(ctx, p.IntegrationID, p.Sandbox, p.Fiat)
		if err != nil {
			return "", ErrPaymentCreation.With(err.Error(), nil)
		}
		iban, next = acct.IBAN, base+"/transfer/"+token
	}
	// A card chosen now counts against the card quarter limit, reserved with the change (the
	// payment's own share is not counted twice).
	now := s.Now()
	cardLimit := cardLimits(st, m, now)
	for i := range cardLimit {
		cardLimit[i].Where += " AND id <> ?"
		cardLimit[i].Args = append(cardLimit[i].Args, p.ID)
	}
	for attempt := 0; ; attempt++ { // a reference drawn twice: retry the transaction anew
		var concept any
		if iban != "" {
			concept = newConcept()
		}
		err = s.DB.Tx(ctx, func(tx *store.Tx) error {
			if err := book.Reserve(ctx, tx, p.UserID, now, p.EUREquivalent, func(string) []ramp.Limit { return cardLimit }); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `UPDATE payments SET wallet = ?, payment_type = ?, bank_iban = ?, concept = ?, coin_amount = ?, price = ?,
			fees = ?, expires_at = ?, updated_at = ? WHERE id = ? AND status = 'started'`, wallet, m.Code, nullableString(iban), concept,
				q.CoinAmount.UnitsString(), q.Price.String(), string(feesJSON(q)), store.Micros(now.Add(m.Expiry)), store.Micros(now), p.ID)
			return err
		})
		if !store.IsUniqueViolation(err) || attempt == 5 {
			break
		}
	}
	if errors.Is(err, ramp.ErrLimit) {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("guided payment %s: %w", p.ID, err)
	}
	return next, nil
}

// SandboxPay simulates the customer paying: a bank transfer arrives with the right concept (or
// the hosted checkout succeeds) for amount, paid by payer.
func (s *Service) SandboxPay(ctx context.Context, integrationID int64, id string, amount money.Amount, payer string) (_ Payment, err error) {
	defer errcode.Op("onramp.SandboxPay", &err)
	if s.BankArrival != nil {
		p, err := s.Get(ctx, integrationID, id)
		if err != nil {
			return Payment{}, err
		}
		if p.BankIBAN != "" {
			if err := s.BankArrival(ctx, p, amount, payer); err != nil {
				return Payment{}, err
			}
			return s.Get(ctx, integrationID, id)
		}
	}
	p, err := s.Confirm(ctx, integrationID, id, Receipt{Amount: amount, Holder: payer, Source: "sandbox"})
	if errors.Is(err, ErrAmountMismatch) {
		return Payment{}, errcode.Field("amount", "A card or PSD2 payment is always of the exact amount.")
	}
	return p, err
}
