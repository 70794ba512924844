package api

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/pocketramp/pocketramp/internal/banking"
	"github.com/pocketramp/pocketramp/internal/errcode"
)

func (s *Server) bankingRoutes() {
	s.partner("GET /api/banking/accounts", s.bankAccounts)
	s.partner("GET /api/banking/accounts/{iban}/transactions", s.bankTransactions)
	s.partner("POST /api/banking/reconcile", s.reconcile)
	s.sandbox("POST /api/sandbox/bank/transactions", s.sandboxBankTransaction)
}

func (s *Server) bankAccounts(r *http.Request) (any, error) {
	return s.Accounts.ForIntegration(r.Context(), caller(r).ID)
}

// bankTxJSON is a BankAccountTransaction (REFERENCE §6).
type bankTxJSON struct {
	ID               string  `json:"id"`
	IBAN             string  `json:"iban"`
	BookingDate      string  `json:"booking_date"`
	ValueDate        *string `json:"value_date"`
	Amount           string  `json:"amount"`
	Currency         string  `json:"currency"`
	Direction        string  `json:"direction"`
	Concept          string  `json:"concept"`
	CounterpartyName *string `json:"counterparty_name"`
	CounterpartyIBAN *string `json:"counterparty_iban"`
	EndToEndID       *string `json:"end_to_end_id"`
	Status           string  `json:"status"`
	PaymentID        *string `json:"payment_id"`
}

func bankTxView(t banking.Transaction) bankTxJSON {
	return bankTxJSON{ID: fmt.Sprint(t.ID), IBAN: t.IBAN, BookingDate: t.BookingDate, ValueDate: orNull(t.ValueDate), Amount: t.Amount.String(),
		Currency: t.Currency, Direction: t.Direction, Concept: t.Concept, CounterpartyName: orNull(t.CounterpartyName),
		CounterpartyIBAN: orNull(t.CounterpartyIBAN), EndToEndID: orNull(t.EndToEndID), Status: t.Status, PaymentID: orNull(t.PaymentID)}
}

func (s *Server) bankTransactions(r *http.Request) (any, error) {
	acct, err := s.Accounts.Get(r.Context(), caller(r).ID, r.PathValue("iban"))
	if err != nil {
		return nil, err
	}
	page, perPage, err := parsePage(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	f := errcode.Fields{}
	filter := banking.TxFilter{Status: q.Get("status")}
	if filter.Status != "" && !slices.Contains([]string{banking.StatusUnmatched, banking.StatusMatched, banking.StatusIgnored}, filter.Status) {
		f.Add("status", "The status must be unmatched, matched or ignored.")
	}
	for field, dst := range map[string]*string{"from": &filter.From, "to": &filter.To} {
		if v := q.Get(field); v != "" {
			if d := parseDate(f, field, v, false); !d.IsZero() {
				*dst = d.Format("2006-01-02")
			}
		}
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	list, total, err := s.Banking.Transactions(r.Context(), acct.IBAN, filter, page, perPage)
	if err != nil {
		return nil, err
	}
	items := make([]bankTxJSON, len(list))
	for i, t := range list {
		items[i] = bankTxView(t)
	}
	return paginated(items, page, perPage, total), nil
}

type reconcileRequest struct {
	PaymentID     string  `json:"payment_id"`
	TransactionID flexStr `json:"transaction_id"`
}

func (s *Server) reconcile(r *http.Request) (any, error) {
	var req reconcileRequest
	if err := decodeJSON(r, &req); err != nil {
		return nil, err
	}
	f := errcode.Fields{}
	if req.PaymentID == "" {
		errcode.Required(f, "payment_id")
	}
	if req.TransactionID == "" {
		errcode.Required(f, "transaction_id")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	status, err := s.Banking.Reconcile(r.Context(), caller(r).ID, req.PaymentID, string(req.TransactionID))
	if err != nil {
		return nil, err
	}
	return map[string]string{"payment_id": req.PaymentID, "transaction_id": string(req.TransactionID), "payment_status": status}, nil
}

type sandboxBankRequest struct {
	IBAN             string  `json:"iban"`
	Amount           flexStr `json:"amount"`
	Currency         string  `json:"currency"`
	Concept          string  `json:"concept"`
	CounterpartyName string  `json:"counterparty_name"`
	CounterpartyIBAN string  `json:"counterparty_iban"`
	BookingDate      string  `json:"booking_date"`
}

func (s *Server) sandboxBankTransaction(r *http.Request) (any, error) {
	var req sandboxBankRequest
	if err := decodeJSON(r, &req); err != nil {
		return nil, err
	}
	f := errcode.Fields{}
	if req.IBAN == "" {
		errcode.Required(f, "iban")
	}
	if req.Amount == "" {
		errcode.Required(f, "amount")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	t, err := s.Banking.SandboxTransfer(r.Context(), caller(r).ID, banking.SandboxTransferIn{IBAN: req.IBAN, Amount: string(req.Amount),
		Currency: req.Currency, Concept: req.Concept, CounterpartyName: req.CounterpartyName, CounterpartyIBAN: req.CounterpartyIBAN,
		BookingDate: req.BookingDate})
	if err != nil {
		return nil, err
	}
	return bankTxView(t), nil
}
