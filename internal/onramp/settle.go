package onramp

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/event"
	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/ramp"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Ledger accounts of the on-ramp. Sandbox operations live under "sb:" so they never mix with
// the operator's real books.
func ledgerKey(sandbox bool, parts ...string) string {
	k := strings.Join(parts, ":")
	if sandbox {
		return "sb:" + k
	}
	return k
}

func account(ctx context.Context, tx *store.Tx, sandbox bool, kind ledger.Kind, asset string, parts ...string) (ledger.AccountID, error) {
	return ledger.EnsureAccount(ctx, tx, ledger.Account{Key: ledgerKey(sandbox, parts...), Kind: kind, Asset: asset})
}

// TokenAsset is the ledger asset code of a token on a chain.
func TokenAsset(symbol, chainName string) string { return symbol + ":" + chainName }

func (s *Service) record(ctx context.Context, tx *store.Tx, p Payment, typ string) error {
	_, err := s.Events.Record(ctx, tx, s.Now(), p.IntegrationID, typ, "payment", p.ID, p.View())
	return err
}

func setStatus(ctx context.Context, tx *store.Tx, p *Payment, status string, now time.Time) error {
	if !CanTransition(p.Status, status) {
		return ErrInvalidTransition.With(fmt.Sprintf("payment %s cannot go from %s to %s", p.ID, p.Status, status), nil)
	}
	p.Status, p.UpdatedAt = status, now
	_, err := tx.Exec(ctx, "UPDATE payments SET status = ?, failure_reason = ?, hold_reason = ?, updated_at = ? WHERE id = ?",
		status, p.FailureReason, p.HoldReason, store.Micros(now), p.ID)
	return err
}

// Receipt is fiat that arrived for a payment.
type Receipt struct {
	Amount money.Amount
	Holder string // payer name, when the bank or provider says
	Source string // "bank", "provider", "sandbox"
	// LedgerFrom is the ledger account holding the funds when they were booked elsewhere first
	// (a bank credit sits in the account's suspense until matched); empty: the bank or provider.
	LedgerFrom string
}

// ErrAmountMismatch is fiat that does not equal the payment's amount.
var ErrAmountMismatch = errors.New("the amount received differs from the payment amount")

// ReceiveTx records that the payment's fiat arrived (bank reconciliation, provider callback or
// sandbox), inside the caller's transaction: payment_received, the PAY_IN event, the ledger
// postings, and the chain payout queued — or a hold when a late bank transfer's price moved.
func (s *Service) ReceiveTx(ctx context.Context, tx *store.Tx, id string, r Receipt) (Payment, error) {
	p, err := getTx(ctx, tx, "id = ?", id)
	if err != nil {
		return Payment{}, err
	}
	if !CanTransition(p.Status, StatusPaymentReceived) {
		return Payment{}, ErrNotReconcilable.With(fmt.Sprintf("payment %s is %s", p.ID, p.Status), nil)
	}
	if r.Amount.Scale() != p.FiatAmount.Scale() || !r.Amount.Equal(p.FiatAmount) {
		return Payment{}, ErrAmountMismatch
	}
	now := s.Now()
	customerAcct, err := account(ctx, tx, p.Sandbox, ledger.KindCustomer, p.Fiat, "customer", fmt.Sprint(p.UserID), p.Fiat)
	if err != nil {
		return Payment{}, err
	}
	var receiving ledger.AccountID
	switch {
	case r.LedgerFrom != "":
		receiving, err = ledger.EnsureAccount(ctx, tx, ledger.Account{Key: r.LedgerFrom, Kind: ledger.KindSuspense, Asset: p.Fiat})
	case p.BankIBAN != "":
		receiving, err = account(ctx, tx, p.Sandbox, ledger.KindBank, p.Fiat, "bank", p.BankIBAN, p.Fiat)
	default:
		receiving, err = account(ctx, tx, p.Sandbox, ledger.KindProvider, p.Fiat, "provider", p.PaymentType, p.Fiat)
	}
	if err != nil {
		return Payment{}, err
	}
	if _, err := ledger.Post(ctx, tx, ledger.Transaction{Reference: "onramp:" + p.ID + ":payin",
		Description: fmt.Sprintf("fiat received for payment %s (%s)", p.ID, r.Source),
		Postings:    ledger.Transfer(customerAcct, receiving, p.Fiat, p.FiatAmount.Units())}); err != nil {
		return Payment{}, err
	}
	p.Holder = r.Holder
	p.ReceivedAmount, p.ReceivedAt = &r.Amount, now
	if _, err := tx.Exec(ctx, "UPDATE payments SET holder = ?, received_amount = ?, received_at = ? WHERE id = ?",
		nullableString(r.Holder), r.Amount.Units().Int64(), store.Micros(now), p.ID); err != nil {
		return Payment{}, err
	}
	if err := s.recheckLimits(ctx, tx, &p, now); err != nil {
		return Payment{}, err
	}
	if p.HoldReason == "" {
		if err := s.reprice(ctx, tx, &p); err != nil {
			return Payment{}, err
		}
	}
	if err := setStatus(ctx, tx, &p, StatusPaymentReceived, now); err != nil {
		return Payment{}, err
	}
	if err := s.record(ctx, tx, p, event.PayIn); err != nil {
		return Payment{}, err
	}
	if p.HoldReason == "" {
		if err := s.queuePayout(ctx, tx, &p); err != nil {
			return Payment{}, err
		}
	}
	return p, nil
}

func nullableString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// recheckLimits holds a late payment that no longer fits the customer's limits. An intent past
// its expiry released its share of the limits (book.Holding), and the customer may have used it
// since; fiat arriving for it now is checked again, under the customer's lock, as if the
// payment were made now. Over a limit, the coins are not sent: the payment is received and held
// for the operator with the reason (the fiat stays owed to the customer in the ledger).
func (s *Service) recheckLimits(ctx context.Context, tx *store.Tx, p *Payment, now time.Time) error {
	if now.Before(p.ExpiresAt) && p.Status != StatusExpired {
		return nil // its share is still reserved
	}
	st, err := SettingsOf(ctx, tx, p.IntegrationID)
	if err != nil {
		return err
	}
	m, _ := MethodByCode(p.PaymentType)
	err = book.Reserve(ctx, tx, p.UserID, now, p.EUREquivalent, limitsFor(st, m, now))
	var e *errcode.Error
	if errors.As(err, &e) && (e.Code == ramp.ErrLimit.Code || e.Code == ramp.ErrReinforced.Code) {
		p.HoldReason = "limit_exceeded: the payment arrived after it expired and no longer fits the customer's limits (" + e.Message + ")"
		return nil
	}
	return err
}

// reprice applies the rate policy: within the honour window (and always for hosted methods,
// which are paid within their short expiry) the quoted amount stands; a later bank transfer is
// re-priced and delivered at the current price when it moved less than the tolerance, else held
// for the operator. Never silently at a stale price.
func (s *Service) reprice(ctx context.Context, tx *store.Tx, p *Payment) error {
	st, err := SettingsOf(ctx, tx, p.IntegrationID)
	if err != nil {
		return err
	}
	if s.Now().Sub(p.CreatedAt) <= time.Duration(st.HonourHours)*time.Hour {
		return nil
	}
	m, _ := MethodByCode(p.PaymentType)
	a, err := s.Assets.Get(ctx, p.Coin, p.Chain)
	if err != nil {
		return err
	}
	q, err := s.Pricer.Buy(ctx, s.params(QuoteInput{IntegrationID: p.IntegrationID, Sandbox: p.Sandbox}, st, m, a), p.FiatAmount)
	if err != nil {
		p.HoldReason = "repricing_failed: " + err.Error()
		return nil
	}
	// |new − old| × 10000 ≤ old × tolerance in basis points
	tolBps := money.MustParse(st.TolerancePercent, 2).Units()
	diff := new(big.Int).Sub(q.CoinAmount.Units(), p.CoinAmount.Units())
	lhs := new(big.Int).Mul(diff.Abs(diff), big.NewInt(10000))
	rhs := new(big.Int).Mul(p.CoinAmount.Units(), tolBps)
	if lhs.Cmp(rhs) > 0 {
		p.HoldReason = fmt.Sprintf("price_moved: quoted %s %s, now %s %s", p.CoinAmount, p.Coin, q.CoinAmount, p.Coin)
		return nil
	}
	p.CoinAmount, p.Price = q.CoinAmount, q.Price
	_, err = tx.Exec(ctx, "UPDATE payments SET coin_amount = ?, price = ? WHERE id = ?", p.CoinAmount.UnitsString(), p.Price.String(), p.ID)
	return err
}

func (s *Service) queuePayout(ctx context.Context, tx *store.Tx, p *Payment) error {
	adapter, err := s.Chains.Adapter(ctx, p.Sandbox, p.Chain)
	if err != nil {
		return err
	}
	payout, err := adapter.SubmitPayoutTx(ctx, tx, chain.PayoutRequest{Key: "onramp:" + p.ID, Asset: p.Coin, To: p.Wallet, Amount: p.CoinAmount.Units()})
	if err != nil {
		return fmt.Errorf("queue payout of payment %s: %w", p.ID, err)
	}
	p.PayoutID = payout.ID
	_, err = tx.Exec(ctx, "UPDATE payments SET payout_id = ? WHERE id = ?", payout.ID, p.ID)
	return err
}

// OnPayout follows the chain payout of a payment: confirmed → coins_sent with the transaction
// hash, the settlement postings and COINS_SENT; reverted → failed. It runs inside the chain
// adapter's transaction.
func (s *Service) OnPayout(ctx context.Context, tx *store.Tx, sandbox bool, po chain.Payout) error {
	id, ok := strings.CutPrefix(po.Key, "onramp:")
	if !ok || !po.Status.Final() {
		return nil
	}
	p, err := getTx(ctx, tx, "id = ?", id)
	if errors.Is(err, ErrPaymentNotFound) {
		return nil
	}
	if err != nil || p.Status != StatusPaymentReceived {
		return err
	}
	now := s.Now()
	if po.Status == chain.PayoutFailed {
		p.FailureReason = "payout_failed: " + po.Reason
		if err := setStatus(ctx, tx, &p, StatusFailed, now); err != nil {
			return err
		}
		return s.record(ctx, tx, p, event.PaymentFailed)
	}
	if err := s.settle(ctx, tx, p); err != nil {
		return err
	}
	p.TxID = po.TxHash
	if _, err := tx.Exec(ctx, "UPDATE payments SET txid = ? WHERE id = ?", p.TxID, p.ID); err != nil {
		return err
	}
	if err := setStatus(ctx, tx, &p, StatusCoinsSent, now); err != nil {
		return err
	}
	return s.record(ctx, tx, p, event.CoinsSent)
}

// settle posts the sale: the customer's fiat balance is cleared into fee revenue and the
// trading account, and the tokens leave the hot wallet for the customer's wallet.
func (s *Service) settle(ctx context.Context, tx *store.Tx, p Payment) error {
	fees, err := feesTotal(p)
	if err != nil {
		return err
	}
	cust, err := account(ctx, tx, p.Sandbox, ledger.KindCustomer, p.Fiat, "customer", fmt.Sprint(p.UserID), p.Fiat)
	if err != nil {
		return err
	}
	feeAcct, err := account(ctx, tx, p.Sandbox, ledger.KindFeeRevenue, p.Fiat, "fees", p.Fiat)
	if err != nil {
		return err
	}
	trading, err := account(ctx, tx, p.Sandbox, ledger.KindClearing, p.Fiat, "trading", p.Fiat)
	if err != nil {
		return err
	}
	token := TokenAsset(p.Coin, p.Chain)
	hot, err := account(ctx, tx, p.Sandbox, ledger.KindHotWallet, token, "hotwallet", p.Chain, p.Coin)
	if err != nil {
		return err
	}
	out, err := account(ctx, tx, p.Sandbox, ledger.KindExternal, token, "external", p.Chain, p.Coin)
	if err != nil {
		return err
	}
	g := p.FiatAmount.Units()
	postings := []ledger.Posting{{Account: cust, Asset: p.Fiat, Amount: g}}
	if fees.Sign() > 0 {
		postings = append(postings, ledger.Posting{Account: feeAcct, Asset: p.Fiat, Amount: new(big.Int).Neg(fees)})
	}
	if rest := new(big.Int).Sub(g, fees); rest.Sign() > 0 {
		postings = append(postings, ledger.Posting{Account: trading, Asset: p.Fiat, Amount: rest.Neg(rest)})
	}
	postings = append(postings, ledger.Transfer(hot, out, token, p.CoinAmount.Units())...)
	_, err = ledger.Post(ctx, tx, ledger.Transaction{Reference: "onramp:" + p.ID + ":settle",
		Description: fmt.Sprintf("sale of %s %s for payment %s", p.CoinAmount, p.Coin, p.ID), Postings: postings})
	return err
}

func feesTotal(p Payment) (*big.Int, error) {
	var f struct{ Total string }
	if err := jsonUnmarshal(p.Fees, &f); err != nil {
		return nil, err
	}
	a, err := money.Parse(f.Total, p.FiatAmount.Scale(), money.ParseOptions{})
	if err != nil {
		return nil, fmt.Errorf("payment %s fees: %w", p.ID, err)
	}
	return a.Units(), nil
}

// Fail ends an unpaid payment (sandbox failure, provider decline).
func (s *Service) Fail(ctx context.Context, integrationID int64, id, reason string) (Payment, error) {
	var p Payment
	err := s.DB.Tx(ctx, func(tx *store.Tx) error {
		var err error
		p, err = getTx(ctx, tx, "id = ? AND integration_id = ?", id, integrationID)
		if err != nil {
			return err
		}
		if p.Status != StatusStarted && p.Status != StatusPendingBank {
			return ErrInvalidTransition.With(fmt.Sprintf("a %s payment cannot fail", p.Status), nil)
		}
		p.FailureReason = reason
		if err := setStatus(ctx, tx, &p, StatusFailed, s.Now()); err != nil {
			return err
		}
		return s.record(ctx, tx, p, event.PaymentFailed)
	})
	return p, err
}

// MarkSent moves a bank-transfer payment to pending_bank when the customer says the transfer is
// on its way; other states are left as they are.
func (s *Service) MarkSent(ctx context.Context, id string) (Payment, error) {
	var p Payment
	err := s.DB.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if p, err = getTx(ctx, tx, "id = ?", id); err != nil {
			return err
		}
		if p.Status != StatusStarted || p.BankIBAN == "" {
			return nil
		}
		return setStatus(ctx, tx, &p, StatusPendingBank, s.Now())
	})
	return p, err
}

// ExpireDue expires unpaid payments past their expiry and returns how many.
func (s *Service) ExpireDue(ctx context.Context) (int, error) {
	rows, err := s.DB.Query(ctx, "SELECT id FROM payments WHERE status IN ('started', 'pending_bank') AND expires_at <= ? LIMIT 500", store.Micros(s.Now()))
	if err != nil {
		return 0, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	n := 0
	for _, id := range ids {
		err := s.DB.Tx(ctx, func(tx *store.Tx) error {
			p, err := getTx(ctx, tx, "id = ?", id)
			if err != nil || (p.Status != StatusStarted && p.Status != StatusPendingBank) || p.ExpiresAt.After(s.Now()) {
				return err
			}
			p.FailureReason = "not paid in time"
			if err := setStatus(ctx, tx, &p, StatusExpired, s.Now()); err != nil {
				return err
			}
			n++
			return s.record(ctx, tx, p, event.PaymentFailed)
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// RunExpiry expires due payments every interval until ctx ends.
func (s *Service) RunExpiry(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.ExpireDue(ctx)
		}
	}
}
