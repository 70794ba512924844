package admin

import (
	"encoding/json"
	"github.com/pocketramp/pocketramp/internal/api"
	"io"
	"net/http"

	"github.com/pocketramp/pocketramp/internal/bankfile"
	"github.com/pocketramp/pocketramp/internal/banking"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/operator"
)

// statementMaxBody bounds an uploaded statement (a 100,000-entry camt.053 is about 100 MB).
const statementMaxBody = 256 << 20

func (s *Server) operatorBankingRoutes() {
	s.post("POST /admin/api/bank-accounts", operator.AreaBank, "bank.account.register", s.registerBankAccount)
	s.post("POST /admin/api/bank-accounts/{iban}/assign", operator.AreaBank, "bank.account.assign", s.assignBankAccount)
	s.postLimit("POST /admin/api/bank-accounts/{iban}/statements", statementMaxBody, operator.AreaBank, "bank.statement.upload", s.uploadStatement)
	s.handleAPI("POST /admin/api/bank-accounts/{iban}/payouts/export", s.requireOperator(operator.AreaBank, http.HandlerFunc(s.exportPayouts)))
	s.get("GET /admin/api/bank/exceptions", operator.AreaBank, s.bankExceptions)
	s.post("POST /admin/api/bank/transactions/{id}/resolve", operator.AreaBank, "bank.transaction.resolve", s.resolveBankTransaction)
	s.post("POST /admin/api/bank/transactions/{id}/match", operator.AreaBank, "bank.transaction.match", s.matchBankTransaction)
}

type bankAccountRequest struct {
	IBAN       string `json:"iban"`
	BIC        string `json:"bic"`
	HolderName string `json:"holder_name"`
	BankName   string `json:"bank_name"`
	Currency   string `json:"currency"`
	Sandbox    bool   `json:"sandbox"`
}

func (s *Server) registerBankAccount(r *http.Request) (any, error) {
	var req bankAccountRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return nil, err
	}
	return s.Accounts.Register(r.Context(), banking.Account{IBAN: req.IBAN, BIC: req.BIC, HolderName: req.HolderName,
		BankName: req.BankName, Currency: req.Currency, Sandbox: req.Sandbox})
}

type assignRequest struct {
	IntegrationID int64 `json:"integration_id"`
}

func (s *Server) assignBankAccount(r *http.Request) (any, error) {
	var req assignRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return nil, err
	}
	if _, err := s.Integrations.Get(r.Context(), req.IntegrationID); err != nil {
		return nil, errcode.Field("integration_id", "No integration has this id.")
	}
	if err := s.Accounts.Assign(r.Context(), req.IntegrationID, r.PathValue("iban")); err != nil {
		return nil, errcode.Field("iban", "No operator account has this IBAN.")
	}
	return s.Accounts.ForIntegration(r.Context(), req.IntegrationID)
}

// uploadStatement imports the request body (camt XML or CSV). A CSV column mapping may be given
// as the JSON query parameter "mapping" (bankfile.CSVMapping); the default is the Spanish preset.
func (s *Server) uploadStatement(r *http.Request) (any, error) {
	raw, err := api.ReadBody(r)
	if err != nil {
		return nil, err
	}
	var mapping *bankfile.CSVMapping
	if m := r.URL.Query().Get("mapping"); m != "" {
		mapping = &bankfile.CSVMapping{}
		if err := json.Unmarshal([]byte(m), mapping); err != nil {
			return nil, errcode.Field("mapping", "The mapping is not valid JSON: %s", err.Error())
		}
	}
	return s.Banking.ImportFile(r.Context(), r.PathValue("iban"), "upload", raw, mapping)
}

func (s *Server) exportPayouts(w http.ResponseWriter, r *http.Request) {
	var b banking.Batch
	var ok bool
	_, err := s.audited(r, operator.AreaBank, "bank.payouts.export", "bank-account:"+r.PathValue("iban"), func(r *http.Request) (any, error) {
		var err error
		b, ok, err = s.Banking.ExportBatch(r.Context(), r.PathValue("iban"))
		if err != nil || !ok {
			return nil, err
		}
		return map[string]any{"message_id": b.MessageID}, nil
	})
	if err != nil {
		s.API.RenderError(w, r, err)
		return
	}
	if !ok {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Disposition", `attachment; filename="`+b.MessageID+`.xml"`)
	io.WriteString(w, string(b.File))
}

type bankExceptionJSON struct {
	api.BankTxJSON
	Exception string `json:"exception"`
}

func (s *Server) bankExceptions(r *http.Request) (any, error) {
	page, perPage, err := api.ParsePage(r)
	if err != nil {
		return nil, err
	}
	list, total, err := s.Banking.Exceptions(r.Context(), page, perPage)
	if err != nil {
		return nil, err
	}
	items := make([]bankExceptionJSON, len(list))
	for i, t := range list {
		items[i] = bankExceptionJSON{api.BankTxView(t), t.Exception}
	}
	return api.Paginated(items, page, perPage, total), nil
}

type resolveRequest struct {
	Action string `json:"action"`
	Note   string `json:"note"`
}

func (s *Server) resolveBankTransaction(r *http.Request) (any, error) {
	id, err := api.PathID(r, "id", banking.ErrTransactionNotFound)
	if err != nil {
		return nil, err
	}
	var req resolveRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return nil, err
	}
	t, err := s.Banking.Resolve(r.Context(), id, req.Action, req.Note)
	if err != nil {
		return nil, err
	}
	return bankExceptionJSON{api.BankTxView(t), t.Exception}, nil
}

func (s *Server) matchBankTransaction(r *http.Request) (any, error) {
	var req api.ReconcileRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return nil, err
	}
	status, err := s.Banking.OperatorMatch(r.Context(), req.PaymentID, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return map[string]string{"payment_id": req.PaymentID, "transaction_id": r.PathValue("id"), "payment_status": status}, nil
}
