package api

import (
	"encoding/json"
	"net/http"
	"slices"
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

	s.operator("GET /admin/api/rampoffs", s.operatorRampoffs)
	s.operator("GET /admin/api/rampoffs/local-payouts", s.operatorLocalPayouts)
	s.operator("GET /admin/api/rampoffs/transitions", func(r *http.Request) (any, error) { return offramp.Transitions, nil })
	s.operator("GET /admin/api/rampoffs/{id}", s.operatorRampoff)
	s.operator("POST /admin/api/rampoffs/{id}/confirm-payout", s.confirmRampoffPayout)
	s.operator("POST /admin/api/rampoffs/{id}/release", s.releaseRampoff)
	s.operator("POST /admin/api/rampoffs/{id}/refund", s.refundRampoff)
	s.operator("GET /admin/api/sweeps", s.operatorSweeps)
	s.operator("GET /admin/api/integrations/{id}/offramp-settings", s.getOfframpSettings)
	s.operator("POST /admin/api/integrations/{id}/offramp-settings", s.saveOfframpSettings)
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
	q := r.URL.Query()
	f := errcode.Fields{}
	filter := offramp.Filter{Status: q.Get("status"), ExternalID: q.Get("external_id"),
		From: parseDate(f, "from", q.Get("from"), false), To: parseDate(f, "to", q.Get("to"), true)}
	if filter.Status != "" && !slices.Contains(offramp.Statuses, filter.Status) {
		f.Add("status", "The status must be one of %s.", strings.Join(offramp.Statuses, ", "))
	}
	if v := q.Get("user_id"); v != "" {
		id, err := queryID(r, "user_id")
		if err != nil {
			return filter, err
		}
		filter.UserID = id
	}
	return filter, f.Err()
}

func (s *Server) listRampoffs(r *http.Request) (any, error) {
	page, perPage, err := parsePage(r)
	if err != nil {
		return nil, err
	}
	filter, err := rampoffFilter(r)
	if err != nil {
		return nil, err
	}
	list, total, err := s.Offramp.List(r.Context(), caller(r).ID, filter, page, perPage)
	if err != nil {
		return nil, err
	}
	items := make([]offramp.View, len(list))
	for i, o := range list {
		items[i] = o.View()
	}
	return paginated(items, page, perPage, total), nil
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

// Operator side.

type operatorRampoffJSON struct {
	offramp.View
	IntegrationID  int64         `json:"integration_id"`
	Sandbox        bool          `json:"sandbox"`
	PayoutKind     string        `json:"payout_kind"`
	PayoutAccount  string        `json:"payout_account"`
	BankName       string        `json:"bank_name,omitempty"`
	Beneficiary    string        `json:"beneficiary"`
	OperatorIBAN   string        `json:"operator_iban,omitempty"`
	QuotedFiat     string        `json:"quoted_fiat_amount"`
	ConfirmedBy    string        `json:"payout_confirmed_by,omitempty"`
	DepositAddress string        `json:"deposit_address"`
	DepositIndex   uint32        `json:"deposit_index"`
	Deposits       []depositJSON `json:"deposits,omitempty"`
}

type depositJSON struct {
	ID          int64  `json:"id"`
	RampoffID   string `json:"rampoff_id"`
	Network     string `json:"network"`
	Chain       string `json:"chain"`
	Address     string `json:"address"`
	HDIndex     uint32 `json:"hd_index"`
	Asset       string `json:"asset"`
	Amount      string `json:"amount"`
	From        string `json:"from"`
	TxHash      string `json:"tx_hash"`
	Status      string `json:"status"`
	Reason      string `json:"reason,omitempty"`
	Reorged     bool   `json:"reorged"`
	RefundTo    string `json:"refund_to,omitempty"`
	RefundTxID  string `json:"refund_txid,omitempty"`
	SweepStatus string `json:"sweep_status"`
	SweepTxID   string `json:"sweep_txid,omitempty"`
	SweepError  string `json:"sweep_error,omitempty"`
	Sandbox     bool   `json:"sandbox"`
	CreatedAt   string `json:"created_at"`
}

func depositView(d offramp.Deposit) depositJSON {
	return depositJSON{ID: d.ID, RampoffID: d.RampoffID, Network: d.Network, Chain: d.Chain, Address: d.Address, HDIndex: d.HDIndex,
		Asset: d.Asset, Amount: d.Amount.String(), From: d.From, TxHash: d.TxHash, Status: d.Status, Reason: d.Reason, Reorged: d.Reorged,
		RefundTo: d.RefundTo, RefundTxID: d.RefundTxID, SweepStatus: d.SweepStatus, SweepTxID: d.SweepTxID, SweepError: d.SweepError,
		Sandbox: d.Sandbox, CreatedAt: timestamp(d.CreatedAt)}
}

func operatorRampoffView(o offramp.Rampoff, deposits []offramp.Deposit) operatorRampoffJSON {
	v := operatorRampoffJSON{View: o.View(), IntegrationID: o.IntegrationID, Sandbox: o.Sandbox, PayoutKind: o.PayoutKind,
		PayoutAccount: o.PayoutAccount, BankName: o.BankName, Beneficiary: o.Beneficiary, OperatorIBAN: o.OperatorIBAN,
		QuotedFiat: o.QuotedFiat.String(), ConfirmedBy: o.ConfirmedBy, DepositAddress: o.DepositAddress, DepositIndex: o.DepositIndex}
	for _, d := range deposits {
		v.Deposits = append(v.Deposits, depositView(d))
	}
	return v
}

func (s *Server) operatorRampoffList(r *http.Request, kind string) (any, error) {
	page, perPage, err := parsePage(r)
	if err != nil {
		return nil, err
	}
	filter, err := rampoffFilter(r)
	if err != nil {
		return nil, err
	}
	if kind != "" {
		filter.PayoutKind, filter.Status = kind, offramp.StatusProcessing
	}
	list, total, err := s.Offramp.List(r.Context(), 0, filter, page, perPage)
	if err != nil {
		return nil, err
	}
	items := make([]operatorRampoffJSON, len(list))
	for i, o := range list {
		items[i] = operatorRampoffView(o, nil)
	}
	return paginated(items, page, perPage, total), nil
}

func (s *Server) operatorRampoffs(r *http.Request) (any, error) { return s.operatorRampoffList(r, "") }

// operatorLocalPayouts lists the LATAM payouts to execute from the operator's local accounts
// (processing until confirmed).
func (s *Server) operatorLocalPayouts(r *http.Request) (any, error) {
	return s.operatorRampoffList(r, offramp.PayoutLocal)
}

func (s *Server) operatorRampoff(r *http.Request) (any, error) {
	o, err := s.Offramp.GetAny(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	ds, err := s.Offramp.Deposits(r.Context(), o.ID)
	if err != nil {
		return nil, err
	}
	return operatorRampoffView(o, ds), nil
}

func (s *Server) confirmRampoffPayout(r *http.Request) (any, error) {
	var req struct {
		Reference string `json:"reference"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return nil, err
	}
	o, err := s.Offramp.ConfirmPayout(r.Context(), r.PathValue("id"), req.Reference)
	if err != nil {
		return nil, err
	}
	return operatorRampoffView(o, nil), nil
}

func (s *Server) releaseRampoff(r *http.Request) (any, error) {
	var req struct {
		Reprice bool `json:"reprice"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return nil, err
	}
	o, err := s.Offramp.Release(r.Context(), r.PathValue("id"), req.Reprice)
	if err != nil {
		return nil, err
	}
	return operatorRampoffView(o, nil), nil
}

func (s *Server) refundRampoff(r *http.Request) (any, error) {
	var req struct {
		Address string `json:"address"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return nil, err
	}
	o, err := s.Offramp.Refund(r.Context(), r.PathValue("id"), req.Address)
	if err != nil {
		return nil, err
	}
	ds, err := s.Offramp.Deposits(r.Context(), o.ID)
	if err != nil {
		return nil, err
	}
	return operatorRampoffView(o, ds), nil
}

func (s *Server) operatorSweeps(r *http.Request) (any, error) {
	var sandbox *bool
	switch v := r.URL.Query().Get("sandbox"); v {
	case "":
	case "true", "false":
		b := v == "true"
		sandbox = &b
	default:
		return nil, errcode.Field("sandbox", "The sandbox filter must be true or false.")
	}
	ds, err := s.Offramp.Sweeps(r.Context(), sandbox)
	if err != nil {
		return nil, err
	}
	out := make([]depositJSON, len(ds))
	for i, d := range ds {
		out[i] = depositView(d)
	}
	return out, nil
}

func (s *Server) getOfframpSettings(r *http.Request) (any, error) {
	id, err := pathID(r, "id", errcode.NotFound)
	if err != nil {
		return nil, err
	}
	return offramp.SettingsOf(r.Context(), s.DB, id)
}

func (s *Server) saveOfframpSettings(r *http.Request) (any, error) {
	id, err := pathID(r, "id", errcode.NotFound)
	if err != nil {
		return nil, err
	}
	if _, err := s.Integrations.Get(r.Context(), id); err != nil {
		return nil, err
	}
	var st offramp.Settings
	if err := decodeJSON(r, &st); err != nil {
		return nil, err
	}
	if err := offramp.SaveSettings(r.Context(), s.DB, id, st, s.Now()); err != nil {
		return nil, err
	}
	return offramp.SettingsOf(r.Context(), s.DB, id)
}
