// Package pricing turns a provider price into a customer quote: the operator's spread on the
// price, the payment method's processing fee (percentage + fixed), the chain's network fee and
// the integration's markup, each itemised. A firm quote's id carries its terms and expiry,
// signed (quoteid.go), so a payment created with that id gets exactly that price; the quote is
// stored when a payment uses it.
//
// Rounding (money's policy): fees round half-up to the fiat minor unit; the token amount the
// customer receives rounds down to the token's base unit. Nothing is lost: the unrounded part
// stays with the operator and is visible as the difference between the fiat paid and fees plus
// coin amount × price.
package pricing

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/apd/v3"

	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/price"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Directions of a quote.
const (
	Buy  = "buy"  // on-ramp: fiat in, tokens out
	Sell = "sell" // off-ramp: tokens in, fiat out
)

// Fees are the itemised fees of a quote, in the quote's fiat.
type Fees struct {
	Processing money.Amount `json:"processing"`
	Network    money.Amount `json:"network"`
	Partner    money.Amount `json:"partner"`
	Total      money.Amount `json:"total"`
}

// Quote is a priced operation.
type Quote struct {
	ID            string
	IntegrationID int64
	Direction     string
	Fiat          string
	FiatAmount    money.Amount // buy: what the customer pays; sell: what the customer receives
	Coin          string
	Chain         string
	CoinAmount    money.Amount // buy: what the customer receives; sell: what the customer sends
	Price         money.Rate   // fiat per token, spread included
	Fees          Fees
	PaymentType   string
	Source        string // the price feed
	CreatedAt     time.Time
	ExpiresAt     time.Time
}

// Inputs common to buy and sell quotes.
type Params struct {
	IntegrationID int64
	Sandbox       bool
	Fiat          string
	Coin          string
	Chain         string
	CoinDecimals  int
	PaymentType   string
	FeePercent    money.Rate   // method's processing fee, percent
	FeeFixed      money.Amount // method's fixed fee, in Fiat
	NetworkFeeEUR money.Amount // the chain's network fee in EUR
	MarkupBps     int64        // integration's markup on the amount
	SpreadBps     int64        // operator's spread on the price
	TTL           time.Duration
}

// ErrTooSmall is an amount that fees would consume entirely.
var ErrTooSmall = errors.New("the amount does not cover the fees")

// Pricer prices operations.
type Pricer struct {
	DB            *store.DB
	SandboxPrices price.Provider
	LivePrices    price.Provider
	// NetworkFees estimates a chain's payout fee from its node (nil, or ok false for a chain:
	// the fixed Params.NetworkFeeEUR).
	NetworkFees NetworkFeeEstimator
	// Keys signs and verifies quote ids (the master key's secret.Box, shared by every instance).
	Keys Signer
	Now  func() time.Time
}

// NetworkFeeEstimator estimates what one payout transaction on chainName costs now, in the
// chain's native coin (symbol, e.g. BTC): Bitcoin's fee is the node's fee rate (within the
// operator's caps) times a typical payout's virtual size. ok is false for a chain without an
// estimate.
type NetworkFeeEstimator interface {
	NetworkFee(ctx context.Context, sandbox bool, chainName string) (fee money.Amount, symbol string, ok bool, err error)
}

func (p *Pricer) feed(sandbox bool) price.Provider {
	if sandbox {
		return p.SandboxPrices
	}
	return p.LivePrices
}

var ctx100 = apd.BaseContext.WithPrecision(200)

// bps returns r × (10000 + bps) / 10000, exactly.
func bps(r money.Rate, b int64) money.Rate {
	d := r.Decimal()
	f := apd.New(10000+b, -4)
	out := new(apd.Decimal)
	ctx100.Mul(out, d, f)
	rate, err := money.NewRate(out)
	if err != nil {
		panic(fmt.Sprintf("pricing: spread %d bps on %s: %v", b, r, err))
	}
	return rate
}

// EURRate returns how many units of fiat one EUR is worth, from the same feed's stablecoin
// prices (USDC in fiat ÷ USDC in EUR). Limits and network fees are defined in EUR.
func (p *Pricer) EURRate(ctx context.Context, sandbox bool, fiat string) (money.Rate, error) {
	if fiat == "EUR" {
		return money.ParseRate("1")
	}
	in, err := p.feed(sandbox).Price(ctx, "USDC", fiat)
	if err != nil {
		return money.Rate{}, err
	}
	eur, err := p.feed(sandbox).Price(ctx, "USDC", "EUR")
	if err != nil {
		return money.Rate{}, err
	}
	out := new(apd.Decimal)
	if _, err := ctx100.Quo(out, in.Price.Decimal(), eur.Price.Decimal()); err != nil {
		return money.Rate{}, err
	}
	// The ratio rarely terminates; 18 decimals are far below any fiat minor unit, and the rate
	// only converts limits and network fees (never what a customer pays or receives).
	ctx100.Quantize(out, out, -18)
	ctx100.Reduce(out, out)
	return money.NewRate(out)
}

// ToEUR converts a fiat amount to EUR (rounded down to the cent), for limits.
func (p *Pricer) ToEUR(ctx context.Context, sandbox bool, a money.Amount, fiat string) (money.Amount, error) {
	if fiat == "EUR" {
		return a, nil
	}
	r, err := p.EURRate(ctx, sandbox, fiat)
	if err != nil {
		return money.Amount{}, err
	}
	out, _ := money.Divide(a, r, 2)
	return out, nil
}

// fromEUR converts a EUR amount into fiat, rounding half-up (a fee).
func (p *Pricer) fromEUR(ctx context.Context, sandbox bool, a money.Amount, fiat string, scale int) (money.Amount, error) {
	if fiat == "EUR" {
		return a, nil
	}
	r, err := p.EURRate(ctx, sandbox, fiat)
	if err != nil {
		return money.Amount{}, err
	}
	return mulHalfUp(a, r, scale)
}

// mulHalfUp is a × r rounded half-up to scale decimals (a fee).
func mulHalfUp(a money.Amount, r money.Rate, scale int) (money.Amount, error) {
	exact := new(apd.Decimal)
	ctx100.Mul(exact, a.Decimal(), r.Decimal())
	rounded := new(apd.Decimal)
	c := ctx100
	c.Rounding = apd.RoundHalfUp
	c.Quantize(rounded, exact, int32(-scale))
	return money.FromDecimal(rounded, scale)
}

// networkFee is the chain's payout fee in fiat: the node's estimate priced at the feed's price
// of the chain's coin (no spread), or the fixed fee in EUR converted.
func (p *Pricer) networkFee(ctx context.Context, q Params, scale int) (money.Amount, error) {
	if p.NetworkFees != nil {
		fee, symbol, ok, err := p.NetworkFees.NetworkFee(ctx, q.Sandbox, q.Chain)
		if err != nil {
			return money.Amount{}, errcode.PriceUnavailable.With("network fee estimate: "+err.Error(), nil)
		}
		if ok {
			pq, err := p.feed(q.Sandbox).Price(ctx, symbol, q.Fiat)
			if err != nil {
				return money.Amount{}, errcode.PriceUnavailable.With(err.Error(), nil)
			}
			return mulHalfUp(fee, pq.Price, scale)
		}
	}
	network, err := p.fromEUR(ctx, q.Sandbox, q.NetworkFeeEUR, q.Fiat, scale)
	if err != nil {
		return money.Amount{}, errcode.PriceUnavailable.With(err.Error(), nil)
	}
	return network, nil
}

func (p *Pricer) basePrice(ctx context.Context, q Params) (price.Quote, error) {
	pq, err := p.feed(q.Sandbox).Price(ctx, q.Coin, q.Fiat)
	if err != nil {
		return price.Quote{}, errcode.PriceUnavailable.With(err.Error(), nil)
	}
	return pq, nil
}

// fees computes the itemised fees on a fiat amount.
func (p *Pricer) fees(ctx context.Context, q Params, amount money.Amount) (Fees, error) {
	scale := amount.Scale()
	var f Fees
	f.Processing = money.Percent(amount, q.FeePercent).Add(q.FeeFixed)
	network, err := p.networkFee(ctx, q, scale)
	if err != nil {
		return Fees{}, err
	}
	f.Network = network
	markup, _ := money.ParsePercent(fmt.Sprintf("%d.%02d", q.MarkupBps/100, q.MarkupBps%100))
	f.Partner = money.Percent(amount, markup)
	f.Total = f.Processing.Add(f.Network).Add(f.Partner)
	return f, nil
}

// Buy prices an on-ramp of fiatAmount: the customer pays fiatAmount and receives
// (fiatAmount − fees) ÷ price tokens, rounded down.
func (p *Pricer) Buy(ctx context.Context, q Params, fiatAmount money.Amount) (Quote, error) {
	pq, err := p.basePrice(ctx, q)
	if err != nil {
		return Quote{}, err
	}
	f, err := p.fees(ctx, q, fiatAmount)
	if err != nil {
		return Quote{}, err
	}
	net := fiatAmount.Sub(f.Total)
	if net.Sign() <= 0 {
		return Quote{}, ErrTooSmall
	}
	customerPrice := bps(pq.Price, q.SpreadBps)
	coins, _ := money.Divide(net, customerPrice, q.CoinDecimals)
	if coins.Sign() <= 0 {
		return Quote{}, ErrTooSmall
	}
	now := p.Now()
	return p.firm(Quote{IntegrationID: q.IntegrationID, Direction: Buy, Fiat: q.Fiat, FiatAmount: fiatAmount,
		Coin: q.Coin, Chain: q.Chain, CoinAmount: coins, Price: customerPrice, Fees: f, PaymentType: q.PaymentType,
		Source: pq.Source, CreatedAt: now, ExpiresAt: now.Add(q.TTL)}), nil
}

// Sell prices an off-ramp of coinAmount: the customer sends coinAmount and receives
// coinAmount × price − fees in fiat, the conversion rounded down.
func (p *Pricer) Sell(ctx context.Context, q Params, coinAmount money.Amount, fiatScale int) (Quote, error) {
	pq, err := p.basePrice(ctx, q)
	if err != nil {
		return Quote{}, err
	}
	customerPrice := bps(pq.Price, -q.SpreadBps)
	gross, _ := money.Convert(coinAmount, customerPrice, fiatScale)
	f, err := p.fees(ctx, q, gross)
	if err != nil {
		return Quote{}, err
	}
	net := gross.Sub(f.Total)
	if net.Sign() <= 0 {
		return Quote{}, ErrTooSmall
	}
	now := p.Now()
	return p.firm(Quote{IntegrationID: q.IntegrationID, Direction: Sell, Fiat: q.Fiat, FiatAmount: net,
		Coin: q.Coin, Chain: q.Chain, CoinAmount: coinAmount, Price: customerPrice, Fees: f, PaymentType: q.PaymentType,
		Source: pq.Source, CreatedAt: now, ExpiresAt: now.Add(q.TTL)}), nil
}

// firm gives q its signed id; the quote time and expiry are kept to the microsecond, as stored.
func (p *Pricer) firm(q Quote) Quote {
	q.CreatedAt, q.ExpiresAt = store.Time(store.Micros(q.CreatedAt)), store.Time(store.Micros(q.ExpiresAt))
	q.ID = p.signedID(q)
	return q
}

type storedFees struct {
	Processing, Network, Partner, Total string
}

// RecordTx stores a firm quote that a payment or sale uses, in its transaction (once: a quote
// may be used again, as long as it has not expired).
func (p *Pricer) RecordTx(ctx context.Context, tx *store.Tx, q Quote) error {
	fees, _ := json.Marshal(storedFees{q.Fees.Processing.UnitsString(), q.Fees.Network.UnitsString(), q.Fees.Partner.UnitsString(), q.Fees.Total.UnitsString()})
	_, err := tx.Exec(ctx, `INSERT INTO quotes (id, integration_id, direction, fiat_symbol, fiat_scale, fiat_amount, coin_symbol, chain,
		coin_decimals, coin_amount, price, fees, payment_type, source, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`,
		q.ID, q.IntegrationID, q.Direction, q.Fiat, q.FiatAmount.Scale(), q.FiatAmount.UnitsString(), q.Coin, q.Chain,
		q.CoinAmount.Scale(), q.CoinAmount.UnitsString(), q.Price.String(), string(fees), q.PaymentType, q.Source,
		store.Micros(q.CreatedAt), store.Micros(q.ExpiresAt))
	return err
}

// ErrQuoteNotFound is an unknown quote id, or one of another integration.
var ErrQuoteNotFound = errcode.New("quote_not_found", "")

// Get returns the firm quote of integrationID that id names: the terms a signed id carries
// (ErrQuoteNotFound when its signature does not verify or it is another integration's), or a
// quote stored before ids were signed.
func (p *Pricer) Get(ctx context.Context, integrationID int64, id string) (Quote, error) {
	if q, err := p.parseSignedID(id); err == nil {
		if q.IntegrationID != integrationID {
			return Quote{}, ErrQuoteNotFound
		}
		return q, nil
	}
	var q Quote
	var fiatScale, coinScale int
	var fiatUnits, coinUnits, priceS, feesS string
	var created, expires int64
	err := p.DB.QueryRow(ctx, `SELECT id, integration_id, direction, fiat_symbol, fiat_scale, fiat_amount, coin_symbol, chain, coin_decimals,
		coin_amount, price, fees, payment_type, source, created_at, expires_at FROM quotes WHERE id = ? AND integration_id = ?`, id, integrationID).
		Scan(&q.ID, &q.IntegrationID, &q.Direction, &q.Fiat, &fiatScale, &fiatUnits, &q.Coin, &q.Chain, &coinScale, &coinUnits,
			&priceS, &feesS, &q.PaymentType, &q.Source, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return Quote{}, ErrQuoteNotFound
	}
	if err != nil {
		return Quote{}, err
	}
	if q.FiatAmount, err = money.ParseUnits(fiatUnits, fiatScale, money.ParseOptions{}); err != nil {
		return Quote{}, err
	}
	if q.CoinAmount, err = money.ParseUnits(coinUnits, coinScale, money.ParseOptions{}); err != nil {
		return Quote{}, err
	}
	if q.Price, err = money.ParseRate(priceS); err != nil {
		return Quote{}, err
	}
	var sf storedFees
	if err := json.Unmarshal([]byte(feesS), &sf); err != nil {
		return Quote{}, err
	}
	for dst, src := range map[*money.Amount]string{&q.Fees.Processing: sf.Processing, &q.Fees.Network: sf.Network, &q.Fees.Partner: sf.Partner, &q.Fees.Total: sf.Total} {
		if *dst, err = money.ParseUnits(src, fiatScale, money.ParseOptions{}); err != nil {
			return Quote{}, err
		}
	}
	q.CreatedAt, q.ExpiresAt = store.Time(created), store.Time(expires)
	return q, nil
}
