package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Off-ramp statuses.
const (
	RampoffPending        = "pending"         // waiting for the crypto
	RampoffCryptoReceived = "crypto_received" // deposit confirmed
	RampoffProcessing     = "processing"      // bank payout initiated
	RampoffFinished       = "finished"        // payout done
	RampoffExpired        = "expired"
	RampoffFailed         = "failed"
)

// RampoffQuoteRequest prices a sale.
type RampoffQuoteRequest struct {
	Amount     string // tokens, required (e.g. "150.5")
	Symbol     string // required
	Blockchain string
	FiatSymbol string // default EUR
}

// RampoffQuote is a firm price of a sale, honoured by CreateRampoff with its QuoteID until
// ExpiresAt.
type RampoffQuote struct {
	QuoteID    string    `json:"quote_id"`
	CoinSymbol string    `json:"coin_symbol"`
	Chain      string    `json:"chain"`
	CoinAmount string    `json:"coin_amount"` // tokens, decimal string
	FiatSymbol string    `json:"fiat_symbol"`
	FiatAmount string    `json:"fiat_amount"` // paid out, decimal string
	Price      string    `json:"price"`
	Fees       Fees      `json:"fees"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// RampoffQuote calls GET /rampoff/quote.
func (c *Client) RampoffQuote(ctx context.Context, r RampoffQuoteRequest) (*RampoffQuote, error) {
	q := url.Values{}
	set(q, "amount", r.Amount)
	set(q, "symbol", r.Symbol)
	set(q, "blockchain", r.Blockchain)
	set(q, "fiat_symbol", r.FiatSymbol)
	var out RampoffQuote
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/rampoff/quote", query: q}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateRampoffRequest is the body of POST /createRampoff.
type CreateRampoffRequest struct {
	UserID     int64       `json:"user_id,omitempty"`    // required
	Amount     json.Number `json:"amount"`               // tokens, e.g. "150.5"
	Blockchain string      `json:"blockchain,omitempty"` // e.g. bsc; not for LATAM
	Symbol     string      `json:"symbol"`
	IBAN       string      `json:"iban,omitempty"`      // default: the customer's registered account
	BankName   string      `json:"bank_name,omitempty"` // LATAM only
	ExternalID string      `json:"external_id,omitempty"`
	QuoteID    string      `json:"quote_id,omitempty"`
}

// CreatedRampoff is a new off-ramp: the customer sends the tokens to Wallet before ExpiresAt.
type CreatedRampoff struct {
	Rampoff string `json:"rampoff"` // "payment created"
	Wallet  string `json:"wallet"`  // the deposit address (serves this operation only)
	ID      string `json:"id"`
	// [ours] the quoted operation.
	ExpiresAt  time.Time `json:"expires_at"`
	Amount     string    `json:"amount"`   // tokens in base units
	Decimals   int       `json:"decimals"` // of Amount
	FiatAmount string    `json:"fiat_amount"`
	FiatSymbol string    `json:"fiat_symbol"`
}

// CreateRampoff calls POST /createRampoff.
func (c *Client) CreateRampoff(ctx context.Context, r CreateRampoffRequest) (*CreatedRampoff, error) {
	var out CreatedRampoff
	if _, err := c.call(ctx, request{method: http.MethodPost, path: "/createRampoff", body: r}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Rampoff is an off-ramp operation as GET /getRampoff shows it.
type Rampoff struct {
	ID             string    `json:"id"`
	Status         string    `json:"status"`
	Blockchain     string    `json:"blockchain"`
	Crypto         string    `json:"crypto"`      // token symbol
	Amount         string    `json:"amount"`      // quoted tokens in base units (integer string)
	Decimals       int       `json:"decimals"`    // of Amount and ReceivedAmount
	FiatAmount     string    `json:"fiat_amount"` // decimal string
	FiatSymbol     string    `json:"fiat_symbol"`
	ExternalID     string    `json:"external_id"`
	UserID         string    `json:"user_id"` // a string on the wire, as in payments
	Wallet         string    `json:"wallet"`  // the deposit address
	DepositTxID    string    `json:"deposit_txid"`
	ReceivedAmount string    `json:"received_amount"` // base units actually received
	Price          string    `json:"price"`
	Fees           *Fees     `json:"fees,omitempty"`
	HoldReason     string    `json:"hold_reason"`
	FailureReason  string    `json:"failure_reason"`
	ExpiresAt      time.Time `json:"expires_at"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// GetRampoff calls GET /getRampoff; an unknown id is ErrRampoffNotFound.
func (c *Client) GetRampoff(ctx context.Context, id string) (*Rampoff, error) {
	var out Rampoff
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/getRampoff", query: url.Values{"id": {id}}}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RampoffFilter selects off-ramps of ListRampoffs (the filters of PaymentFilter).
type RampoffFilter struct {
	Status     string
	UserID     int64
	ExternalID string
	From, To   string
	Page       int
	PerPage    int
}

// RampoffPage is a page of off-ramps.
type RampoffPage = Page[Rampoff]

// ListRampoffs calls GET /rampoffs.
func (c *Client) ListRampoffs(ctx context.Context, f RampoffFilter) (*RampoffPage, error) {
	q := url.Values{}
	set(q, "status", f.Status)
	if f.UserID != 0 {
		q.Set("user_id", strconv.FormatInt(f.UserID, 10))
	}
	set(q, "external_id", f.ExternalID)
	set(q, "from", f.From)
	set(q, "to", f.To)
	PageRequest{f.Page, f.PerPage}.add(q)
	var out RampoffPage
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/rampoffs", query: q}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
