package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/pocketramp/pocketramp/internal/api"
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
	s.get("GET /admin/api/bank/payouts", operator.AreaBank, s.bankPayouts)
	s.get("GET /admin/api/bank/payouts/{id}", operator.AreaBank, s.bankPayout)
	s.post("POST /admin/api/bank/payouts/{id}/beneficiary", operator.AreaBank, "bank.payout.correct", s.correctBankPayout)
	s.post("POST /admin/api/bank/payouts/{id}/retry", operator.AreaBank, "bank.payout.retry", s.retryBankPayout)
	s.post("POST /admin/api/bank/payouts/{id}/cancel", operator.AreaBank, "bank.payout.cancel", s.cancelBankPayout)
}

type bankAccountRequest struct {
	IBAN string `json:"iban"`
	// AccountID and AccountScheme identify an account that has no IBAN (CLABE, CBU, a local
	// account number ...), instead of iban.
	AccountID     string `json:"account_id"`
	AccountScheme string `json:"account_scheme"`
	BIC           string `json:"bic"`
	HolderName    string `json:"holder_name"`
	BankName      string `json:"bank_name"`
	Currency      string `json:"currency"`
	Sandbox       bool   `json:"sandbox"`
	BatchBooking  bool   `json:"batch_booking"`
	PainVersion   string `json:"pain_version"`
}

type bankAccountJSON struct {
	banking.Account
	AccountID     string `json:"account_id"`
	AccountScheme string `json:"account_scheme"`
	BatchBooking  bool   `json:"batch_booking"`
	PainVersion   string `json:"pain_version"`
}

func (s *Server) registerBankAccount(r *http.Request) (any, error) {
	var req bankAccountRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return nil, err
	}
	a := banking.Account{IBAN: req.IBAN, BIC: req.BIC, HolderName: req.HolderName, BankName: req.BankName, Currency: req.Currency,
		Sandbox: req.Sandbox, BatchBooking: req.BatchBooking, PainVersion: req.PainVersion}
	if req.AccountID != "" || req.AccountScheme != "" {
		if req.IBAN != "" {
			return nil, errcode.Field("account_id", "Give iban or account_id, not both.")
		}
		if strings.TrimSpace(req.AccountScheme) == "" {
			return nil, errcode.Field("account_scheme", "The account scheme (e.g. CLABE, CBU, BBAN) is required with account_id.")
		}
		a.IBAN, a.Scheme = req.AccountID, req.AccountScheme
	}
	a, err := s.Accounts.Register(r.Context(), a)
	if err != nil {
		return nil, err
	}
	out := bankAccountJSON{Account: a, AccountID: a.IBAN, AccountScheme: a.Scheme, BatchBooking: a.BatchBooking, PainVersion: a.PainVersion}
	if a.Scheme != "" {
		out.Account.IBAN = ""
	}
	return out, nil
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

// exportPayouts answers the pain.001 of the account's pending payouts. Payouts that cannot be
// exported are set aside (held) and named in X-Payouts-Held; when every pending payout was set
// aside the answer is 409 bank_payouts_held listing them, and 204 when nothing was pending.
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
	if len(b.Held) > 0 {
		w.Header().Set("X-Payouts-Held", strconv.Itoa(len(b.Held)))
	}
	if !ok {
		if len(b.Held) > 0 {
			s.API.RenderError(w, r, banking.ErrPayoutsHeld.With(fmt.Sprintf("No payout was exported: %d pending payouts cannot be exported as they are and were set aside; correct, retry or cancel them.", len(b.Held)), payoutViews(b.Held)))
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Disposition", `attachment; filename="`+b.MessageID+`.xml"`)
	w.Write(b.File)
}

type bankPayoutJSON struct {
	banking.Payout
	Amount string `json:"amount"`
}

func payoutViews(list []banking.Payout) []bankPayoutJSON {
	out := make([]bankPayoutJSON, len(list))
	for i, p := range list {
		out[i] = bankPayoutJSON{p, p.Amount.String()}
	}
	return out
}

// bankPayouts lists payouts, oldest first; ?status=held is the operator's queue of payouts set
// aside, ?account= narrows to one operator account.
func (s *Server) bankPayouts(r *http.Request) (any, error) {
	page, perPage, err := api.ParsePage(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	status := q.Get("status")
	switch status {
	case "", banking.PayoutPending, banking.PayoutHeld, banking.PayoutExported, banking.PayoutConfirmed, banking.PayoutReturned, banking.PayoutCancelled:
	default:
		return nil, errcode.Field("status", "The status must be pending, held, exported, confirmed, returned or cancelled.")
	}
	list, total, err := s.Banking.ListPayouts(r.Context(), banking.PayoutFilter{Account: q.Get("account"), Status: status}, page, perPage)
	if err != nil {
		return nil, err
	}
	return api.Paginated(payoutViews(list), page, perPage, total), nil
}

func (s *Server) bankPayout(r *http.Request) (any, error) {
	id, err := api.PathID(r, "id", banking.ErrPayoutNotFound)
	if err != nil {
		return nil, err
	}
	p, err := s.Banking.PayoutByID(r.Context(), id)
	if err != nil {
		return nil, err
	}
	return payoutViews([]banking.Payout{p})[0], nil
}

type beneficiaryRequest struct {
	Name string `json:"name"`
	IBAN string `json:"iban"`
	BIC  string `json:"bic"`
	Note string `json:"note"`
}

func (s *Server) correctBankPayout(r *http.Request) (any, error) {
	id, err := api.PathID(r, "id", banking.ErrPayoutNotFound)
	if err != nil {
		return nil, err
	}
	var req beneficiaryRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return nil, err
	}
	if req.Name == "" && req.IBAN == "" && req.BIC == "" {
		return nil, errcode.Field("name", "Give the corrected name, iban or bic.")
	}
	p, err := s.Banking.CorrectPayout(r.Context(), id, banking.Beneficiary{Name: req.Name, IBAN: req.IBAN, BIC: req.BIC, Note: req.Note})
	if err != nil {
		return nil, err
	}
	return payoutViews([]banking.Payout{p})[0], nil
}

type payoutNoteRequest struct {
	Note string `json:"note"`
}

func (s *Server) retryBankPayout(r *http.Request) (any, error) {
	return s.payoutAction(r, s.Banking.RetryPayout)
}

func (s *Server) cancelBankPayout(r *http.Request) (any, error) {
	return s.payoutAction(r, s.Banking.CancelPayout)
}

func (s *Server) payoutAction(r *http.Request, action func(context.Context, int64, string) (banking.Payout, error)) (any, error) {
	id, err := api.PathID(r, "id", banking.ErrPayoutNotFound)
	if err != nil {
		return nil, err
	}
	var req payoutNoteRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return nil, err
	}
	p, err := action(r.Context(), id, req.Note)
	if err != nil {
		return nil, err
	}
	return payoutViews([]banking.Payout{p})[0], nil
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
