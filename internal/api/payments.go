package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/onramp"
	"github.com/pocketramp/pocketramp/internal/pricing"
)

func (s *Server) paymentRoutes() {
	s.partner("GET /api/payment-methods", s.paymentMethods)
	s.partner("GET /api/quote", s.quote)
	s.partner("POST /api/createPayment", s.createPayment)
	s.partner("POST /api/createGuidedPayment", s.createGuidedPayment)
	s.partner("GET /api/payment/{payment_id}", s.getPayment)
	s.partner("GET /api/payments", s.listPayments)
	s.sandbox("POST /api/sandbox/payments/{payment_id}/pay", s.sandboxPay)
	s.sandbox("POST /api/sandbox/payments/{payment_id}/fail", s.sandboxFail)
}

type methodJSON struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	FiatSymbol string `json:"fiat_symbol"`
	MinAmount  string `json:"min_amount"`
	MaxAmount  string `json:"max_amount"`
	FeePercent string `json:"fee_percent"`
	FeeFixed   string `json:"fee_fixed"`
	Kind       string `json:"kind"`
}

func (s *Server) paymentMethods(r *http.Request) (any, error) {
	fiat := strings.ToUpper(strings.TrimSpace(r.URL.Query().Get("fiat_symbol")))
	if fiat != "" {
		if _, ok := money.FiatScale(fiat); !ok {
			return nil, errcode.Field("fiat_symbol", "The fiat symbol must be one of %s.", strings.Join(money.FiatCodes(), ", "))
		}
	}
	st, err := onramp.CachedSettings(r.Context(), s.DB, caller(r).ID)
	if err != nil {
		return nil, err
	}
	out := []methodJSON{}
	for _, m := range onramp.Methods {
		if (fiat != "" && m.Fiat != fiat) || !st.MethodEnabled(m.Code) {
			continue
		}
		scale, _ := money.FiatScale(m.Fiat)
		min := money.MustParse(m.Min, scale)
		if m.Fiat == "EUR" {
			min = money.MustParse(st.MinPurchaseEUR, scale)
		}
		fee := st.FeeOf(m) // the integration's own, or the catalogue's
		out = append(out, methodJSON{Code: m.Code, Name: m.Name, FiatSymbol: m.Fiat, MinAmount: min.String(),
			MaxAmount: money.MustParse(m.Max, scale).String(), FeePercent: fee.Percent,
			FeeFixed: money.MustParse(fee.Fixed, scale).String(), Kind: m.Kind})
	}
	return out, nil
}

type feesJSON struct {
	Processing string `json:"processing"`
	Network    string `json:"network"`
	Partner    string `json:"partner"`
	Total      string `json:"total"`
}

type quoteJSON struct {
	QuoteID    string   `json:"quote_id"`
	FiatSymbol string   `json:"fiat_symbol"`
	FiatAmount string   `json:"fiat_amount"`
	CoinSymbol string   `json:"coin_symbol"`
	Chain      string   `json:"chain"`
	CoinAmount string   `json:"coin_amount"`
	Price      string   `json:"price"`
	Fees       feesJSON `json:"fees"`
	ExpiresAt  string   `json:"expires_at"`
}

func quoteView(q pricing.Quote) quoteJSON {
	return quoteJSON{QuoteID: q.ID, FiatSymbol: q.Fiat, FiatAmount: q.FiatAmount.String(), CoinSymbol: q.Coin, Chain: q.Chain,
		CoinAmount: q.CoinAmount.String(), Price: q.Price.String(), ExpiresAt: timestamp(q.ExpiresAt),
		Fees: feesJSON{Processing: q.Fees.Processing.String(), Network: q.Fees.Network.String(), Partner: q.Fees.Partner.String(), Total: q.Fees.Total.String()}}
}

func (s *Server) quote(r *http.Request) (any, error) {
	qs := r.URL.Query()
	var amount json.RawMessage
	if v := qs.Get("amount"); v != "" {
		amount, _ = json.Marshal(v)
	}
	in := caller(r)
	q, err := s.Onramp.Quote(r.Context(), onramp.QuoteInput{IntegrationID: in.ID, Sandbox: in.Sandbox, Amount: amount,
		Symbol: qs.Get("symbol"), Chain: qs.Get("chain"), PaymentType: qs.Get("payment_type"), Fiat: qs.Get("fiat_symbol")})
	if err != nil {
		return nil, err
	}
	return quoteView(q), nil
}

type createPaymentRequest struct {
	UserID      flexInt         `json:"user_id"`
	ExternalID  flexStr         `json:"external_id"`
	PaymentType string          `json:"payment_type"`
	FiatSymbol  string          `json:"fiat_symbol"`
	FiatAmount  json.RawMessage `json:"fiat_amount"`
	CoinSymbol  string          `json:"coin_symbol"`
	CoinChain   string          `json:"coin_chain"`
	Wallet      string          `json:"wallet"`
	CallbackURL string          `json:"callback_url"`
	QuoteID     string          `json:"quote_id"`
}

func (req createPaymentRequest) input(r *http.Request, guided bool) onramp.CreateInput {
	in := caller(r)
	if guided && strings.TrimSpace(req.FiatSymbol) == "" {
		req.FiatSymbol = "EUR" // the call is EUR-only and the Buy Flow guide's example sends no fiat_symbol
	}
	return onramp.CreateInput{IntegrationID: in.ID, Sandbox: in.Sandbox, Guided: guided, UserID: req.UserID.Value,
		ExternalID: string(req.ExternalID), PaymentType: req.PaymentType, FiatSymbol: req.FiatSymbol, FiatAmount: req.FiatAmount,
		CoinSymbol: req.CoinSymbol, CoinChain: req.CoinChain, Wallet: req.Wallet, CallbackURL: req.CallbackURL, QuoteID: req.QuoteID}
}

// decodePayment reads a payment body; user_id is checked first (fail_mandatory_field), before
// any other field, as the contract orders.
func decodePayment(r *http.Request) (createPaymentRequest, error) {
	var req createPaymentRequest
	err := decodeJSON(r, &req)
	var inv *errcode.Invalid
	if err != nil && (isBodyError(err) || asInvalid(err, &inv) && inv.Fields.Has("user_id")) {
		return req, err
	}
	if !req.UserID.Set {
		return req, onramp.ErrMandatory
	}
	return req, err
}

type successEnvelope struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	Data    any    `json:"data"`
}

func (s *Server) createPayment(r *http.Request) (any, error) {
	req, err := decodePayment(r)
	if err != nil {
		return nil, err
	}
	c, err := s.Onramp.Create(r.Context(), req.input(r, false))
	if err != nil {
		return nil, err
	}
	var data any
	status := "success"
	if c.Payment.BankIBAN != "" {
		status = "sucess" // sic: CryptoPocket documents the transfer answer with this literal, and partners compare it
		data = map[string]any{"payment_id": c.Payment.ID, "iban": c.Account.IBAN, "bic": c.Account.BIC,
			"concept": json.Number(c.Payment.Concept), "destination_name": c.Account.HolderName, "transfer_url": c.URL}
	} else {
		data = map[string]any{"payment_id": c.Payment.ID, "url_payment": c.URL}
	}
	return custom{status: http.StatusOK, body: successEnvelope{Status: status, Message: "payment_created", Data: data}}, nil
}

func (s *Server) createGuidedPayment(r *http.Request) (any, error) {
	req, err := decodePayment(r)
	if err != nil {
		return nil, err
	}
	c, err := s.Onramp.Create(r.Context(), req.input(r, true))
	if err != nil {
		return nil, err
	}
	return custom{status: http.StatusOK, body: successEnvelope{Status: "success", Message: "guided_payment_created",
		Data: map[string]any{"payment_id": c.Payment.ID, "gateway_url": c.URL, "external_id": nullIfEmpty(c.Payment.ExternalID)}}}, nil
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (s *Server) getPayment(r *http.Request) (any, error) {
	p, err := s.Onramp.Get(r.Context(), caller(r).ID, r.PathValue("payment_id"))
	if err != nil {
		return nil, err
	}
	return p.View(), nil
}

// parseDate reads a from/to filter: a date (YYYY-MM-DD) or an RFC 3339 time.
func parseDate(f errcode.Fields, field, v string, endOfDay bool) time.Time {
	if v == "" {
		return time.Time{}
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		if endOfDay {
			t = t.Add(24 * time.Hour)
		}
		return t
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		f.Add(field, "The %s must be a date (YYYY-MM-DD) or an ISO-8601 time.", field)
	}
	return t
}

// paymentFilter reads the filters of a payment list (status, user_id, external_id, from, to).
func paymentFilter(r *http.Request) (onramp.Filter, error) { return listFilter(r, onramp.Statuses()) }

func (s *Server) listPayments(r *http.Request) (any, error) {
	return listed(r, paymentFilter, func(f onramp.Filter, page, perPage int) ([]onramp.Payment, int, error) {
		return s.Onramp.List(r.Context(), caller(r).ID, f, page, perPage)
	}, onramp.Payment.View)
}

type sandboxPayRequest struct {
	Amount    json.RawMessage `json:"amount"`
	PayerName string          `json:"payer_name"`
}

func (s *Server) sandboxPay(r *http.Request) (any, error) {
	var req sandboxPayRequest
	if err := decodeJSON(r, &req); err != nil {
		return nil, err
	}
	in := caller(r)
	p, err := s.Onramp.Get(r.Context(), in.ID, r.PathValue("payment_id"))
	if err != nil {
		return nil, err
	}
	amount := p.FiatAmount
	if len(req.Amount) > 0 && string(req.Amount) != "null" {
		if amount, err = money.ParseJSON(req.Amount, p.FiatAmount.Scale(), money.ParseOptions{}); err != nil {
			return nil, errcode.Field("amount", "The amount is not valid: %s.", err.Error())
		}
	}
	p, err = s.Onramp.SandboxPay(r.Context(), in.ID, p.ID, amount, req.PayerName)
	if err != nil {
		return nil, err
	}
	return p.View(), nil
}

type sandboxFailRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) sandboxFail(r *http.Request) (any, error) {
	var req sandboxFailRequest
	if err := decodeJSON(r, &req); err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(req.Reason)
	if reason == "" {
		reason = "failed in the sandbox"
	}
	p, err := s.Onramp.Fail(r.Context(), caller(r).ID, r.PathValue("payment_id"), reason)
	if err != nil {
		return nil, err
	}
	return p.View(), nil
}
