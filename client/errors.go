package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// Error is a failure the API reported: a business error (HTTP 200, or the documented status of a
// few calls, with an error code), a request validation error (HTTP 422 with one message per
// field, Code empty), or an unexpected HTTP answer.
//
// Use errors.Is with the sentinels below to branch on the code:
//
//	if errors.Is(err, client.ErrRequireKYC) { redirect(client.KYCURL(err)) }
type Error struct {
	HTTPStatus int
	Code       string              // the contract's error code, e.g. "user_not_found"; empty for 422 validation errors
	Message    string              // human text (min_purchase's minimum, the 422 summary)
	Data       json.RawMessage     // optional payload (require_kyc: the KYC URL as a JSON string)
	Fields     map[string][]string // field → messages (422 validation errors, invalid_file)
	RequestID  string              // X-Request-Id of the answer
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("pocketramp: ")
	switch {
	case e.Code != "":
		b.WriteString(e.Code)
	case e.HTTPStatus == http.StatusUnprocessableEntity:
		b.WriteString("validation failed")
	default:
		fmt.Fprintf(&b, "HTTP %d", e.HTTPStatus)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if len(e.Fields) > 0 && e.Message == "" {
		keys := make([]string, 0, len(e.Fields))
		for k := range e.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i == 0 {
				b.WriteString(": ")
			} else {
				b.WriteString("; ")
			}
			b.WriteString(k + ": " + strings.Join(e.Fields[k], " "))
		}
	}
	return b.String()
}

// Is matches a sentinel of the same code. ErrValidation matches every HTTP 422 answer that names
// failing fields (the validation shape and invalid_file).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	if t == ErrValidation {
		return e.HTTPStatus == http.StatusUnprocessableEntity && (e.Code == "" || len(e.Fields) > 0)
	}
	return t.Code != "" && t.Code == e.Code
}

// Field returns the messages of one failing field.
func (e *Error) Field(name string) []string { return e.Fields[name] }

// sentinel makes a value to compare with errors.Is.
func sentinel(code string) *Error { return &Error{Code: code} }

// ErrValidation matches HTTP 422 answers: a request field is missing or malformed (see
// Error.Fields).
var ErrValidation = &Error{HTTPStatus: http.StatusUnprocessableEntity}

// Sentinels of the documented error codes, for errors.Is. Their spelling is the contract's
// (e.g. limit_exceded).
var (
	// Common.
	ErrAuthorizationIncorrect = sentinel("authorization_incorrect") // bad credentials, expired/revoked token, IP not allowed
	ErrNotFound               = sentinel("not_found")               // unknown route (HTTP 404), or a sandbox route for a production integration
	ErrUnexpected             = sentinel("unexpected_error")        // HTTP 500
	ErrCoinNotSupported       = sentinel("coin_not_supported")
	ErrPriceUnavailable       = sentinel("price_unavailable")
	ErrFailMandatoryField     = sentinel("fail_mandatory_field") // user_id missing
	ErrExternalIDAlreadyUsed  = sentinel("external_id_already_used")
	ErrQuoteNotFound          = sentinel("quote_not_found")

	// Idempotency (HTTP 409).
	ErrIdempotencyKeyReused         = sentinel("idempotency_key_reused")
	ErrIdempotencyRequestInProgress = sentinel("idempotency_request_in_progress")

	// Users.
	ErrUserAlreadyExists     = sentinel("user_already_exists")
	ErrEmailNotAllowed       = sentinel("email_not_allowed")
	ErrUserNotFound          = sentinel("user_not_found")
	ErrUserNotInIntegration  = sentinel("user_not_in_integration") // document upload, HTTP 403
	ErrInvalidFile           = sentinel("invalid_file")            // document upload, HTTP 422
	ErrUserBanned            = sentinel("user_banned")
	ErrRequireKYC            = sentinel("require_kyc") // see KYCURL
	ErrKYCReinforcedRequired = sentinel("kyc_reinforced_required")
	ErrInvalidKYCTransition  = sentinel("invalid_kyc_transition")

	// On-ramp.
	ErrLimitExceded             = sentinel("limit_exceded")
	ErrMinPurchase              = sentinel("min_purchase") // Message holds the minimum
	ErrMethodNotAllowed         = sentinel("method_not_allowed")
	ErrErrorPaymentCreation     = sentinel("error_payment_creation")
	ErrGuidedPaymentEUROnly     = sentinel("guided_payment_eur_only")
	ErrPaymentNotFound          = sentinel("payment_not_found")
	ErrInvalidPaymentTransition = sentinel("invalid_payment_transition")

	// Off-ramp.
	ErrMinSale         = sentinel("min_sale") // Message holds the minimum
	ErrRampoffNotFound = sentinel("rampoff_not_found")

	// Banking.
	ErrBankAccountNotFound          = sentinel("bank_account_not_found")
	ErrTransactionNotFound          = sentinel("transaction_not_found")
	ErrTransactionAlreadyReconciled = sentinel("transaction_already_reconciled")
	ErrPaymentNotReconcilable       = sentinel("payment_not_reconcilable")
	ErrCurrencyMismatch             = sentinel("currency_mismatch")
	ErrAmountMismatch               = sentinel("amount_mismatch")

	// Webhooks.
	ErrInvalidEventType          = sentinel("invalid_event_type")
	ErrInvalidURL                = sentinel("invalid_url")
	ErrSubscriptionAlreadyExists = sentinel("subscription_already_exists")
	ErrSubscriptionNotFound      = sentinel("subscription_not_found")
	ErrDeliveryNotFound          = sentinel("delivery_not_found")
)

// KYCURL returns the KYC form URL a require_kyc error carries, or "" when err is not one.
func KYCURL(err error) string {
	var e *Error
	if !errors.As(err, &e) || e.Code != ErrRequireKYC.Code {
		return ""
	}
	var s string
	if json.Unmarshal(e.Data, &s) == nil {
		return s
	}
	var obj struct {
		URL        string `json:"url"`
		KYCFormURL string `json:"kyc_form_url"`
	}
	if json.Unmarshal(e.Data, &obj) == nil {
		if obj.KYCFormURL != "" {
			return obj.KYCFormURL
		}
		return obj.URL
	}
	return ""
}
