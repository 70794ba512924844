// Package offramp is the sell flow: sell quotes, off-ramp operations with a fresh deposit
// address each, their state machine, the confirmed deposit, the bank payout and its
// confirmation from the statement. Every change that moves value posts balanced ledger
// transactions and records its event in the same database transaction.
//
// # Lifecycle
//
//	pending ──► crypto_received ──► processing ──► finished
//	   │              ▲  │                           │
//	   ▼              │  ▼                           ▼
//	expired ──────────┘ failed ◄─────────────────── failed (payout returned)
//
// createRampoff quotes the sale and derives the deposit address "offramp:<id>" on the chain;
// the address accepts deposits for DepositWindowMinutes (default 60), after which the expiry
// job moves the operation to expired (RAMPOFF_FAILED). When the chain adapter credits a deposit
// (enough confirmations on the canonical chain) OnDeposit runs inside the adapter's
// transaction: the deposit is booked, the operation becomes crypto_received (CRYPTO_RECEIVED)
// and, unless it is held, the fiat payout is queued and the operation becomes processing — all
// in that one transaction, so crypto_received is visible only in the CRYPTO_RECEIVED event and
// for held operations. The payout's debit on the bank statement (PayoutSettled) finishes the
// operation (TRANSFER_RAMPOFF_FINISHED); a return of the payout after that fails it
// (RAMPOFF_FAILED, failure_reason payout_returned) and the customer is owed the fiat again in
// the ledger.
//
// # Amount policy
//
// The quote fixes a price (fiat per token, spread included) and the fees. When the deposit of
// the quoted token arrives within the window:
//
//   - exactly the quoted amount: the customer is paid the quoted fiat_amount;
//   - more or less than quoted, by at most the tolerance (TolerancePercent, default 2%): the
//     customer is paid for the amount actually received at the quoted price, with the
//     percentage fees recomputed on that amount and the network fee as quoted;
//   - outside the tolerance (or so little that the fees eat it): the deposit is held — the
//     operation stays crypto_received with hold_reason amount_outside_tolerance (or
//     amount_too_small) and nothing is paid.
//
// Held for the operator as well, never paid automatically and never lost: a deposit of another
// asset on the address (hold_reason wrong_token), a deposit after the window closed
// (late_deposit: an expired operation goes back to crypto_received), and any further deposit
// on an operation that already received one (the extra deposit is recorded and held; the
// operation's status does not change). The operator resolves holds through the operator API:
// release pays the held deposits (at the quoted price for the quoted token, or at the current
// price when asked to reprice or for another token) and queues the payout; refund sends the
// held tokens back from the hot wallet to the sender (or a given address) and fails the
// operation.
//
// # Ledger
//
// Token side (asset "SYMBOL:chain"): a deposit that is paid posts external → deposit address;
// a held deposit posts customer token account → deposit address (the operator owes those tokens
// to the customer until released or refunded); release posts external → customer token
// account; a confirmed refund posts hot wallet → customer token account; a sweep posts deposit
// address → hot wallet (and the gas top-up external → deposit address, the gas burnt deposit
// address → network_fees, in the chain's native coin). Fiat side, when a sale is booked:
// trading +gross, fee revenue −fees, customer −net (the customer is owed the net); the payout
// then moves the customer's balance to banking's payout payable account (SEPA) or to the
// off-ramp's local payout account (LATAM).
//
// # Payout rails
//
// EUR customers are paid by SEPA from the integration's EUR account: banking records the
// payout, exports it in pain.001, and the statement's debit confirms it (the sandbox bank does
// both within a second; payouts to banking.SandboxFailingIBAN are debited and then returned with
// AC04, so the operation finishes and then fails). LATAM customers (country CHL, MEX, COL, PER,
// ARG) are paid in their currency (CLP, MXN, COP, PEN, ARS) to the local account registered with
// the customer: there is no operator bank account in those currencies (the sandbox bank only has
// EUR), so the payout instruction is recorded by the off-ramp, listed to the operator
// (GET /admin/api/rampoffs/local-payouts), and the operation stays processing until the operator
// confirms it was paid (POST /admin/api/rampoffs/{id}/confirm-payout).
//
// # Sweeping
//
// Deposit addresses are derived from an xpub; a live server never holds their private keys, so
// sweeping live deposit addresses into the hot wallet is an operator task done with the
// account xprv in cold storage; GET /admin/api/sweeps lists the addresses and amounts to sweep.
// In the sandbox the xprv is derivable from the sandbox seed, so SweepDue sweeps each credited
// token deposit itself: tops the address up with gas from the faucet, transfers the tokens to
// the hot wallet, and books both.
package offramp

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/ramp"
	"github.com/pocketramp/pocketramp/internal/store"
)

// RefPrefix is the prefix of an off-ramp's deposit reference and bank payout reference.
const RefPrefix = "offramp:"

// Payout kinds.
const (
	PayoutSEPA  = "sepa"  // EUR, through banking (pain.001, statement)
	PayoutLocal = "local" // LATAM currency to the registered local account, confirmed by the operator
)

// Errors of the contract (REFERENCE §5), in the documented order of checks, and of the
// operator API.
var (
	ErrMandatory         = ramp.ErrMandatory
	ErrCoinNotSupported  = errcode.CoinNotSupported
	ErrMinSale           = errcode.New("min_sale", "")
	ErrExternalIDUsed    = ramp.ErrExternalIDUsed
	ErrRampoffCreation   = errcode.New("error_rampoff_creation", "")
	ErrRampoffNotFound   = errcode.New("rampoff_not_found", "")
	ErrInvalidTransition = errcode.New("invalid_rampoff_transition", "")
	ErrNotHeld           = errcode.New("rampoff_not_held", "")
	ErrNothingToRefund   = errcode.New("nothing_to_refund", "")
)

// CountryFiat is the payout currency of LATAM customers by country.
var CountryFiat = map[string]string{"CHL": "CLP", "MEX": "MXN", "COL": "COP", "PER": "PEN", "ARG": "ARS"}

// Rampoff is an off-ramp operation.
type Rampoff struct {
	ID             string
	IntegrationID  int64
	UserID         int64
	Sandbox        bool
	ExternalID     string
	Coin           string
	Chain          string
	Amount         money.Amount // quoted, in the token's decimals
	Fiat           string
	FiatAmount     money.Amount // what the customer is paid (the quote until a deposit says otherwise)
	QuotedFiat     money.Amount
	EUREquivalent  money.Amount
	Price          money.Rate
	Fees           Fees
	FeePercent     money.Rate
	MarkupBps      int64
	ToleranceBps   int64
	QuoteID        string
	PayoutAccount  string
	PayoutKind     string
	BankName       string
	Beneficiary    string
	OperatorIBAN   string
	DepositAddress string
	DepositIndex   uint32
	Status         Status
	HoldReason     string
	FailureReason  string
	DepositTxID    string
	ReceivedAmount *money.Amount
	ReceivedAt     time.Time
	BankPayoutID   int64
	ConfirmedBy    string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	ExpiresAt      time.Time
}

// Fees are the itemised fees of the sale in the payout currency.
type Fees struct {
	Processing string `json:"processing"`
	Network    string `json:"network"`
	Partner    string `json:"partner"`
	Total      string `json:"total"`
}

const columns = `id, integration_id, user_id, sandbox, external_id, coin_symbol, chain, coin_decimals, amount, fiat_symbol,
	fiat_scale, fiat_amount, quoted_fiat, eur_equivalent, price, fees, fee_percent, markup_bps, tolerance_bps, quote_id,
	payout_account, payout_kind, bank_name, beneficiary, operator_iban, deposit_address, deposit_index, status, hold_reason,
	failure_reason, deposit_txid, received_amount, received_at, bank_payout_id, payout_confirmed_by, created_at, updated_at, expires_at`

// scan reads a row of columns, decrypting the customer's payout account.
func (s *records) scan(row store.Scanner) (Rampoff, error) {
	var r Rampoff
	var ext, quote, opIBAN, txid, received sql.NullString
	var receivedAt, payoutID sql.NullInt64
	var decimals, fiatScale int
	var fiatUnits, quotedUnits, eurUnits, idx int64
	var amount, priceS, fees, feePct string
	var created, updated, expires int64
	err := row.Scan(&r.ID, &r.IntegrationID, &r.UserID, &r.Sandbox, &ext, &r.Coin, &r.Chain, &decimals, &amount, &r.Fiat,
		&fiatScale, &fiatUnits, &quotedUnits, &eurUnits, &priceS, &fees, &feePct, &r.MarkupBps, &r.ToleranceBps, &quote,
		&r.PayoutAccount, &r.PayoutKind, &r.BankName, &r.Beneficiary, &opIBAN, &r.DepositAddress, &idx, &r.Status, &r.HoldReason,
		&r.FailureReason, &txid, &received, &receivedAt, &payoutID, &r.ConfirmedBy, &created, &updated, &expires)
	if err != nil {
		return Rampoff{}, err
	}
	r.ExternalID, r.QuoteID, r.OperatorIBAN, r.DepositTxID = ext.String, quote.String, opIBAN.String, txid.String
	if r.PayoutAccount, err = s.Box.OpenText(r.PayoutAccount); err != nil {
		return Rampoff{}, fmt.Errorf("rampoff %s payout account: %w", r.ID, err)
	}
	r.DepositIndex, r.BankPayoutID = uint32(idx), payoutID.Int64
	if r.Amount, err = money.ParseUnits(amount, decimals, money.ParseOptions{}); err != nil {
		return Rampoff{}, fmt.Errorf("rampoff %s amount: %w", r.ID, err)
	}
	r.FiatAmount, r.QuotedFiat, r.EUREquivalent = money.FromInt64(fiatUnits, fiatScale), money.FromInt64(quotedUnits, fiatScale), money.FromInt64(eurUnits, 2)
	if r.Price, err = money.ParseRate(priceS); err != nil {
		return Rampoff{}, fmt.Errorf("rampoff %s price: %w", r.ID, err)
	}
	if r.FeePercent, err = money.ParsePercent(feePct); err != nil {
		return Rampoff{}, fmt.Errorf("rampoff %s fee percent: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(fees), &r.Fees); err != nil {
		return Rampoff{}, fmt.Errorf("rampoff %s fees: %w", r.ID, err)
	}
	if received.Valid {
		a, err := money.ParseUnits(received.String, decimals, money.ParseOptions{})
		if err != nil {
			return Rampoff{}, fmt.Errorf("rampoff %s received amount: %w", r.ID, err)
		}
		r.ReceivedAmount, r.ReceivedAt = &a, store.Time(receivedAt.Int64)
	}
	r.CreatedAt, r.UpdatedAt, r.ExpiresAt = store.Time(created), store.Time(updated), store.Time(expires)
	return r, nil
}

// View is an off-ramp as GET /getRampoff shows it; webhooks carry the same object.
type View struct {
	ID             string  `json:"id"`
	Status         string  `json:"status"`
	Blockchain     string  `json:"blockchain"`
	Crypto         string  `json:"crypto"`
	Amount         string  `json:"amount"`
	Decimals       int     `json:"decimals"`
	FiatAmount     string  `json:"fiat_amount"`
	FiatSymbol     string  `json:"fiat_symbol"`
	ExternalID     *string `json:"external_id"`
	UserID         string  `json:"user_id"`
	Wallet         string  `json:"wallet"`
	DepositTxID    *string `json:"deposit_txid"`
	ReceivedAmount *string `json:"received_amount"`
	Price          string  `json:"price"`
	Fees           Fees    `json:"fees"`
	HoldReason     *string `json:"hold_reason"`
	FailureReason  *string `json:"failure_reason"`
	ExpiresAt      string  `json:"expires_at"`
	CreatedAt      string  `json:"created_at"`
	UpdatedAt      string  `json:"updated_at"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Timestamp is the contract's time format.
func Timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// View returns the API object of the off-ramp.
func (r Rampoff) View() View {
	v := View{ID: r.ID, Status: string(r.Status), Blockchain: r.Chain, Crypto: r.Coin, Amount: r.Amount.UnitsString(), Decimals: r.Amount.Scale(),
		FiatAmount: r.FiatAmount.String(), FiatSymbol: r.Fiat, ExternalID: nullable(r.ExternalID), UserID: fmt.Sprint(r.UserID),
		Wallet: r.DepositAddress, DepositTxID: nullable(r.DepositTxID), Price: r.Price.String(), Fees: r.Fees,
		HoldReason: nullable(r.HoldReason), FailureReason: nullable(r.FailureReason), ExpiresAt: Timestamp(r.ExpiresAt),
		CreatedAt: Timestamp(r.CreatedAt), UpdatedAt: Timestamp(r.UpdatedAt)}
	if r.ReceivedAmount != nil {
		s := r.ReceivedAmount.UnitsString()
		v.ReceivedAmount = &s
	}
	return v
}

// rows reads the rampoffs table (scanning unseals the payout account with s.Box).
func (s *records) rows() ramp.Rows[Rampoff] {
	return ramp.Rows[Rampoff]{Table: "rampoffs", Columns: columns, Scan: s.scan, NotFound: ErrRampoffNotFound}
}

// Get returns an off-ramp of integrationID; another integration's is ErrRampoffNotFound.
func (s *Service) Get(ctx context.Context, integrationID int64, id string) (_ Rampoff, err error) {
	defer errcode.Op("offramp.Get", &err)
	return s.rows().Get(ctx, s.DB, integrationID, id)
}

// GetAny returns an off-ramp of any integration (operator API).
func (s *Service) GetAny(ctx context.Context, id string) (_ Rampoff, err error) {
	defer errcode.Op("offramp.GetAny", &err)
	return s.rows().Get(ctx, s.DB, 0, id)
}

// getTx reads an off-ramp, locked for the rest of tx.
func (s *records) getTx(ctx context.Context, tx *store.Tx, where string, args ...any) (Rampoff, error) {
	return s.rows().Lock(ctx, tx, where, args...)
}

// Filter narrows List.
type Filter struct {
	ramp.Filter[Status]
	PayoutKind string
}

// List returns one page of an integration's off-ramps (integrationID 0: every integration's),
// newest first, and the total.
func (s *Service) List(ctx context.Context, integrationID int64, f Filter, page, perPage int) (_ []Rampoff, _ int, err error) {
	defer errcode.Op("offramp.List", &err)
	var w store.Where
	w.AddIf(integrationID != 0, "integration_id = ?", integrationID)
	f.Filter.Where(&w)
	w.AddIf(f.PayoutKind != "", "payout_kind = ?", f.PayoutKind)
	return s.rows().Page(ctx, s.DB, w, page, perPage)
}
