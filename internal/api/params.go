package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/ramp"
)

// flexInt is an integer that also arrives as a numeric string ("user_id": "42"), as
// CryptoPocket's clients send either.
type flexInt struct {
	Value int64
	Set   bool
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	s := string(b)
	if len(b) > 1 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return nil
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return &json.UnmarshalTypeError{Value: "value " + s, Type: reflect.TypeFor[int64]()}
	}
	f.Value, f.Set = n, true
	return nil
}

// pathID reads a positive integer path parameter; anything else is the given not-found error.
func pathID(r *http.Request, name string, notFound error) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || n <= 0 {
		return 0, notFound
	}
	return n, nil
}

// queryID reads a required positive integer query parameter.
func queryID(r *http.Request, name string) (int64, error) {
	v := strings.TrimSpace(r.URL.Query().Get(name))
	if v == "" {
		return 0, errcode.Field(name, "The %s field is required.", errcode.Label(name))
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, errcode.Field(name, "The %s field must be a positive integer.", errcode.Label(name))
	}
	return n, nil
}

// Pagination is the [ours] pagination block of list answers.
type Pagination struct {
	Page     int `json:"page"`
	PerPage  int `json:"per_page"`
	Total    int `json:"total"`
	LastPage int `json:"last_page"`
}

type pageOf struct {
	Items      any        `json:"items"`
	Pagination Pagination `json:"pagination"`
}

// parsePage reads page (from 1) and per_page (default 20, max 100).
func parsePage(r *http.Request) (page, perPage int, err error) {
	q := r.URL.Query()
	f := errcode.Fields{}
	page, perPage = 1, 20
	if v := q.Get("page"); v != "" {
		if n, e := strconv.Atoi(v); e != nil || n < 1 {
			f.Add("page", "The page must be an integer of at least 1.")
		} else {
			page = n
		}
	}
	if v := q.Get("per_page"); v != "" {
		if n, e := strconv.Atoi(v); e != nil || n < 1 || n > 100 {
			f.Add("per_page", "The per page must be an integer between 1 and 100.")
		} else {
			perPage = n
		}
	}
	return page, perPage, f.Err()
}

func paginated(items any, page, perPage, total int) pageOf {
	last := (total + perPage - 1) / perPage
	if last < 1 {
		last = 1
	}
	return pageOf{Items: items, Pagination: Pagination{Page: page, PerPage: perPage, Total: total, LastPage: last}}
}

// flexStr is a string that may also arrive as a JSON number (ids and amounts); numbers are kept
// verbatim, never through float64.
type flexStr string

func (f *flexStr) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexStr(strings.TrimSpace(s))
		return nil
	}
	if string(b) == "null" {
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return &json.UnmarshalTypeError{Value: "value", Type: reflect.TypeFor[string]()}
	}
	*f = flexStr(n.String())
	return nil
}

// listFilter reads the filters every ramp's operation list takes (status, user_id,
// external_id, from, to); statuses are the ramp's, which the status must be one of.
func listFilter[S ~string](r *http.Request, statuses []S) (ramp.Filter[S], error) {
	q := r.URL.Query()
	f := errcode.Fields{}
	filter := ramp.Filter[S]{Status: S(q.Get("status")), ExternalID: q.Get("external_id"),
		From: parseDate(f, "from", q.Get("from"), false), To: parseDate(f, "to", q.Get("to"), true)}
	if filter.Status != "" && !slices.Contains(statuses, filter.Status) {
		f.Add("status", "The status must be one of %s.", strings.Join(ramp.Names(statuses...), ", "))
	}
	if v := q.Get("user_id"); v != "" {
		id, err := queryID(r, "user_id")
		if err != nil {
			return filter, err
		}
		filter.UserID = id
	}
	return filter, f.Err()
}

// listed answers a list request: the page asked for, of the operations its filter selects, as
// views (a bad page comes first, then a bad filter).
func listed[F, T, V any](r *http.Request, filter func(*http.Request) (F, error), list func(f F, page, perPage int) ([]T, int, error),
	view func(T) V) (any, error) {
	page, perPage, err := parsePage(r)
	if err != nil {
		return nil, err
	}
	f, err := filter(r)
	if err != nil {
		return nil, err
	}
	ops, total, err := list(f, page, perPage)
	if err != nil {
		return nil, err
	}
	items := make([]V, len(ops))
	for i, o := range ops {
		items[i] = view(o)
	}
	return paginated(items, page, perPage, total), nil
}
