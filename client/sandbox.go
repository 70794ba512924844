package client

import (
	"context"
	"encoding/json"
	"net/http"
)

// SandboxKYCRequest sets a sandbox customer's KYC.
type SandboxKYCRequest struct {
	Status string `json:"status"`           // unused, processing, valid, fail
	Level  string `json:"level,omitempty"`  // basic, reinforced
	Reason string `json:"reason,omitempty"` // for fail
}

// SandboxSetKYC calls POST /sandbox/customers/{user_id}/kyc.
func (c *Client) SandboxSetKYC(ctx context.Context, userID int64, r SandboxKYCRequest) (*KYCStatus, error) {
	var out KYCStatus
	path := "/sandbox/customers/" + itoa(userID) + "/kyc"
	if _, err := c.call(ctx, request{method: http.MethodPost, path: path, body: r}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SandboxPayRequest tunes SandboxPay; the zero value pays the exact amount.
type SandboxPayRequest struct {
	Amount    json.Number `json:"amount,omitempty"` // fiat, major units; default the payment's amount
	PayerName string      `json:"payer_name,omitempty"`
}

// SandboxPay calls POST /sandbox/payments/{id}/pay: the bank transfer arrives with the right
// concept, or the hosted checkout succeeds.
func (c *Client) SandboxPay(ctx context.Context, paymentID string, r SandboxPayRequest) (*Payment, error) {
	var out Payment
	path := "/sandbox/payments/" + pathID(paymentID) + "/pay"
	if _, err := c.call(ctx, request{method: http.MethodPost, path: path, body: r}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SandboxFail calls POST /sandbox/payments/{id}/fail.
func (c *Client) SandboxFail(ctx context.Context, paymentID, reason string) (*Payment, error) {
	var out Payment
	path := "/sandbox/payments/" + pathID(paymentID) + "/fail"
	body := map[string]string{}
	if reason != "" {
		body["reason"] = reason
	}
	if _, err := c.call(ctx, request{method: http.MethodPost, path: path, body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SandboxDepositRequest tunes SandboxDeposit; the zero value sends the quoted amount of the
// operation's token.
type SandboxDepositRequest struct {
	Amount json.Number `json:"amount,omitempty"` // tokens, major units (e.g. "150.5")
	Symbol string      `json:"symbol,omitempty"` // another token or the native coin tests the hold policy
}

// SandboxDeposit calls POST /sandbox/rampoffs/{id}/deposit: a real token transfer to the
// off-ramp's deposit address on the sandbox chain.
func (c *Client) SandboxDeposit(ctx context.Context, rampoffID string, r SandboxDepositRequest) (*Rampoff, error) {
	var out Rampoff
	path := "/sandbox/rampoffs/" + pathID(rampoffID) + "/deposit"
	if _, err := c.call(ctx, request{method: http.MethodPost, path: path, body: r}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SandboxBankTransactionRequest is an incoming transfer the sandbox bank books.
type SandboxBankTransactionRequest struct {
	IBAN             string `json:"iban"`   // one of the integration's accounts
	Amount           string `json:"amount"` // signed decimal string
	Currency         string `json:"currency,omitempty"`
	Concept          string `json:"concept,omitempty"`
	CounterpartyName string `json:"counterparty_name,omitempty"`
	CounterpartyIBAN string `json:"counterparty_iban,omitempty"`
	BookingDate      string `json:"booking_date,omitempty"` // YYYY-MM-DD
}

// SandboxBankTransaction calls POST /sandbox/bank/transactions.
func (c *Client) SandboxBankTransaction(ctx context.Context, r SandboxBankTransactionRequest) (*BankTransaction, error) {
	var out BankTransaction
	if _, err := c.call(ctx, request{method: http.MethodPost, path: "/sandbox/bank/transactions", body: r}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
