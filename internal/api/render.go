package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/pocketramp/pocketramp/internal/errcode"
)

// handler is what every route implements: it returns the data of a success answer or an error.
// The one renderer below turns either into the contract's response.
type handler func(r *http.Request) (any, error)

// custom is returned by handlers whose success answer is not the plain {"status":"ok"} envelope
// (e.g. createPayment's {"status":"success","message":...}).
type custom struct {
	status int
	body   any
}

type okEnvelope struct {
	Status string `json:"status"`
	Data   any    `json:"data"`
}

type errorEnvelope struct {
	Status  string         `json:"status"`
	Error   string         `json:"error"`
	Message string         `json:"message,omitempty"`
	Data    any            `json:"data,omitempty"`
	Errors  errcode.Fields `json:"errors,omitempty"`
}

type invalidEnvelope struct {
	Message string         `json:"message"`
	Errors  errcode.Fields `json:"errors"`
}

func (s *Server) serve(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		data, err := h(r)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		if c, ok := data.(custom); ok {
			writeJSON(w, c.status, c.body)
			return
		}
		writeJSON(w, http.StatusOK, okEnvelope{Status: "ok", Data: data})
	}
}

// renderError writes err in the contract's format: business errors as HTTP 200 (or their own
// status), validation errors as 422, anything else as a logged 500 that shows no internals.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	var biz *errcode.Error
	var inv *errcode.Invalid
	switch {
	case errors.As(err, &biz):
		status := HTTPStatus(biz.Kind)
		if biz.RetryAfter > 0 {
			w.Header().Set("Retry-After", retryAfterSeconds(biz.RetryAfter))
		}
		writeJSON(w, status, errorEnvelope{Status: "error", Error: biz.Code, Message: biz.Message, Data: biz.Data, Errors: biz.Fields})
	case errors.As(err, &inv):
		writeJSON(w, http.StatusUnprocessableEntity, invalidEnvelope{Message: inv.Error(), Errors: inv.Fields})
	default:
		s.log.ErrorContext(r.Context(), "request failed", slog.String("request_id", requestID(r.Context())),
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
		writeJSON(w, http.StatusInternalServerError, errorEnvelope{Status: "error", Error: "unexpected_error"})
	}
}

// httpStatus is the one table from a business error's kind to its HTTP status. The contract
// answers a refused request with HTTP 200 and status "error".
var httpStatus = map[errcode.Kind]int{
	errcode.KindRefused:      http.StatusOK,
	errcode.KindInvalid:      http.StatusUnprocessableEntity,
	errcode.KindNotFound:     http.StatusNotFound,
	errcode.KindConflict:     http.StatusConflict,
	errcode.KindForbidden:    http.StatusForbidden,
	errcode.KindUnauthorized: http.StatusUnauthorized,
	errcode.KindTooMany:      http.StatusTooManyRequests,
	errcode.KindUnavailable:  http.StatusServiceUnavailable,
}

// HTTPStatus is the HTTP status of a business error of kind k (the console uses it too).
func HTTPStatus(k errcode.Kind) int {
	if s, ok := httpStatus[k]; ok {
		return s
	}
	return http.StatusOK
}

// retryAfterSeconds is a Retry-After value: whole seconds, rounded up, at least 1.
func retryAfterSeconds(d time.Duration) string {
	return strconv.FormatInt(max(int64((d+time.Second-1)/time.Second), 1), 10)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	buf, err := json.Marshal(body)
	if err != nil {
		status = http.StatusInternalServerError
		buf = []byte(`{"status":"error","error":"unexpected_error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(buf, '\n'))
}

// isCode reports whether err is a business error with the given code.
func isCode(err error, code string) bool {
	var biz *errcode.Error
	return errors.As(err, &biz) && biz.Code == code
}

func asInvalid(err error, target **errcode.Invalid) bool { return errors.As(err, target) }
