// Package errcode holds the two kinds of errors the partner API shows to callers: business
// errors carrying a CryptoPocket error code and a Kind, and field validation errors. It is the
// catalogue of contract codes shared by more than one package. Domain packages return these
// errors and know nothing of HTTP; the edges (internal/api, internal/admin) map a Kind to an HTTP
// status in one table (api.HTTPStatus). Anything else is an internal error whose text is logged
// and never shown; Op names the operation it came from.
package errcode

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Kind is what sort of failure a business error is. The edge maps it to a transport status.
type Kind uint8

// Kinds of business errors.
const (
	// KindRefused is the contract's default: the request was understood and refused for a
	// business reason (the partner API answers HTTP 200 with status "error").
	KindRefused Kind = iota
	KindInvalid
	KindNotFound
	KindConflict
	KindForbidden
	KindUnauthorized
	KindTooMany
	KindUnavailable // a dependency of this request is not running here right now
)

// Error is a business error with a contract code such as "user_not_found".
type Error struct {
	Code    string // the contract's error code
	Message string // optional human text
	Data    any    // optional payload (e.g. the KYC URL of require_kyc)
	Kind    Kind   // what sort of failure; the zero value is the contract's default
	Fields  Fields // optional per-field messages (the document upload's invalid_file)
	// RetryAfter, when set, is sent as the Retry-After header (too_many_requests).
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// Is matches any *Error with the same code, so sentinels work with errors.Is even when a copy
// carries a different message or data.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// New returns a business error.
func New(code, message string) *Error { return &Error{Code: code, Message: message} }

// With returns a copy of e with another message and data.
func (e *Error) With(message string, data any) *Error {
	c := *e
	c.Message, c.Data = message, data
	return &c
}

// WithKind returns a copy of e of another kind (the same contract code answered with another status
// by a route that uses real HTTP statuses).
func (e *Error) WithKind(k Kind) *Error {
	c := *e
	c.Kind = k
	return &c
}

// The catalogue: contract codes used by more than one package. A package that returns one of
// these uses the value here (or a copy made with With or As); it never declares the code again.
var (
	Unauthorized     = &Error{Code: "authorization_incorrect"}
	NotFound         = &Error{Code: "not_found", Kind: KindNotFound}
	CoinNotSupported = &Error{Code: "coin_not_supported"}
	PriceUnavailable = &Error{Code: "price_unavailable"}
	UserNotFound     = &Error{Code: "user_not_found"}
	UserBanned       = &Error{Code: "user_banned"}
	RequireKYC       = &Error{Code: "require_kyc"}
	// TooMany is the [ours] HTTP 429 of a throttled caller; use TooManyRequests to say when to
	// come back. errors.Is matches it by code.
	TooMany = &Error{Code: "too_many_requests", Kind: KindTooMany}
)

// TooManyRequests is too_many_requests with Retry-After: wait (at least one second).
func TooManyRequests(wait time.Duration) *Error {
	return &Error{Code: TooMany.Code, Kind: KindTooMany, RetryAfter: max(wait, time.Second)}
}

// Op adds the operation's name to an internal error so that its log line says where it came
// from: deferred at a service's entry point, `defer errcode.Op("onramp.Create", &err)` turns a
// driver's "database is locked" into "onramp.Create: database is locked". Business and
// validation errors pass unchanged: they are answers, not failures, and their text is shown.
func Op(op string, err *error) {
	if *err == nil {
		return
	}
	var biz *Error
	var inv *Invalid
	if errors.As(*err, &biz) || errors.As(*err, &inv) {
		return
	}
	*err = fmt.Errorf("%s: %w", op, *err)
}

// Fields are request validation errors: field name → messages. They render as HTTP 422.
type Fields map[string][]string

// Add records a message for field.
func (f Fields) Add(field, format string, args ...any) {
	f[field] = append(f[field], fmt.Sprintf(format, args...))
}

// Has reports whether field already has an error.
func (f Fields) Has(field string) bool { return len(f[field]) > 0 }

// Err returns f as an error, or nil when it is empty.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Invalid{Fields: f}
}

// ErrIn is Err for a request whose fields are declared in order: the summary message names the
// first failing field in that order (as the contract's example does), not alphabetically.
func (f Fields) ErrIn(order ...string) error {
	if len(f) == 0 {
		return nil
	}
	for _, k := range order {
		if f.Has(k) {
			return &Invalid{Fields: f, First: k}
		}
	}
	return &Invalid{Fields: f}
}

// Invalid is a validation failure of one or more fields.
type Invalid struct {
	Fields Fields
	First  string // the field the summary names; empty: the alphabetically first
}

// Field returns an Invalid with one message for one field.
func Field(field, format string, args ...any) *Invalid {
	f := Fields{}
	f.Add(field, format, args...)
	return &Invalid{Fields: f}
}

// Error is the contract's summary: the first message, plus how many more there are.
func (e *Invalid) Error() string {
	keys := make([]string, 0, len(e.Fields))
	n := 0
	for k, msgs := range e.Fields {
		keys = append(keys, k)
		n += len(msgs)
	}
	if n == 0 {
		return "The given data was invalid."
	}
	sort.Strings(keys)
	first := e.Fields[keys[0]][0]
	if msgs := e.Fields[e.First]; len(msgs) > 0 {
		first = msgs[0]
	}
	switch n {
	case 1:
		return first
	case 2:
		return first + " (and 1 more error)"
	default:
		return fmt.Sprintf("%s (and %d more errors)", first, n-1)
	}
}

// IsInvalid reports whether err is a validation failure.
func IsInvalid(err error) bool {
	var inv *Invalid
	return errors.As(err, &inv)
}

// Label turns a field name into the words used in messages: "company_name" → "company name".
func Label(field string) string { return strings.ReplaceAll(field, "_", " ") }

// Required is the standard message for a missing field.
func Required(f Fields, field string) {
	f.Add(field, "The %s field is required.", Label(field))
}
