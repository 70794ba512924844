package admin

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/pocketramp/pocketramp/internal/api"
	"github.com/pocketramp/pocketramp/internal/banking"
	"github.com/pocketramp/pocketramp/internal/chainset"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/onramp"
	"github.com/pocketramp/pocketramp/internal/operator"
)

// The operator JSON API of payments (on-ramp), operation timelines, chains, bank accounts and
// the ledger's balances: what the console's pages show, for scripts.
func (s *Server) operatorOpsRoutes() {
	s.get("GET /admin/api/payments", operator.AreaPayments, s.operatorPayments)
	s.get("GET /admin/api/payments/{id}", operator.AreaPayments, s.operatorPayment)
	s.get("GET /admin/api/payments/{id}/timeline", operator.AreaPayments, s.operatorPaymentTimeline)
	s.post("POST /admin/api/payments/{id}/release", operator.AreaPayments, "payment.release", s.releasePayment)
	s.post("POST /admin/api/payments/{id}/refund", operator.AreaPayments, "payment.refund", s.refundPayment)
	s.get("GET /admin/api/rampoffs/{id}/timeline", operator.AreaPayments, s.operatorRampoffTimeline)
	s.get("GET /admin/api/chains/wallets", operator.AreaChains, s.operatorWallets)
	s.get("GET /admin/api/chains/payouts", operator.AreaChains, s.operatorChainPayouts)
	s.get("GET /admin/api/bank/accounts", operator.AreaBank, s.operatorBankAccounts)
	s.get("GET /admin/api/bank/imports", operator.AreaBank, s.operatorBankImports)
	s.get("GET /admin/api/ledger/balances", operator.AreaLedger, s.operatorLedgerBalances)
	s.get("GET /admin/api/ledger/accounts", operator.AreaLedger, s.operatorLedgerAccounts)
	s.get("GET /admin/api/ledger/accounts/{id}/history", operator.AreaLedger, s.operatorLedgerHistory)
}

type operatorPaymentJSON struct {
	onramp.View
	IntegrationID  int64  `json:"integration_id"`
	Sandbox        bool   `json:"sandbox"`
	Held           bool   `json:"held"`
	Concept        string `json:"concept,omitempty"`
	BankIBAN       string `json:"bank_iban,omitempty"`
	ReceivedAmount string `json:"received_amount,omitempty"`
	ReceivedAt     string `json:"received_at,omitempty"`
}

func operatorPaymentView(p onramp.Payment) operatorPaymentJSON {
	v := operatorPaymentJSON{View: p.View(), IntegrationID: p.IntegrationID, Sandbox: p.Sandbox, Concept: p.Concept, BankIBAN: p.BankIBAN,
		Held: p.Status == onramp.StatusPaymentReceived && p.HoldReason != "" && p.PayoutID == 0}
	if p.ReceivedAmount != nil {
		v.ReceivedAmount, v.ReceivedAt = p.ReceivedAmount.String(), api.Timestamp(p.ReceivedAt)
	}
	return v
}

// paymentFilter reads the operator's payment filters: the partner API's (status, user_id,
// external_id, from, to) plus integration_id, method and held=true.
func paymentFilter(r *http.Request) (onramp.OperatorFilter, error) {
	base, err := api.PaymentFilter(r)
	if err != nil {
		return onramp.OperatorFilter{}, err
	}
	q := r.URL.Query()
	f := onramp.OperatorFilter{Filter: base, Method: strings.TrimSpace(q.Get("method"))}
	if v := q.Get("integration_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return f, errcode.Field("integration_id", "The integration_id must be a positive integer.")
		}
		f.IntegrationID = n
	}
	if f.Method != "" {
		if _, ok := onramp.MethodByCode(f.Method); !ok {
			return f, errcode.Field("method", "Unknown payment method %q.", f.Method)
		}
	}
	switch q.Get("held") {
	case "", "false":
	case "true":
		f.Held = true
	default:
		return f, errcode.Field("held", "The held filter must be true or false.")
	}
	return f, nil
}

func (s *Server) operatorPayments(r *http.Request) (any, error) {
	page, perPage, err := api.ParsePage(r)
	if err != nil {
		return nil, err
	}
	f, err := paymentFilter(r)
	if err != nil {
		return nil, err
	}
	list, total, err := s.Onramp.ListAll(r.Context(), f, page, perPage)
	if err != nil {
		return nil, err
	}
	items := make([]operatorPaymentJSON, len(list))
	for i, p := range list {
		items[i] = operatorPaymentView(p)
	}
	return api.Paginated(items, page, perPage, total), nil
}

func (s *Server) operatorPayment(r *http.Request) (any, error) {
	p, err := s.Onramp.GetAny(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return operatorPaymentView(p), nil
}

func (s *Server) operatorPaymentTimeline(r *http.Request) (any, error) {
	p, err := s.Onramp.GetAny(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return s.paymentTimeline(r.Context(), p)
}

func (s *Server) operatorRampoffTimeline(r *http.Request) (any, error) {
	o, err := s.Offramp.GetAny(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	ds, err := s.Offramp.Deposits(r.Context(), o.ID)
	if err != nil {
		return nil, err
	}
	return s.rampoffTimeline(r.Context(), o, ds)
}

// paymentAction runs a held payment's release or refund for the console and the API alike: the
// audit record holds the payment before and after.
// paymentAction runs do with the request's context: inside audited it carries the joined
// transaction, and on SQLite a call on another connection would wait for its lock forever.
func (s *Server) paymentAction(r *http.Request, id string, do func(ctx context.Context) (onramp.Payment, error)) (operatorPaymentJSON, error) {
	before, err := s.Onramp.GetAny(r.Context(), id)
	if err != nil {
		return operatorPaymentJSON{}, err
	}
	noteBefore(r, "payment:"+id, operatorPaymentView(before))
	p, err := do(r.Context())
	if err != nil {
		return operatorPaymentJSON{}, err
	}
	return operatorPaymentView(p), nil
}

type releaseRequest struct {
	Reprice bool `json:"reprice"`
}

func (s *Server) releasePayment(r *http.Request) (any, error) {
	var req releaseRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return nil, err
	}
	id := r.PathValue("id")
	return s.paymentAction(r, id, func(ctx context.Context) (onramp.Payment, error) { return s.Onramp.Release(ctx, id, req.Reprice) })
}

type refundRequest struct {
	IBAN string `json:"iban"`
	Name string `json:"name"`
}

func (s *Server) refundPayment(r *http.Request) (any, error) {
	var req refundRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return nil, err
	}
	id := r.PathValue("id")
	return s.paymentAction(r, id, func(ctx context.Context) (onramp.Payment, error) {
		return s.Onramp.Refund(ctx, id, onramp.RefundTo{IBAN: req.IBAN, Name: req.Name})
	})
}

type balanceJSON struct {
	Asset    string `json:"asset"`
	Decimals uint8  `json:"decimals"`
	Amount   string `json:"amount"` // decimal
	Units    string `json:"units"`  // base units
}

type walletJSON struct {
	Chain    string        `json:"chain"`
	Sandbox  bool          `json:"sandbox"`
	Address  string        `json:"address"`
	Balances []balanceJSON `json:"balances"`
	Error    string        `json:"error,omitempty"`
}

func (s *Server) wallets(r *http.Request) []walletJSON {
	if s.Chains == nil {
		return []walletJSON{}
	}
	ws := s.Chains.Wallets(r.Context())
	out := make([]walletJSON, len(ws))
	for i, w := range ws {
		out[i] = walletJSON{Chain: w.Chain, Sandbox: w.Sandbox, Address: w.Address, Error: w.Err, Balances: []balanceJSON{}}
		for _, b := range w.Balances {
			out[i].Balances = append(out[i].Balances, balanceJSON{Asset: b.Asset, Decimals: b.Decimals,
				Amount: money.New(b.Amount, int(b.Decimals)).String(), Units: b.Amount.String()})
		}
	}
	return out
}

func (s *Server) operatorWallets(r *http.Request) (any, error) { return s.wallets(r), nil }

type chainPayoutJSON struct {
	ID            int64  `json:"id"`
	Chain         string `json:"chain"`
	Sandbox       bool   `json:"sandbox"`
	Key           string `json:"key"`
	Asset         string `json:"asset"`
	To            string `json:"to"`
	Units         string `json:"units"`
	Status        string `json:"status"`
	Reason        string `json:"reason,omitempty"`
	LastError     string `json:"last_error,omitempty"`
	TxHash        string `json:"tx_hash,omitempty"`
	Explorer      string `json:"explorer_url,omitempty"`
	Confirmations int64  `json:"confirmations"`
	Attempts      int    `json:"attempts"`
	CreatedAt     string `json:"created_at"`
}

// openChainPayouts reads the chain payouts not yet final (at most 500).
func (s *Server) openChainPayouts(r *http.Request) ([]chainPayoutJSON, error) {
	list, err := chainset.OpenPayouts(r.Context(), s.DB, 500)
	if err != nil {
		return nil, err
	}
	out := make([]chainPayoutJSON, len(list))
	for i, p := range list {
		out[i] = chainPayoutJSON{ID: p.ID, Chain: p.Chain, Sandbox: p.Sandbox, Key: p.Key, Asset: p.Asset, To: p.To, Units: p.Amount.String(),
			Status: p.Status, Reason: p.Reason, LastError: p.LastError, TxHash: p.TxHash, Explorer: explorerURL(p.Chain, p.Sandbox, p.TxHash),
			Confirmations: p.Confirmations, Attempts: p.Attempts, CreatedAt: api.Timestamp(p.CreatedAt)}
	}
	return out, nil
}

func (s *Server) operatorChainPayouts(r *http.Request) (any, error) { return s.openChainPayouts(r) }

type bankAccountSummaryJSON struct {
	IBAN        string         `json:"account"`
	Scheme      string         `json:"account_scheme,omitempty"`
	BIC         string         `json:"bic"`
	HolderName  string         `json:"holder_name"`
	BankName    string         `json:"bank_name"`
	Currency    string         `json:"currency"`
	Status      string         `json:"status"`
	Sandbox     bool           `json:"sandbox"`
	PainVersion string         `json:"pain_version"`
	Balance     string         `json:"balance"`
	Suspense    string         `json:"unmatched"`
	Payouts     map[string]int `json:"payouts"`
	LastEntry   string         `json:"last_booking_date,omitempty"`
}

func bankSummaryView(a banking.AccountSummary) bankAccountSummaryJSON {
	return bankAccountSummaryJSON{IBAN: a.IBAN, Scheme: a.Scheme, BIC: a.BIC, HolderName: a.HolderName, BankName: a.BankName, Currency: a.Currency,
		Status: a.Status, Sandbox: a.Sandbox, PainVersion: a.PainVersion, Balance: a.Balance.String(), Suspense: a.Suspense.String(),
		Payouts: a.Payouts, LastEntry: a.LastEntry}
}

func (s *Server) operatorBankAccounts(r *http.Request) (any, error) {
	list, err := s.Banking.Summaries(r.Context())
	if err != nil {
		return nil, err
	}
	out := make([]bankAccountSummaryJSON, len(list))
	for i, a := range list {
		out[i] = bankSummaryView(a)
	}
	return out, nil
}

func (s *Server) operatorBankImports(r *http.Request) (any, error) {
	list, err := s.Banking.RecentImports(r.Context(), 50)
	if err != nil {
		return nil, err
	}
	type importJSON struct {
		ID        int64                      `json:"id"`
		Account   string                     `json:"account"`
		Source    string                     `json:"source"`
		Entries   int                        `json:"entries"`
		Warnings  []string                   `json:"warnings"`
		Skipped   []banking.SkippedStatement `json:"skipped"`
		CreatedAt string                     `json:"created_at"`
	}
	out := make([]importJSON, len(list))
	for i, im := range list {
		out[i] = importJSON{ID: im.ID, Account: im.IBAN, Source: im.Source, Entries: im.Entries, Warnings: im.Report.Warnings,
			Skipped: im.Report.Skipped, CreatedAt: im.CreatedAt}
		if out[i].Warnings == nil {
			out[i].Warnings = []string{}
		}
		if out[i].Skipped == nil {
			out[i].Skipped = []banking.SkippedStatement{}
		}
	}
	return out, nil
}

type ledgerTotalJSON struct {
	Sandbox  bool   `json:"sandbox"`
	Kind     string `json:"kind"`
	Asset    string `json:"asset"`
	Accounts int    `json:"accounts"`
	Balance  string `json:"balance"` // minor units, signed
}

func (s *Server) operatorLedgerBalances(r *http.Request) (any, error) {
	totals, err := ledger.Totals(r.Context(), s.DB)
	if err != nil {
		return nil, err
	}
	out := make([]ledgerTotalJSON, len(totals))
	for i, t := range totals {
		out[i] = ledgerTotalJSON{Sandbox: t.Sandbox, Kind: string(t.Kind), Asset: t.Asset, Accounts: t.Accounts, Balance: t.Balance.String()}
	}
	return out, nil
}

type ledgerAccountJSON struct {
	ID      int64  `json:"id"`
	Key     string `json:"key"`
	Kind    string `json:"kind"`
	Asset   string `json:"asset"`
	Balance string `json:"balance"` // minor units, signed
}

func (s *Server) operatorLedgerAccounts(r *http.Request) (any, error) {
	page, perPage, err := api.ParsePage(r)
	if err != nil {
		return nil, err
	}
	list, total, err := ledger.AccountsPage(r.Context(), s.DB, r.URL.Query().Get("prefix"), page, perPage)
	if err != nil {
		return nil, err
	}
	out := make([]ledgerAccountJSON, len(list))
	for i, a := range list {
		out[i] = ledgerAccountJSON{ID: int64(a.ID), Key: a.Key, Kind: string(a.Kind), Asset: a.Asset, Balance: a.Balance.String()}
	}
	return api.Paginated(out, page, perPage, total), nil
}

var errLedgerAccountNotFound = &errcode.Error{Code: "ledger_account_not_found", Kind: errcode.KindNotFound}

func (s *Server) operatorLedgerHistory(r *http.Request) (any, error) {
	id, err := api.PathID(r, "id", errLedgerAccountNotFound)
	if err != nil {
		return nil, err
	}
	page, perPage, err := api.ParsePage(r)
	if err != nil {
		return nil, err
	}
	h, err := ledger.History(r.Context(), s.DB, ledger.AccountID(id), page, perPage)
	if err != nil {
		return nil, errLedgerAccountNotFound
	}
	type entryJSON struct {
		TxID         int64  `json:"tx_id"`
		Reference    string `json:"reference"`
		Description  string `json:"description"`
		Amount       string `json:"amount"`
		BalanceAfter string `json:"balance_after"`
		PostedAt     string `json:"posted_at"`
	}
	out := make([]entryJSON, len(h.Entries))
	for i, e := range h.Entries {
		out[i] = entryJSON{TxID: int64(e.TxID), Reference: e.Reference, Description: e.Description, Amount: e.Amount.String(),
			BalanceAfter: e.BalanceAfter.String(), PostedAt: api.Timestamp(e.PostedAt)}
	}
	return api.Paginated(out, page, perPage, int(h.Total)), nil
}
