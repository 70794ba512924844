package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/offramp"
)

// rampoffRoutes serves the off-ramp (REFERENCE §5), its sandbox deposit (§8) and the operator
// endpoints that resolve holds, confirm LATAM payouts and list addresses to sweep.
func (s *Server) rampoffRoutes() {
	if s.Offramp == nil {
		return
	}
	s.partner("GET /api/rampoff/quote", s.rampoffQuote)
	s.partner("POST /api/createRampoff", s.createRampoff)
	s.partner("GET /api/getRampoff", s.getRampoff)
	s.partner("GET /api/rampoffs", s.listRampoffs)
	s.sandbox("POST /api/sandbox/rampoffs/{id}/deposit", s.sandboxRampoffDeposit)
}

type rampoffQuoteJSON struct {
	QuoteID    string   `json:"quote_id"`
	CoinSymbol string   `json:"coin_symbol"`
	Chain      string   `json:"chain"`
	CoinAmount string   `json:"coin_amount"`
	FiatSymbol string   `json:"fiat_symbol"`
	FiatAmount string   `json:"fiat_amount"`
	Price      string   `json:"price"`
	Fees       feesJSON `json:"fees"`
	ExpiresAt  string   `json:"expires_at"`
}

func (s *Server) rampoffQuote(r *http.Request) (any, error) {
	qs := r.URL.Query()
	var amount json.RawMessage
	if v := qs.Get("amount"); v != "" {
		amount, _ = json.Marshal(v)
	}
	in := caller(r)
	q, err := s.Offramp.Quote(r.Context(), offramp.QuoteInput{IntegrationID: in.ID, Sandbox: in.Sandbox, Amount: amount,
		Symbol: qs.Get("symbol"), Chain: qs.Get("blockchain"), Fiat: qs.Get("fiat_symbol")})
	if err != nil {
		return nil, err
	}
	return rampoffQuoteJSON{QuoteID: q.ID, CoinSymbol: q.Coin, Chain: q.Chain, CoinAmount: q.CoinAmount.String(), FiatSymbol: q.Fiat,
		FiatAmount: q.FiatAmount.String(), Price: q.Price.String(), ExpiresAt: timestamp(q.ExpiresAt),
		Fees: feesJSON{Processing: q.Fees.Processing.String(), Network: q.Fees.Network.String(), Partner: q.Fees.Partner.String(), Total: q.Fees.Total.String()}}, nil
}

type createRampoffRequest struct {
	UserID     flexInt         `json:"user_id"`
	Amount     json.RawMessage `json:"amount"`
	Blockchain string          `json:"blockchain"`
	Symbol     string          `json:"symbol"`
	IBAN       string          `json:"iban"`
	BankName   string          `json:"bank_name"`
	ExternalID flexStr         `json:"external_id"`
	QuoteID    string          `json:"quote_id"`
}

func (s *Server) createRampoff(r *http.Request) (any, error) {
	var req createRampoffRequest
	err := decodeJSON(r, &req)
	var inv *errcode.Invalid
	if err != nil && (isBodyError(err) || asInvalid(err, &inv) && inv.Fields.Has("user_id")) {
		return nil, err
	}
	if !req.UserID.Set {
		return nil, offramp.ErrMandatory
	}
	if err != nil {
		return nil, err
	}
	in := caller(r)
	o, err := s.Offramp.Create(r.Context(), offramp.CreateInput{IntegrationID: in.ID, Sandbox: in.Sandbox, UserID: req.UserID.Value,
		Amount: req.Amount, Blockchain: req.Blockchain, Symbol: req.Symbol, IBAN: req.IBAN, BankName: req.BankName,
		ExternalID: string(req.ExternalID), QuoteID: req.QuoteID})
	if err != nil {
		return nil, err
	}
	return map[string]any{"rampoff": "payment created", "wallet": o.DepositAddress, "id": o.ID, "expires_at": timestamp(o.ExpiresAt),
		"amount": o.Amount.UnitsString(), "decimals": o.Amount.Scale(), "fiat_amount": o.FiatAmount.String(), "fiat_symbol": o.Fiat}, nil
}

func (s *Server) getRampoff(r *http.Request) (any, error) {
	id := strings.TrimSpace(r.URL.Query().Get("id"))
	if id == "" {
		return nil, errcode.Field("id", "The id field is required.")
	}
	o, err := s.Offramp.Get(r.Context(), caller(r).ID, id)
	if err != nil {
		return nil, err
	}
	return o.View(), nil
}

// rampoffFilter reads the list filters shared by the partner and operator lists.
func rampoffFilter(r *http.Request) (offramp.Filter, error) {
	f, err := listFilter(r, offramp.Statuses())
	return offramp.Filter{Filter: f}, err
}

func (s *Server) listRampoffs(r *http.Request) (any, error) {
	return listed(r, rampoffFilter, func(f offramp.Filter, page, perPage int) ([]offramp.Rampoff, int, error) {
		return s.Offramp.List(r.Context(), caller(r).ID, f, page, perPage)
	}, offramp.Rampoff.View)
}

type sandboxDepositRequest struct {
	Amount json.RawMessage `json:"amount"`
	Symbol string          `json:"symbol"`
}

func (s *Server) sandboxRampoffDeposit(r *http.Request) (any, error) {
	var req sandboxDepositRequest
	if err := decodeJSON(r, &req); err != nil {
		return nil, err
	}
	o, err := s.Offramp.SandboxDeposit(r.Context(), offramp.SandboxDepositInput{IntegrationID: caller(r).ID, ID: r.PathValue("id"),
		Amount: req.Amount, Symbol: req.Symbol})
	if err != nil {
		return nil, err
	}
	return o.View(), nil
}
