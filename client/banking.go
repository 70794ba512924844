package client

import (
	"context"
	"net/http"
	"net/url"
)

// BankAccount is an operator bank account assigned to the integration.
type BankAccount struct {
	IBAN       string `json:"iban"`
	BIC        string `json:"bic"`
	HolderName string `json:"holder_name"`
	BankName   string `json:"bank_name"`
	Currency   string `json:"currency"`
	Status     string `json:"status"`
}

// BankAccounts calls GET /banking/accounts.
func (c *Client) BankAccounts(ctx context.Context) ([]BankAccount, error) {
	var out []BankAccount
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/banking/accounts"}, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// BankTransaction is a booking on one of the integration's bank accounts.
type BankTransaction struct {
	ID               string `json:"id"`
	IBAN             string `json:"iban"`
	BookingDate      string `json:"booking_date"` // YYYY-MM-DD
	ValueDate        string `json:"value_date"`
	Amount           string `json:"amount"` // signed decimal string
	Currency         string `json:"currency"`
	Direction        string `json:"direction"` // credit, debit
	Concept          string `json:"concept"`
	CounterpartyName string `json:"counterparty_name"`
	CounterpartyIBAN string `json:"counterparty_iban"`
	EndToEndID       string `json:"end_to_end_id"`
	Status           string `json:"status"` // unmatched, matched, ignored
	PaymentID        string `json:"payment_id"`
}

// BankTransactionFilter selects transactions of BankTransactions; From and To are dates
// (YYYY-MM-DD).
type BankTransactionFilter struct {
	Status   string // unmatched, matched, ignored
	From, To string
	Page     int
	PerPage  int
}

// BankTransactionPage is a page of bank transactions.
type BankTransactionPage = Page[BankTransaction]

// BankTransactions calls GET /banking/accounts/{iban}/transactions; an IBAN not assigned to the
// integration is ErrBankAccountNotFound.
func (c *Client) BankTransactions(ctx context.Context, iban string, f BankTransactionFilter) (*BankTransactionPage, error) {
	q := url.Values{}
	set(q, "status", f.Status)
	set(q, "from", f.From)
	set(q, "to", f.To)
	PageRequest{f.Page, f.PerPage}.add(q)
	var out BankTransactionPage
	path := "/banking/accounts/" + pathID(iban) + "/transactions"
	if _, err := c.call(ctx, request{method: http.MethodGet, path: path, query: q}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Reconciliation is the answer of Reconcile.
type Reconciliation struct {
	PaymentID     string `json:"payment_id"`
	TransactionID string `json:"transaction_id"`
	PaymentStatus string `json:"payment_status"`
}

// Reconcile calls POST /banking/reconcile: it matches a bank transaction to a payment by hand.
func (c *Client) Reconcile(ctx context.Context, paymentID, transactionID string) (*Reconciliation, error) {
	var out Reconciliation
	body := map[string]string{"payment_id": paymentID, "transaction_id": transactionID}
	if _, err := c.call(ctx, request{method: http.MethodPost, path: "/banking/reconcile", body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
