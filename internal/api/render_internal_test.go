package api

import (
	"net/http"
	"testing"

	"github.com/pocketramp/pocketramp/internal/errcode"
)

func TestHTTPStatusOfEveryKind(t *testing.T) {
	t.Parallel()
	for k, want := range map[errcode.Kind]int{
		errcode.KindRefused:      http.StatusOK, // the contract's business errors
		errcode.KindInvalid:      http.StatusUnprocessableEntity,
		errcode.KindNotFound:     http.StatusNotFound,
		errcode.KindConflict:     http.StatusConflict,
		errcode.KindForbidden:    http.StatusForbidden,
		errcode.KindUnauthorized: http.StatusUnauthorized,
		errcode.KindTooMany:      http.StatusTooManyRequests,
		errcode.KindUnavailable:  http.StatusServiceUnavailable,
	} {
		if got := HTTPStatus(k); got != want {
			t.Errorf("kind %d: %d, want %d", k, got, want)
		}
	}
	if len(httpStatus) != int(errcode.KindUnavailable)+1 {
		t.Errorf("the table has %d kinds; a new kind needs its status here", len(httpStatus))
	}
}
