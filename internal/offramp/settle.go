package offramp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/pocketramp/pocketramp/internal/bankacct"
	"github.com/pocketramp/pocketramp/internal/banking"
	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/event"
	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/pricing"
	"github.com/pocketramp/pocketramp/internal/ramp"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Ledger accounts: the ramps' shared keys (ramp.LedgerKey).
var (
	ledgerKey  = ramp.LedgerKey
	account    = ramp.Account
	tokenAsset = ramp.TokenAsset
)

// KindNetworkFees is the account kind of gas burnt by sweeps.
const KindNetworkFees ledger.Kind = "network_fees"

func customerFiatKey(r Rampoff) string {
	return ledgerKey(r.Sandbox, "customer", fmt.Sprint(r.UserID), r.Fiat)
}

func (s *records) record(ctx context.Context, tx *store.Tx, r Rampoff, typ string) error {
	_, err := s.Events.Record(ctx, tx, s.Now(), r.IntegrationID, typ, "rampoff", r.ID, r.View())
	return err
}

func setStatus(ctx context.Context, tx *store.Tx, r *Rampoff, status Status, now time.Time) error {
	if !r.Status.CanMoveTo(status) {
		return ErrInvalidTransition.With(fmt.Sprintf("off-ramp %s cannot go from %s to %s", r.ID, r.Status, status), nil)
	}
	r.Status, r.UpdatedAt = status, now
	var received, receivedAt, txid any
	if r.ReceivedAmount != nil {
		received, receivedAt = r.ReceivedAmount.UnitsString(), store.Micros(r.ReceivedAt)
	}
	if r.DepositTxID != "" {
		txid = r.DepositTxID
	}
	_, err := tx.Exec(ctx, `UPDATE rampoffs SET status = ?, hold_reason = ?, failure_reason = ?, fiat_amount = ?, price = ?,
		received_amount = ?, received_at = ?, deposit_txid = ?, updated_at = ? WHERE id = ?`,
		status, r.HoldReason, r.FailureReason, r.FiatAmount.Units().Int64(), r.Price.String(), received, receivedAt, txid,
		store.Micros(now), r.ID)
	return err
}

// Deposit is a confirmed chain deposit to an off-ramp's address and what became of it.
type Deposit struct {
	ID             int64
	RampoffID      string
	ChainDepositID int64
	Network        string
	Chain          string
	Address        string
	HDIndex        uint32
	Asset          string
	Amount         money.Amount
	From           string
	TxHash         string
	Sandbox        bool
	Status         string // applied, held, refund_pending, refunded, refund_failed
	Reason         string
	Reorged        bool
	RefundTo       string
	RefundTxID     string
	SweepStatus    string // pending, sending, sent, swept, failed (sandbox); operator (live, or native coins)
	SweepTxID      string
	SweepError     string
	CreatedAt      time.Time
}

const depositColumns = `id, rampoff_id, chain_deposit_id, network, chain, address, hd_index, asset, decimals, amount, from_address,
	tx_hash, sandbox, status, reason, reorged, refund_to, refund_txid, sweep_status, sweep_txid, sweep_error, created_at`

func scanDeposit(row interface{ Scan(...any) error }) (Deposit, error) {
	var d Deposit
	var idx, created int64
	var decimals int
	var amount string
	err := row.Scan(&d.ID, &d.RampoffID, &d.ChainDepositID, &d.Network, &d.Chain, &d.Address, &idx, &d.Asset, &decimals, &amount,
		&d.From, &d.TxHash, &d.Sandbox, &d.Status, &d.Reason, &d.Reorged, &d.RefundTo, &d.RefundTxID, &d.SweepStatus, &d.SweepTxID,
		&d.SweepError, &created)
	if err != nil {
		return Deposit{}, err
	}
	d.HDIndex, d.CreatedAt = uint32(idx), store.Time(created)
	d.Amount, err = money.ParseUnits(amount, decimals, money.ParseOptions{})
	return d, err
}

func queryDeposits(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (*sql.Rows, error)
}, where string, args ...any) ([]Deposit, error) {
	rows, err := q.Query(ctx, "SELECT "+depositColumns+" FROM rampoff_deposits WHERE "+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Deposit{}
	for rows.Next() {
		d, err := scanDeposit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Deposits lists the confirmed deposits of an off-ramp, oldest first.
func (s *Service) Deposits(ctx context.Context, id string) (_ []Deposit, err error) {
	defer errcode.Op("offramp.Deposits", &err)
	return queryDeposits(ctx, s.DB, "rampoff_id = ? ORDER BY id", id)
}

// isGasTopUp recognises the sandbox faucet's native transfers to deposit addresses (the gas
// for sweeping them): they are the operator's own movements, booked by the sweep.
func (s *Service) isGasTopUp(d chain.Deposit) bool {
	if d.Token != "" {
		return false
	}
	f, ok := s.faucets.Load(d.Chain)
	return ok && strings.EqualFold(f.(common.Address).Hex(), d.From)
}

// OnDeposit follows the deposits to off-ramp addresses; it runs inside the chain adapter's
// transaction. Credited deposits are booked and decided (paid, or held for the operator);
// pending ones only record the transaction hash; a credited deposit whose block left the chain
// is flagged and logged for the operator (the adapter credits it again if it is re-mined).
func (s *Service) OnDeposit(ctx context.Context, tx *store.Tx, sandbox bool, d chain.Deposit) (err error) {
	defer errcode.Op("offramp.OnDeposit", &err)
	id, ok := strings.CutPrefix(d.Ref, RefPrefix)
	if !ok || s.isGasTopUp(d) {
		return nil
	}
	r, err := s.getTx(ctx, tx, "id = ?", id)
	if errors.Is(err, ErrRampoffNotFound) {
		s.log().Error("deposit to an off-ramp address without an off-ramp", "ref", d.Ref, "tx", d.TxHash)
		return nil
	}
	if err != nil {
		return err
	}
	switch d.Status {
	case chain.DepositPending:
		if r.Status == StatusPending && r.DepositTxID == "" && strings.EqualFold(d.Asset, r.Coin) {
			_, err = tx.Exec(ctx, "UPDATE rampoffs SET deposit_txid = ? WHERE id = ?", d.TxHash, r.ID)
		}
		return err
	case chain.DepositCredited:
		return s.credit(ctx, tx, r, d)
	case chain.DepositReorged, chain.DepositDropped:
		res, err := tx.Exec(ctx, "UPDATE rampoff_deposits SET reorged = ?, updated_at = ? WHERE chain_deposit_id = ?", true, store.Micros(s.Now()), d.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			s.log().Error("a credited off-ramp deposit left the chain; check the operation", "rampoff", r.ID, "tx", d.TxHash, "status", d.Status)
		} else if r.Status == StatusPending && r.DepositTxID == d.TxHash {
			_, err = tx.Exec(ctx, "UPDATE rampoffs SET deposit_txid = NULL WHERE id = ?", r.ID)
		}
		return err
	}
	return nil
}

// sale is the fiat side of selling amount at price: gross rounded down, the percentage fees
// recomputed on it, the network fee as quoted.
type sale struct {
	gross, fees, net money.Amount
	processing       money.Amount
	partner          money.Amount
	network          money.Amount
}

func (r Rampoff) sale(amount money.Amount, price money.Rate) sale {
	scale := r.FiatAmount.Scale()
	gross, _ := money.Convert(amount, price, scale)
	network := money.MustParse(r.Fees.Network, scale)
	markup, _ := money.ParsePercent(fmt.Sprintf("%d.%02d", r.MarkupBps/100, r.MarkupBps%100))
	sl := sale{gross: gross, processing: money.Percent(gross, r.FeePercent), partner: money.Percent(gross, markup), network: network}
	sl.fees = sl.processing.Add(sl.network).Add(sl.partner)
	sl.net = gross.Sub(sl.fees)
	return sl
}

// withinTolerance reports |received − quoted| ≤ quoted × tolerance.
func (r Rampoff) withinTolerance(received money.Amount) bool {
	diff := new(big.Int).Sub(received.Units(), r.Amount.Units())
	lhs := new(big.Int).Mul(diff.Abs(diff), big.NewInt(10000))
	rhs := new(big.Int).Mul(r.Amount.Units(), big.NewInt(r.ToleranceBps))
	return lhs.Cmp(rhs) <= 0
}

func (s *Service) decimalsOf(ctx context.Context, symbol, chainName string, native bool) int {
	if a, err := s.Assets.Get(ctx, symbol, chainName); err == nil {
		return a.Decimals
	}
	if native {
		return 18
	}
	return 0
}

// credit books a confirmed deposit and decides it by the amount policy (package doc).
func (s *Service) credit(ctx context.Context, tx *store.Tx, r Rampoff, d chain.Deposit) error {
	var rowID int64
	var reorged bool
	err := tx.QueryRow(ctx, "SELECT id, reorged FROM rampoff_deposits WHERE chain_deposit_id = ?", d.ID).Scan(&rowID, &reorged)
	if err == nil {
		if reorged { // the same transfer is back on the canonical chain
			_, err = tx.Exec(ctx, "UPDATE rampoff_deposits SET reorged = ?, updated_at = ? WHERE id = ?", false, store.Micros(s.Now()), rowID)
		}
		return err
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	sameAsset := strings.EqualFold(d.Asset, r.Coin)
	decimals := r.Amount.Scale()
	if !sameAsset {
		decimals = s.decimalsOf(ctx, d.Asset, r.Chain, d.Token == "")
	}
	amount := money.New(d.Amount, decimals)
	now := s.Now()
	var reason string
	var sl sale
	extra := false
	switch {
	case r.Status == StatusExpired || (r.Status == StatusPending && !now.Before(r.ExpiresAt)):
		reason = fmt.Sprintf("late_deposit: %s %s arrived after the deposit window closed at %s", amount, d.Asset, Timestamp(r.ExpiresAt))
	case r.Status != StatusPending:
		extra = true
		reason = fmt.Sprintf("extra_deposit: %s %s arrived on an operation already %s", amount, d.Asset, r.Status)
	case !sameAsset:
		reason = fmt.Sprintf("wrong_token: received %s %s, expected %s %s", amount, d.Asset, r.Amount, r.Coin)
	case !r.withinTolerance(amount):
		reason = fmt.Sprintf("amount_outside_tolerance: received %s %s, expected %s %s (tolerance %s%%)", amount, d.Asset, r.Amount, r.Coin,
			money.FromInt64(r.ToleranceBps, 2))
	default:
		if sl = r.sale(amount, r.Price); sl.net.Sign() <= 0 {
			reason = fmt.Sprintf("amount_too_small: received %s %s does not cover the fees", amount, d.Asset)
		}
	}
	status := "applied"
	if reason != "" {
		status = "held"
	}
	sweep := "operator" // live chains: the operator sweeps with the xprv; native coins: swept by hand
	if r.Sandbox && d.Token != "" {
		sweep = "pending"
	}
	err = tx.QueryRow(ctx, `INSERT INTO rampoff_deposits (rampoff_id, chain_deposit_id, network, chain, address, hd_index, asset, decimals,
		amount, from_address, tx_hash, sandbox, status, reason, sweep_status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		r.ID, d.ID, d.Chain, r.Chain, r.DepositAddress, int64(r.DepositIndex), strings.ToUpper(d.Asset), decimals, d.Amount.String(),
		d.From, d.TxHash, r.Sandbox, status, reason, sweep, store.Micros(now), store.Micros(now)).Scan(&rowID)
	if err != nil {
		return err
	}
	token := tokenAsset(strings.ToUpper(d.Asset), r.Chain)
	depAcct, err := account(ctx, tx, r.Sandbox, ledger.KindDepositAddress, token, "deposit", r.Chain, r.DepositAddress, strings.ToUpper(d.Asset))
	if err != nil {
		return err
	}
	if status == "held" {
		// Held tokens are owed to the customer until released or refunded.
		owed, err := account(ctx, tx, r.Sandbox, ledger.KindCustomer, token, "customer", fmt.Sprint(r.UserID), strings.ToUpper(d.Asset), r.Chain)
		if err != nil {
			return err
		}
		if _, err := ledger.Post(ctx, tx, ledger.Transaction{Reference: fmt.Sprintf("offramp:deposit:%d:held", rowID),
			Description: fmt.Sprintf("deposit held for off-ramp %s: %s", r.ID, reason),
			Postings:    ledger.Transfer(owed, depAcct, token, d.Amount)}); err != nil {
			return err
		}
		if extra {
			s.log().Warn("extra deposit held on an off-ramp", "rampoff", r.ID, "tx", d.TxHash, "reason", reason)
			return nil
		}
		r.HoldReason = reason
		if sameAsset {
			r.ReceivedAmount, r.ReceivedAt = &amount, now
		}
		r.DepositTxID = d.TxHash
		if err := setStatus(ctx, tx, &r, StatusCryptoReceived, now); err != nil {
			return err
		}
		return s.record(ctx, tx, r, event.CryptoReceived)
	}
	ext, err := account(ctx, tx, r.Sandbox, ledger.KindExternal, token, "external", r.Chain, r.Coin)
	if err != nil {
		return err
	}
	r.ReceivedAmount, r.ReceivedAt, r.DepositTxID, r.FiatAmount = &amount, now, d.TxHash, sl.net
	if err := s.postSale(ctx, tx, r, "received", sl, ledger.Transfer(ext, depAcct, token, d.Amount)); err != nil {
		return err
	}
	if err := setStatus(ctx, tx, &r, StatusCryptoReceived, now); err != nil {
		return err
	}
	if err := s.record(ctx, tx, r, event.CryptoReceived); err != nil {
		return err
	}
	return s.payout(ctx, tx, &r)
}

// postSale posts the token postings given and the fiat side of a sale: trading +gross, fee
// revenue −fees, customer −net (owed).
func (s *Service) postSale(ctx context.Context, tx *store.Tx, r Rampoff, step string, sl sale, tokens []ledger.Posting) error {
	cust, err := ledger.EnsureAccount(ctx, tx, ledger.Account{Key: customerFiatKey(r), Kind: ledger.KindCustomer, Asset: r.Fiat})
	if err != nil {
		return err
	}
	trading, err := account(ctx, tx, r.Sandbox, ledger.KindClearing, r.Fiat, "trading", r.Fiat)
	if err != nil {
		return err
	}
	feeAcct, err := account(ctx, tx, r.Sandbox, ledger.KindFeeRevenue, r.Fiat, "fees", r.Fiat)
	if err != nil {
		return err
	}
	postings := append([]ledger.Posting{}, tokens...)
	if sl.gross.Sign() > 0 {
		postings = append(postings, ledger.Posting{Account: trading, Asset: r.Fiat, Amount: sl.gross.Units()})
	}
	if sl.fees.Sign() != 0 {
		postings = append(postings, ledger.Posting{Account: feeAcct, Asset: r.Fiat, Amount: sl.fees.Neg().Units()})
	}
	postings = append(postings, ledger.Posting{Account: cust, Asset: r.Fiat, Amount: sl.net.Neg().Units()})
	_, err = ledger.Post(ctx, tx, ledger.Transaction{Reference: "offramp:" + r.ID + ":" + step,
		Description: fmt.Sprintf("purchase of %s from off-ramp %s for %s %s", r.Coin, r.ID, sl.net, r.Fiat), Postings: postings})
	return err
}

// payout queues the fiat payout and moves the operation to processing: a SEPA payout through
// banking (pain.001), or for LATAM a local payout instruction the operator executes and
// confirms.
func (s *Service) payout(ctx context.Context, tx *store.Tx, r *Rampoff) error {
	if r.PayoutKind == PayoutSEPA {
		p, err := s.Banking.QueuePayoutTx(ctx, tx, r.OperatorIBAN, banking.PayoutRequest{Reference: RefPrefix + r.ID, Amount: r.FiatAmount,
			CreditorName: r.Beneficiary, CreditorIBAN: r.PayoutAccount, Remittance: "pocketramp sale " + r.ID}, customerFiatKey(*r))
		if err != nil {
			return fmt.Errorf("queue payout of off-ramp %s: %w", r.ID, err)
		}
		r.BankPayoutID = p.ID
		if _, err := tx.Exec(ctx, "UPDATE rampoffs SET bank_payout_id = ? WHERE id = ?", p.ID, r.ID); err != nil {
			return err
		}
	} else {
		cust, err := ledger.EnsureAccount(ctx, tx, ledger.Account{Key: customerFiatKey(*r), Kind: ledger.KindCustomer, Asset: r.Fiat})
		if err != nil {
			return err
		}
		payable, err := account(ctx, tx, r.Sandbox, ledger.KindClearing, r.Fiat, "offramp", "local_payouts", r.Fiat)
		if err != nil {
			return err
		}
		if _, err := ledger.Post(ctx, tx, ledger.Transaction{Reference: "offramp:" + r.ID + ":local_payout",
			Description: fmt.Sprintf("local payout of off-ramp %s to %s (%s)", r.ID, r.Beneficiary, r.BankName),
			Postings:    ledger.Transfer(payable, cust, r.Fiat, r.FiatAmount.Units())}); err != nil {
			return err
		}
	}
	return setStatus(ctx, tx, r, StatusProcessing, s.Now())
}

// PayoutSettled follows the bank payout of an off-ramp (banking.PayoutHandler): its debit on
// the statement finishes the operation, a return fails it. It runs in the import transaction.
func (s *BankOutcomes) PayoutSettled(ctx context.Context, tx *store.Tx, reference string, returned bool) (err error) {
	defer errcode.Op("offramp.PayoutSettled", &err)
	id, ok := strings.CutPrefix(reference, RefPrefix)
	if !ok {
		return nil
	}
	r, err := s.getTx(ctx, tx, "id = ?", id)
	if errors.Is(err, ErrRampoffNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	now := s.Now()
	if !returned {
		if r.Status != StatusProcessing {
			return nil
		}
		if err := setStatus(ctx, tx, &r, StatusFinished, now); err != nil {
			return err
		}
		return s.record(ctx, tx, r, event.TransferRampoffFinished)
	}
	if r.Status != StatusProcessing && r.Status != StatusFinished {
		return nil
	}
	r.FailureReason = "payout_returned: the bank returned the payout to " + bankacct.Mask(r.PayoutAccount) + "; the customer is owed " + r.FiatAmount.String() + " " + r.Fiat
	if err := setStatus(ctx, tx, &r, StatusFailed, now); err != nil {
		return err
	}
	return s.record(ctx, tx, r, event.RampoffFailed)
}

// PayoutCancelled fails an off-ramp whose bank payout the operator cancelled
// (banking.PayoutCanceller); banking has already put the money back on the customer's account.
func (s *BankOutcomes) PayoutCancelled(ctx context.Context, tx *store.Tx, reference, note string) (err error) {
	defer errcode.Op("offramp.PayoutCancelled", &err)
	id, ok := strings.CutPrefix(reference, RefPrefix)
	if !ok {
		return nil
	}
	r, err := s.getTx(ctx, tx, "id = ?", id)
	if errors.Is(err, ErrRampoffNotFound) {
		return nil
	}
	if err != nil || r.Status != StatusProcessing {
		return err
	}
	r.FailureReason = "payout_cancelled: the operator cancelled the payout to " + bankacct.Mask(r.PayoutAccount) + " (" + note + "); the customer is owed " +
		r.FiatAmount.String() + " " + r.Fiat
	if err := setStatus(ctx, tx, &r, StatusFailed, s.Now()); err != nil {
		return err
	}
	return s.record(ctx, tx, r, event.RampoffFailed)
}

var (
	_ banking.PayoutHandler   = (*BankOutcomes)(nil)
	_ banking.PayoutCanceller = (*BankOutcomes)(nil)
)

// ConfirmPayout records that the operator paid a LATAM payout from its local account:
// processing → finished with TRANSFER_RAMPOFF_FINISHED. SEPA payouts are confirmed by the
// bank statement instead.
func (s *Service) ConfirmPayout(ctx context.Context, id, reference string) (_ Rampoff, err error) {
	defer errcode.Op("offramp.ConfirmPayout", &err)
	var r Rampoff
	err = s.DB.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if r, err = s.getTx(ctx, tx, "id = ?", id); err != nil {
			return err
		}
		if r.PayoutKind != PayoutLocal {
			return ErrInvalidTransition.With("SEPA payouts are confirmed by the bank statement", nil)
		}
		if r.Status != StatusProcessing {
			return ErrInvalidTransition.With(fmt.Sprintf("a %s off-ramp has no payout to confirm", r.Status), nil)
		}
		payable, err := account(ctx, tx, r.Sandbox, ledger.KindClearing, r.Fiat, "offramp", "local_payouts", r.Fiat)
		if err != nil {
			return err
		}
		bank, err := account(ctx, tx, r.Sandbox, ledger.KindBank, r.Fiat, "bank", "local", r.Fiat)
		if err != nil {
			return err
		}
		if _, err := ledger.Post(ctx, tx, ledger.Transaction{Reference: "offramp:" + r.ID + ":local_paid",
			Description: fmt.Sprintf("local payout of off-ramp %s paid (%s)", r.ID, reference),
			Postings:    ledger.Transfer(bank, payable, r.Fiat, r.FiatAmount.Units())}); err != nil {
			return err
		}
		r.ConfirmedBy = strings.TrimSpace(reference)
		if _, err := tx.Exec(ctx, "UPDATE rampoffs SET payout_confirmed_by = ? WHERE id = ?", r.ConfirmedBy, r.ID); err != nil {
			return err
		}
		if err := setStatus(ctx, tx, &r, StatusFinished, s.Now()); err != nil {
			return err
		}
		return s.record(ctx, tx, r, event.TransferRampoffFinished)
	})
	return r, err
}

// Release pays the held deposits of a held operation and queues its payout: at the quoted
// price when they are the quoted token (unless reprice), at the current price otherwise.
func (s *Service) Release(ctx context.Context, id string, reprice bool) (_ Rampoff, err error) {
	defer errcode.Op("offramp.Release", &err)
	var r Rampoff
	err = s.DB.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if r, err = s.getTx(ctx, tx, "id = ?", id); err != nil {
			return err
		}
		if r.Status != StatusCryptoReceived || r.HoldReason == "" {
			return ErrNotHeld.With(fmt.Sprintf("off-ramp %s is %s and not held", r.ID, r.Status), nil)
		}
		held, err := queryDeposits(ctx, tx, "rampoff_id = ? AND status = 'held' ORDER BY id", r.ID)
		if err != nil {
			return err
		}
		if len(held) == 0 {
			return ErrNotHeld.With("no held deposit to release", nil)
		}
		sym := held[0].Asset
		total := money.Zero(held[0].Amount.Scale())
		for _, d := range held {
			if d.Asset != sym {
				return ErrNotHeld.With("the held deposits are of different assets; refund them", nil)
			}
			total = total.Add(d.Amount)
		}
		price := r.Price
		var sl sale
		if sym != r.Coin || reprice {
			st, err := SettingsOf(ctx, tx, r.IntegrationID)
			if err != nil {
				return err
			}
			a, err := s.sellable(ctx, r.Sandbox, st, sym, r.Chain)
			if err != nil {
				return ErrNotHeld.With(sym+" cannot be sold here; refund it", nil)
			}
			q, err := s.Pricer.Sell(ctx, s.params(r.IntegrationID, r.Sandbox, st, a, r.Fiat), total, r.FiatAmount.Scale())
			if errors.Is(err, pricing.ErrTooSmall) {
				return ErrNotHeld.With("the held amount does not cover the fees; refund it", nil)
			}
			if err != nil {
				return err
			}
			price = q.Price
			sl = sale{gross: q.FiatAmount.Add(q.Fees.Total), fees: q.Fees.Total, net: q.FiatAmount}
		} else {
			sl = r.sale(total, price)
		}
		if sl.net.Sign() <= 0 {
			return ErrNotHeld.With("the held amount does not cover the fees; refund it", nil)
		}
		token := tokenAsset(sym, r.Chain)
		owed, err := account(ctx, tx, r.Sandbox, ledger.KindCustomer, token, "customer", fmt.Sprint(r.UserID), sym, r.Chain)
		if err != nil {
			return err
		}
		ext, err := account(ctx, tx, r.Sandbox, ledger.KindExternal, token, "external", r.Chain, sym)
		if err != nil {
			return err
		}
		if err := s.postSale(ctx, tx, r, "released", sl, ledger.Transfer(ext, owed, token, total.Units())); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE rampoff_deposits SET status = 'applied', updated_at = ? WHERE rampoff_id = ? AND status = 'held'",
			store.Micros(s.Now()), r.ID); err != nil {
			return err
		}
		if sym == r.Coin {
			r.ReceivedAmount = &total
		}
		r.Price, r.FiatAmount, r.HoldReason = price, sl.net, ""
		return s.payout(ctx, tx, &r)
	})
	return r, err
}

// Refund sends every held deposit of an operation back from the hot wallet, to the sender or to
// the address given. A held operation fails (RAMPOFF_FAILED); one whose held deposits were
// extra keeps its status. The refund is booked when its chain payout confirms (OnPayout).
func (s *Service) Refund(ctx context.Context, id, to string) (_ Rampoff, err error) {
	defer errcode.Op("offramp.Refund", &err)
	r, err := s.GetAny(ctx, id)
	if err != nil {
		return Rampoff{}, err
	}
	adapter, err := s.Chains.Adapter(ctx, r.Sandbox, r.Chain)
	if err != nil {
		return Rampoff{}, err
	}
	if to = strings.TrimSpace(to); to != "" {
		if to, err = adapter.ValidateAddress(to); err != nil {
			return Rampoff{}, errcode.Field("address", "The address is not a valid %s address.", r.Chain)
		}
	}
	err = s.DB.Tx(ctx, func(tx *store.Tx) error {
		if r, err = s.getTx(ctx, tx, "id = ?", id); err != nil {
			return err
		}
		held, err := queryDeposits(ctx, tx, "rampoff_id = ? AND status = 'held' ORDER BY id", r.ID)
		if err != nil {
			return err
		}
		if len(held) == 0 {
			return ErrNothingToRefund
		}
		for _, d := range held {
			dest := to
			if dest == "" {
				dest = d.From
			}
			po, err := adapter.SubmitPayoutTx(ctx, tx, chain.PayoutRequest{Key: fmt.Sprintf("offramp-refund:%d", d.ID), Asset: d.Asset,
				To: dest, Amount: d.Amount.Units()})
			if err != nil {
				return fmt.Errorf("refund deposit %d: %w", d.ID, err)
			}
			if _, err := tx.Exec(ctx, "UPDATE rampoff_deposits SET status = 'refund_pending', refund_to = ?, refund_payout_id = ?, updated_at = ? WHERE id = ?",
				dest, po.ID, store.Micros(s.Now()), d.ID); err != nil {
				return err
			}
		}
		if r.Status != StatusCryptoReceived || r.HoldReason == "" {
			return nil
		}
		r.FailureReason = "refunded: " + r.HoldReason
		if err := setStatus(ctx, tx, &r, StatusFailed, s.Now()); err != nil {
			return err
		}
		return s.record(ctx, tx, r, event.RampoffFailed)
	})
	return r, err
}

// OnPayout follows refund payouts from the hot wallet; it runs inside the chain adapter's
// transaction. Confirmed: the customer is no longer owed the tokens; failed: the deposit stays
// owed (refund_failed) for the operator.
func (s *Service) OnPayout(ctx context.Context, tx *store.Tx, sandbox bool, po chain.Payout) (err error) {
	defer errcode.Op("offramp.OnPayout", &err)
	key, ok := strings.CutPrefix(po.Key, "offramp-refund:")
	if !ok || !po.Status.Final() {
		return nil
	}
	rowID, err := strconv.ParseInt(key, 10, 64)
	if err != nil {
		return nil
	}
	ds, err := queryDeposits(ctx, tx, "id = ? AND status = 'refund_pending'", rowID)
	if err != nil {
		return err
	}
	if len(ds) == 0 {
		if po.Status == chain.PayoutConfirmed && po.TxHash != "" {
			// A deep reorg orphaned a confirmed refund's transaction and a fee bump of it was
			// mined instead: the refund carries the txid that is on the chain now.
			_, err = tx.Exec(ctx, "UPDATE rampoff_deposits SET refund_txid = ?, updated_at = ? WHERE id = ? AND status = 'refunded' AND refund_txid <> ?",
				po.TxHash, store.Micros(s.Now()), rowID, po.TxHash)
		}
		return err
	}
	d := ds[0]
	if po.Status == chain.PayoutFailed {
		_, err := tx.Exec(ctx, "UPDATE rampoff_deposits SET status = 'refund_failed', reason = reason || ?, updated_at = ? WHERE id = ?",
			"; refund failed: "+po.Reason, store.Micros(s.Now()), d.ID)
		return err
	}
	var userID int64
	if err := tx.QueryRow(ctx, "SELECT user_id FROM rampoffs WHERE id = ?", d.RampoffID).Scan(&userID); err != nil {
		return err
	}
	token := tokenAsset(d.Asset, d.Chain)
	owed, err := account(ctx, tx, d.Sandbox, ledger.KindCustomer, token, "customer", fmt.Sprint(userID), d.Asset, d.Chain)
	if err != nil {
		return err
	}
	hot, err := account(ctx, tx, d.Sandbox, ledger.KindHotWallet, token, "hotwallet", d.Chain, d.Asset)
	if err != nil {
		return err
	}
	if _, err := ledger.Post(ctx, tx, ledger.Transaction{Reference: fmt.Sprintf("offramp:deposit:%d:refunded", d.ID),
		Description: fmt.Sprintf("held deposit of off-ramp %s refunded to %s (%s)", d.RampoffID, po.To, po.TxHash),
		Postings:    ledger.Transfer(hot, owed, token, d.Amount.Units())}); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "UPDATE rampoff_deposits SET status = 'refunded', refund_txid = ?, updated_at = ? WHERE id = ?", po.TxHash, store.Micros(s.Now()), d.ID)
	return err
}

// ExpireDue expires pending off-ramps past their deposit window and returns how many.
func (s *Service) ExpireDue(ctx context.Context) (_ int, err error) {
	defer errcode.Op("offramp.ExpireDue", &err)
	return ramp.Expiry{DB: s.DB, Book: book, Now: s.Now, Expire: s.expire}.Due(ctx)
}

// expire expires off-ramp id if it is still pending past its deposit window.
func (s *Service) expire(ctx context.Context, tx *store.Tx, id string, now time.Time) (bool, error) {
	r, err := s.getTx(ctx, tx, "id = ?", id)
	if err != nil || r.Status != StatusPending || r.ExpiresAt.After(now) {
		return false, err
	}
	r.FailureReason = "no deposit in time"
	if err := setStatus(ctx, tx, &r, StatusExpired, now); err != nil {
		return false, err
	}
	return true, s.record(ctx, tx, r, event.RampoffFailed)
}

// RunExpiry expires due off-ramps and sweeps sandbox deposit addresses every interval until ctx
// ends.
func (s *Service) RunExpiry(ctx context.Context, interval time.Duration) {
	ramp.Every(ctx, interval, func(ctx context.Context) {
		if _, err := s.ExpireDue(ctx); err != nil && ctx.Err() == nil {
			s.log().Error("off-ramp expiry", "err", err)
		}
		if _, err := s.SweepDue(ctx); err != nil && ctx.Err() == nil {
			s.log().Error("off-ramp sweep", "err", err)
		}
	})
}
