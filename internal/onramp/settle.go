package onramp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
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

// Ledger accounts: the ramps' shared keys (ramp.LedgerKey).
var (
	ledgerKey  = ramp.LedgerKey
	account    = ramp.Account
	tokenAsset = ramp.TokenAsset
)

func (s *Service) record(ctx context.Context, tx *store.Tx, p Payment, typ string) error {
	_, err := s.Events.Record(ctx, tx, s.Now(), p.IntegrationID, typ, "payment", p.ID, p.View())
	return err
}

func setStatus(ctx context.Context, tx *store.Tx, p *Payment, status Status, now time.Time) error {
	if !p.Status.CanMoveTo(status) {
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
func (s *Service) ReceiveTx(ctx context.Context, tx *store.Tx, id string, r Receipt) (_ Payment, err error) {
	defer errcode.Op("onramp.ReceiveTx", &err)
	ps, err := s.ReceiveManyTx(ctx, tx, []Arrival{{PaymentID: id, Receipt: r}})
	if err != nil {
		return Payment{}, err
	}
	return ps[0], nil
}

// Arrival is fiat that arrived for one payment.
type Arrival struct {
	PaymentID string
	Receipt   Receipt
	// Locked is the payment as this transaction read (and on PostgreSQL locked) it, unchanged
	// since: when every arrival has it, ReceiveManyTx does not read the payments again.
	Locked *Payment
}

// ReceiveManyTx is ReceiveTx for many payments, in order, with a constant number of statements
// per batch (read and lock the payments, ensure their ledger accounts, post, record the events,
// queue the payouts, update the payments) instead of a dozen per payment: what a statement
// import matching thousands of transfers needs. Every arrival is checked before anything is
// written; a payment named twice is received once (the second is ErrNotReconcilable).
func (s *Service) ReceiveManyTx(ctx context.Context, tx *store.Tx, arrivals []Arrival) ([]Payment, error) {
	byID, err := lockedPayments(ctx, tx, arrivals)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	ps := make([]Payment, len(arrivals))
	var accounts []ledger.Account
	for i, a := range arrivals {
		p, ok := byID[a.PaymentID]
		if !ok {
			return nil, ErrPaymentNotFound
		}
		if !p.Status.CanMoveTo(StatusPaymentReceived) {
			return nil, ErrNotReconcilable.With(fmt.Sprintf("payment %s is %s", p.ID, p.Status), nil)
		}
		if a.Receipt.Amount.Scale() != p.FiatAmount.Scale() || !a.Receipt.Amount.Equal(p.FiatAmount) {
			return nil, ErrAmountMismatch
		}
		byID[p.ID] = Payment{Status: StatusPaymentReceived} // a repeat in arrivals cannot transition again
		ps[i] = p
		accounts = append(accounts, customerAccount(p), receivingAccount(p, a.Receipt))
	}
	keys, err := ledger.EnsureAccounts(ctx, tx, accounts)
	if err != nil {
		return nil, err
	}
	posts := make([]ledger.Transaction, len(ps))
	for i, p := range ps {
		posts[i] = ledger.Transaction{Reference: "onramp:" + p.ID + ":payin",
			Description: fmt.Sprintf("fiat received for payment %s (%s)", p.ID, arrivals[i].Receipt.Source),
			Postings:    ledger.Transfer(keys[accounts[2*i].Key], keys[accounts[2*i+1].Key], p.Fiat, p.FiatAmount.Units())}
	}
	if _, err := ledger.PostMany(ctx, tx, posts); err != nil {
		return nil, err
	}
	settings := map[int64]Settings{}
	events := make([]event.New, len(ps))
	for i := range ps {
		p := &ps[i]
		r := arrivals[i].Receipt
		p.Holder = r.Holder
		p.ReceivedAmount, p.ReceivedAt = &r.Amount, now
		st, ok := settings[p.IntegrationID]
		if !ok {
			if st, err = SettingsOf(ctx, tx, p.IntegrationID); err != nil {
				return nil, err
			}
			settings[p.IntegrationID] = st
		}
		// A late transfer for an expired intent (its limit share released) must fit the
		// customer's limits again, or it is held.
		if err := s.recheckLimits(ctx, tx, p, now); err != nil {
			return nil, err
		}
		if p.HoldReason == "" {
			if err := s.reprice(ctx, p, st); err != nil {
				return nil, err
			}
		}
		p.Status, p.UpdatedAt = StatusPaymentReceived, now
		events[i] = event.New{IntegrationID: p.IntegrationID, Type: event.PayIn, ObjectType: "payment", ObjectID: p.ID, Data: p.View()}
	}
	if _, err := s.Events.RecordMany(ctx, tx, now, events); err != nil {
		return nil, err
	}
	if err := s.queuePayouts(ctx, tx, ps); err != nil {
		return nil, err
	}
	return ps, updateReceived(ctx, tx, ps)
}

func customerAccount(p Payment) ledger.Account {
	return ledger.Account{Key: ledgerKey(p.Sandbox, "customer", fmt.Sprint(p.UserID), p.Fiat), Kind: ledger.KindCustomer, Asset: p.Fiat}
}

// receivingAccount is where the fiat of a receipt sits before it is the customer's.
func receivingAccount(p Payment, r Receipt) ledger.Account {
	switch {
	case r.LedgerFrom != "":
		return ledger.Account{Key: r.LedgerFrom, Kind: ledger.KindSuspense, Asset: p.Fiat}
	case p.BankIBAN != "":
		return ledger.Account{Key: ledgerKey(p.Sandbox, "bank", p.BankIBAN, p.Fiat), Kind: ledger.KindBank, Asset: p.Fiat}
	}
	return ledger.Account{Key: ledgerKey(p.Sandbox, "provider", p.PaymentType, p.Fiat), Kind: ledger.KindProvider, Asset: p.Fiat}
}

// lockedPayments is the arrivals' payments by id: those the caller read in this transaction
// when it gives them all (a statement import, which read them by reference), else read and
// locked by lockPayments.
func lockedPayments(ctx context.Context, tx *store.Tx, arrivals []Arrival) (map[string]Payment, error) {
	byID := make(map[string]Payment, len(arrivals))
	for _, a := range arrivals {
		if a.Locked == nil || a.Locked.ID != a.PaymentID {
			ids := make([]string, len(arrivals))
			for i, a := range arrivals {
				ids[i] = a.PaymentID
			}
			return lockPayments(ctx, tx, ids)
		}
		byID[a.PaymentID] = *a.Locked
	}
	return byID, nil
}

// lockPayments reads (and on PostgreSQL locks, in id order) the payments with the given ids.
func lockPayments(ctx context.Context, tx *store.Tx, ids []string) (map[string]Payment, error) {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	found, err := payments.LockIn(ctx, tx, "id", sorted)
	out := make(map[string]Payment, len(found))
	for _, p := range found {
		out[p.ID] = p
	}
	return out, err
}

// updateReceived writes what receiving changed of each payment, one statement per few
// thousand payments.
func updateReceived(ctx context.Context, tx *store.Tx, ps []Payment) error {
	coin := "TEXT"
	if tx.Engine() == store.Postgres {
		coin = "NUMERIC"
	}
	types := []string{"TEXT", "TEXT", "BIGINT", "BIGINT", coin, "TEXT", "TEXT", "TEXT", "TEXT", "BIGINT", "BIGINT"}
	return store.Chunks(len(ps), store.RowsPerStatement(len(types)+1), func(from, to int) error {
		args := make([]any, 0, (len(types)+1)*(to-from))
		for _, p := range ps[from:to] {
			var payout any
			if p.PayoutID != 0 {
				payout = p.PayoutID
			}
			args = append(args, p.ID, nullableString(p.Holder), p.ReceivedAmount.Units().Int64(), store.Micros(p.ReceivedAt),
				p.CoinAmount.UnitsString(), p.Price.String(), p.Status, p.FailureReason, p.HoldReason, store.Micros(p.UpdatedAt), payout)
		}
		// On PostgreSQL the ids again as an IN list, redundant for the result: joined with
		// the VALUES alone the planner hashes them against a sequential scan of every payment
		// (11.6 s of a 100,000-line import's 64 statements); with the list it reads the rows
		// by primary key. SQLite already probes the primary key per VALUES row.
		only := ""
		if tx.Engine() == store.Postgres {
			only = " AND payments.id IN (" + store.In(to-from) + ")"
			for _, p := range ps[from:to] {
				args = append(args, p.ID)
			}
		}
		_, err := tx.Exec(ctx, `UPDATE payments SET holder = v.column2, received_amount = v.column3, received_at = v.column4,
			coin_amount = v.column5, price = v.column6, status = v.column7, failure_reason = v.column8, hold_reason = v.column9,
			updated_at = v.column10, payout_id = v.column11
			FROM (VALUES `+store.TypedValues(to-from, types)+`) AS v WHERE payments.id = v.column1`+only, args...)
		return err
	})
}

func nullableString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// recheckLimits holds a late payment that no longer fits the customer's limits. An intent past
// its expiry released its share of the limits (book), and the customer may have used it
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
// The caller writes the new amount and price.
func (s *Service) reprice(ctx context.Context, p *Payment, st Settings) error {
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
	return nil
}

// queuePayouts queues the chain payout of every payment not held, one batch per chain, and
// sets their PayoutID (written by the caller).
func (s *Service) queuePayouts(ctx context.Context, tx *store.Tx, ps []Payment) error {
	type target struct {
		sandbox bool
		chain   string
	}
	var order []target
	groups := map[target][]int{}
	for i, p := range ps {
		if p.HoldReason != "" {
			continue
		}
		t := target{p.Sandbox, p.Chain}
		if _, ok := groups[t]; !ok {
			order = append(order, t)
		}
		groups[t] = append(groups[t], i)
	}
	for _, t := range order {
		adapter, err := s.Chains.Adapter(ctx, t.sandbox, t.chain)
		if err != nil {
			return err
		}
		reqs := make([]chain.PayoutRequest, len(groups[t]))
		for k, i := range groups[t] {
			p := ps[i]
			reqs[k] = chain.PayoutRequest{Key: "onramp:" + p.ID, Asset: p.Coin, To: p.Wallet, Amount: p.CoinAmount.Units()}
		}
		payouts, err := chain.SubmitPayoutsTx(ctx, adapter, tx, reqs)
		if err != nil {
			return fmt.Errorf("queue payout of payment %s: %w", ps[groups[t][0]].ID, err)
		}
		for k, i := range groups[t] {
			ps[i].PayoutID = payouts[k].ID
		}
	}
	return nil
}

// queuePayout queues one payment's chain payout and records it on the payment.
func (s *Service) queuePayout(ctx context.Context, tx *store.Tx, p *Payment) error {
	ps := []Payment{*p}
	if err := s.queuePayouts(ctx, tx, ps); err != nil {
		return err
	}
	p.PayoutID = ps[0].PayoutID
	_, err := tx.Exec(ctx, "UPDATE payments SET payout_id = ? WHERE id = ?", p.PayoutID, p.ID)
	return err
}

// OnPayout follows the chain payout of a payment: confirmed → coins_sent with the transaction
// hash, the settlement postings and COINS_SENT; reverted → failed. It runs inside the chain
// adapter's transaction.
func (s *Service) OnPayout(ctx context.Context, tx *store.Tx, sandbox bool, po chain.Payout) (err error) {
	defer errcode.Op("onramp.OnPayout", &err)
	id, ok := strings.CutPrefix(po.Key, "onramp:")
	if !ok || !po.Status.Final() {
		return nil
	}
	p, err := getTx(ctx, tx, "id = ?", id)
	if errors.Is(err, ErrPaymentNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if p.Status == StatusCoinsSent && po.Status == chain.PayoutConfirmed && po.TxHash != "" && po.TxHash != p.TxID {
		// A deep reorg orphaned the payout's transaction and a fee bump of it was mined
		// instead: same payment, the txid that is on the chain now.
		_, err := tx.Exec(ctx, "UPDATE payments SET txid = ?, updated_at = ? WHERE id = ?", po.TxHash, store.Micros(s.Now()), p.ID)
		return err
	}
	if p.Status != StatusPaymentReceived {
		return nil
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
	token := tokenAsset(p.Coin, p.Chain)
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
func (s *Service) Fail(ctx context.Context, integrationID int64, id, reason string) (_ Payment, err error) {
	defer errcode.Op("onramp.Fail", &err)
	var p Payment
	err = s.DB.Tx(ctx, func(tx *store.Tx) error {
		var err error
		p, err = getTx(ctx, tx, "id = ? AND integration_id = ?", id, integrationID)
		if err != nil {
			return err
		}
		if !p.Status.Open() {
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
func (s *Service) MarkSent(ctx context.Context, id string) (_ Payment, err error) {
	defer errcode.Op("onramp.MarkSent", &err)
	var p Payment
	err = s.DB.Tx(ctx, func(tx *store.Tx) error {
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
func (s *Service) ExpireDue(ctx context.Context) (_ int, err error) {
	defer errcode.Op("onramp.ExpireDue", &err)
	return ramp.Expiry{DB: s.DB, Book: book, Now: s.Now, Expire: s.expire}.Due(ctx)
}

// expire expires payment id if it still waits for its fiat past its expiry.
func (s *Service) expire(ctx context.Context, tx *store.Tx, id string, now time.Time) (bool, error) {
	p, err := getTx(ctx, tx, "id = ?", id)
	if err != nil || !p.Status.Open() || p.ExpiresAt.After(now) {
		return false, err
	}
	p.FailureReason = "not paid in time"
	if err := setStatus(ctx, tx, &p, StatusExpired, now); err != nil {
		return false, err
	}
	return true, s.record(ctx, tx, p, event.PaymentFailed)
}

// RunExpiry expires due payments every interval until ctx ends.
func (s *Service) RunExpiry(ctx context.Context, interval time.Duration) {
	ramp.Every(ctx, interval, func(ctx context.Context) {
		if _, err := s.ExpireDue(ctx); err != nil && ctx.Err() == nil {
			slog.Error("on-ramp expiry", "err", err)
		}
	})
}
