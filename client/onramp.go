package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Payment types (payment_type is case-insensitive; LATAM methods have their own codes, e.g.
// KHIPU).
const (
	PaymentCard     = "card"
	PaymentPSD2     = "psd2"
	PaymentTransfer = "transfer"
	PaymentPaypal   = "paypal"
)

// Payment statuses.
const (
	PaymentStarted     = "started"
	PaymentPendingBank = "pending_bank"
	PaymentReceived    = "payment_received"
	PaymentCoinsSent   = "coins_sent"
	PaymentExpired     = "expired"
	PaymentFailed      = "failed"
	PaymentRefunded    = "refunded"
)

// PaymentMethod is a payment method enabled for the integration.
type PaymentMethod struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	FiatSymbol string `json:"fiat_symbol"`
	MinAmount  string `json:"min_amount"`
	MaxAmount  string `json:"max_amount"`
	FeePercent string `json:"fee_percent"`
	FeeFixed   string `json:"fee_fixed"`
	Kind       string `json:"kind"` // card, bank_transfer, open_banking, local
}

// PaymentMethods calls GET /payment-methods; fiatSymbol may be empty (every currency).
func (c *Client) PaymentMethods(ctx context.Context, fiatSymbol string) ([]PaymentMethod, error) {
	q := url.Values{}
	set(q, "fiat_symbol", fiatSymbol)
	var out []PaymentMethod
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/payment-methods", query: q}, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// QuoteRequest prices a purchase.
type QuoteRequest struct {
	Amount      string // fiat, major units, required (e.g. "240" or "99.90")
	Symbol      string // required
	Chain       string // default polygon
	PaymentType string // required
	FiatSymbol  string // default EUR
}

// Fees itemises the fees of a quote (decimal strings in the quote's fiat).
type Fees struct {
	Processing string `json:"processing"`
	Network    string `json:"network"`
	Partner    string `json:"partner"`
	Total      string `json:"total"`
}

// Quote is a firm price of a purchase, honoured by CreatePayment with its QuoteID until
// ExpiresAt.
type Quote struct {
	QuoteID    string    `json:"quote_id"`
	FiatSymbol string    `json:"fiat_symbol"`
	FiatAmount string    `json:"fiat_amount"`
	CoinSymbol string    `json:"coin_symbol"`
	Chain      string    `json:"chain"`
	CoinAmount string    `json:"coin_amount"`
	Price      string    `json:"price"`
	Fees       Fees      `json:"fees"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// Quote calls GET /quote.
func (c *Client) Quote(ctx context.Context, r QuoteRequest) (*Quote, error) {
	q := url.Values{}
	set(q, "amount", r.Amount)
	set(q, "symbol", r.Symbol)
	set(q, "chain", r.Chain)
	set(q, "payment_type", r.PaymentType)
	set(q, "fiat_symbol", r.FiatSymbol)
	var out Quote
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/quote", query: q}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreatePaymentRequest is the body of POST /createPayment (and, without Wallet, of
// POST /createGuidedPayment).
type CreatePaymentRequest struct {
	UserID      int64       `json:"user_id,omitempty"` // required
	ExternalID  string      `json:"external_id,omitempty"`
	PaymentType string      `json:"payment_type,omitempty"` // default transfer (guided: card)
	FiatSymbol  string      `json:"fiat_symbol"`
	FiatAmount  json.Number `json:"fiat_amount"`          // major units, e.g. "240" or "99.90"
	CoinSymbol  string      `json:"coin_symbol"`          // e.g. USDC
	CoinChain   string      `json:"coin_chain,omitempty"` // required except for LATAM fiat
	Wallet      string      `json:"wallet,omitempty"`     // receives the crypto
	CallbackURL string      `json:"callback_url,omitempty"`
	QuoteID     string      `json:"quote_id,omitempty"`
}

// CreatedPayment is the answer of CreatePayment. Hosted methods (card, psd2, paypal, hosted
// LATAM methods) fill URLPayment; a bank transfer fills IBAN, BIC, Concept and DestinationName,
// the details the payer must use (IsTransfer reports which).
type CreatedPayment struct {
	Message         string      `json:"-"` // payment_created
	PaymentID       string      `json:"payment_id"`
	URLPayment      string      `json:"url_payment,omitempty"`
	IBAN            string      `json:"iban,omitempty"`
	BIC             string      `json:"bic,omitempty"`
	Concept         json.Number `json:"concept,omitempty"` // integer reference the payer writes in the transfer
	DestinationName string      `json:"destination_name,omitempty"`
	TransferURL     string      `json:"transfer_url,omitempty"` // [ours] hosted page with the transfer details
}

// IsTransfer reports whether the answer carries bank transfer details.
func (p *CreatedPayment) IsTransfer() bool { return p.IBAN != "" }

// CreatePayment calls POST /createPayment.
func (c *Client) CreatePayment(ctx context.Context, r CreatePaymentRequest) (*CreatedPayment, error) {
	var out CreatedPayment
	env, err := c.call(ctx, request{method: http.MethodPost, path: "/createPayment", body: r}, &out)
	if err != nil {
		return nil, err
	}
	out.Message = env.Message
	return &out, nil
}

// CreatedGuidedPayment is the answer of CreateGuidedPayment.
type CreatedGuidedPayment struct {
	Message    string `json:"-"` // guided_payment_created
	PaymentID  string `json:"payment_id"`
	GatewayURL string `json:"gateway_url"`
	ExternalID string `json:"external_id"`
}

// CreateGuidedPayment calls POST /createGuidedPayment (EUR only; Wallet is ignored: the
// customer enters it on the gateway page).
func (c *Client) CreateGuidedPayment(ctx context.Context, r CreatePaymentRequest) (*CreatedGuidedPayment, error) {
	r.Wallet = ""
	var out CreatedGuidedPayment
	env, err := c.call(ctx, request{method: http.MethodPost, path: "/createGuidedPayment", body: r}, &out)
	if err != nil {
		return nil, err
	}
	out.Message = env.Message
	return &out, nil
}

// Payment is an on-ramp payment as GET /payment/{id} shows it.
type Payment struct {
	ID            string      `json:"id"`
	ExternalID    string      `json:"external_id"`
	UserID        string      `json:"user_id"` // a string on the wire
	Status        string      `json:"status"`
	FiatAmount    int64       `json:"fiat_amount"` // minor units (cents for EUR)
	FiatSymbol    string      `json:"fiat_symbol"`
	CoinSymbol    string      `json:"coin_symbol"`
	CoinAmount    json.Number `json:"coin_amount"` // a JSON number, kept verbatim
	CreatedAt     time.Time   `json:"created_at"`
	Holder        string      `json:"holder"` // payer name, empty until known
	TxID          string      `json:"txid,omitempty"`
	PaymentType   string      `json:"payment_type"`
	CoinChain     string      `json:"coin_chain"`
	Wallet        string      `json:"wallet"`
	UpdatedAt     time.Time   `json:"updated_at"`
	FailureReason string      `json:"failure_reason"`
	HoldReason    string      `json:"hold_reason,omitempty"`
	Fees          *Fees       `json:"fees,omitempty"`
}

// GetPayment calls GET /payment/{id}; an unknown id is ErrPaymentNotFound.
func (c *Client) GetPayment(ctx context.Context, id string) (*Payment, error) {
	var out Payment
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/payment/" + pathID(id)}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// PaymentFilter selects payments of ListPayments. From and To are dates (YYYY-MM-DD, To
// inclusive) or RFC 3339 times.
type PaymentFilter struct {
	Status     string
	UserID     int64
	ExternalID string
	From, To   string
	Page       int
	PerPage    int
}

// PaymentPage is a page of payments.
type PaymentPage = Page[Payment]

// ListPayments calls GET /payments.
func (c *Client) ListPayments(ctx context.Context, f PaymentFilter) (*PaymentPage, error) {
	q := url.Values{}
	set(q, "status", f.Status)
	if f.UserID != 0 {
		q.Set("user_id", strconv.FormatInt(f.UserID, 10))
	}
	set(q, "external_id", f.ExternalID)
	set(q, "from", f.From)
	set(q, "to", f.To)
	PageRequest{f.Page, f.PerPage}.add(q)
	var out PaymentPage
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/payments", query: q}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
