package admin

import (
	"github.com/pocketramp/pocketramp/internal/api"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/offramp"
	"github.com/pocketramp/pocketramp/internal/operator"
	"net/http"
)

func (s *Server) operatorRampoffRoutes() {
	s.get("GET /admin/api/rampoffs", operator.AreaPayments, s.operatorRampoffs)
	s.get("GET /admin/api/rampoffs/local-payouts", operator.AreaPayments, s.operatorLocalPayouts)
	s.get("GET /admin/api/rampoffs/transitions", operator.AreaPayments, func(r *http.Request) (any, error) { return offramp.Transitions(), nil })
	s.get("GET /admin/api/rampoffs/{id}", operator.AreaPayments, s.operatorRampoff)
	s.post("POST /admin/api/rampoffs/{id}/confirm-payout", operator.AreaPayments, "rampoff.confirm_payout", s.confirmRampoffPayout)
	s.post("POST /admin/api/rampoffs/{id}/release", operator.AreaPayments, "rampoff.release", s.releaseRampoff)
	s.post("POST /admin/api/rampoffs/{id}/refund", operator.AreaPayments, "rampoff.refund", s.refundRampoff)
	s.get("GET /admin/api/sweeps", operator.AreaChains, s.operatorSweeps)
	s.get("GET /admin/api/integrations/{id}/offramp-settings", operator.AreaIntegrations, s.getOfframpSettings)
	s.post("POST /admin/api/integrations/{id}/offramp-settings", operator.AreaIntegrations, "integration.offramp_settings", s.saveOfframpSettings)
}

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
		Sandbox: d.Sandbox, CreatedAt: api.Timestamp(d.CreatedAt)}
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
	page, perPage, err := api.ParsePage(r)
	if err != nil {
		return nil, err
	}
	filter, err := api.RampoffFilter(r)
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
	return api.Paginated(items, page, perPage, total), nil
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
	if err := api.DecodeJSON(r, &req); err != nil {
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
	if err := api.DecodeJSON(r, &req); err != nil {
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
	if err := api.DecodeJSON(r, &req); err != nil {
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
	id, err := api.PathID(r, "id", errcode.NotFound)
	if err != nil {
		return nil, err
	}
	return offramp.SettingsOf(r.Context(), s.DB, id)
}

func (s *Server) saveOfframpSettings(r *http.Request) (any, error) {
	id, err := api.PathID(r, "id", errcode.NotFound)
	if err != nil {
		return nil, err
	}
	var st offramp.Settings
	if err := api.DecodeJSON(r, &st); err != nil {
		return nil, err
	}
	return s.saveOfframp(r, id, st)
}
