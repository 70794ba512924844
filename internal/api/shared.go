package api

import (
	"net/http"
	"time"

	"github.com/pocketramp/pocketramp/internal/banking"
	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/offramp"
	"github.com/pocketramp/pocketramp/internal/onramp"
)

// The operator surface (package admin) answers in the partner API's contract format with the
// same renderer, decoders and views; these exports are what it shares, so both stay one format.

// Serve turns a handler into an HTTP handler rendered by the contract's one renderer.
func (s *Server) Serve(h func(r *http.Request) (any, error)) http.HandlerFunc { return s.serve(h) }

// RenderError writes err in the contract's error format.
func (s *Server) RenderError(w http.ResponseWriter, r *http.Request, err error) {
	s.renderError(w, r, err)
}

// LimitBody caps a request body at n bytes.
func LimitBody(n int64, next http.Handler) http.Handler { return limitBody(n, next) }

// DecodeJSON reads a JSON object body into dst (422 on malformed input).
func DecodeJSON(r *http.Request, dst any) error { return decodeJSON(r, dst) }

// ReadBody reads the whole (size-limited) body.
func ReadBody(r *http.Request) ([]byte, error) { return readBody(r) }

// PathID reads a positive integer path parameter; anything else is notFound.
func PathID(r *http.Request, name string, notFound error) (int64, error) {
	return pathID(r, name, notFound)
}

// ParsePage reads page and per_page.
func ParsePage(r *http.Request) (page, perPage int, err error) { return parsePage(r) }

// Paginated wraps one page of items with its pagination block.
func Paginated(items any, page, perPage, total int) any {
	return paginated(items, page, perPage, total)
}

// Timestamp formats t as the contract's timestamp.
func Timestamp(t time.Time) string { return timestamp(t) }

// OptTimestamp formats an optional time (nil stays null).
func OptTimestamp(t *time.Time) *string { return optTimestamp(t) }

// IsCode reports whether err is a business error with the given code.
func IsCode(err error, code string) bool { return isCode(err, code) }

// ErrCustomerNotFound is the contract's answer for an unknown customer id.
var ErrCustomerNotFound = errCustomerNotFound

// CustomerJSON is a customer as the partner API shows it.
type CustomerJSON = customerJSON

// CustomerView renders c as the partner API does.
func CustomerView(c customer.Customer) CustomerJSON { return customerView(c) }

// BankTxJSON is a bank transaction as the partner API shows it.
type BankTxJSON = bankTxJSON

// BankTxView renders t as the partner API does.
func BankTxView(t banking.Transaction) BankTxJSON { return bankTxView(t) }

// RampoffFilter reads the off-ramp list filters shared by the partner and operator lists.
func RampoffFilter(r *http.Request) (offramp.Filter, error) { return rampoffFilter(r) }

// PaymentFilter reads the filters of a payment list as the partner API does.
func PaymentFilter(r *http.Request) (onramp.Filter, error) { return paymentFilter(r) }

// ReconcileRequest is the body of a manual bank match.
type ReconcileRequest = reconcileRequest
