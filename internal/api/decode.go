package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/pocketramp/pocketramp/internal/errcode"
)

// decodeJSON reads a JSON object body into dst. Malformed JSON is a 422 on "body"; a field of
// the wrong type is a 422 naming that field. Unknown fields are ignored, as CryptoPocket's
// clients may send extras.
func decodeJSON(r *http.Request, dst any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, dst); err != nil {
		return jsonError(err)
	}
	return nil
}

func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, errcode.Field("body", "The request body must not exceed %d bytes.", tooBig.Limit)
	}
	if err != nil {
		return nil, errcode.Field("body", "The request body could not be read.")
	}
	return body, nil
}

func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return errcode.Field("body", "The request body must be a JSON object.")
		}
		return errcode.Field(field, "The %s field must be %s.", errcode.Label(field), jsonKind(typeErr.Type.Kind().String()))
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return errcode.Field("body", "The request body is not valid JSON.")
	}
	var inv *errcode.Invalid
	if errors.As(err, &inv) { // from a field type's own UnmarshalJSON
		return inv
	}
	return errcode.Field("body", "The request body is not valid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "a number"
	case "slice", "array":
		return "an array"
	default:
		return "an object"
	}
}

// decodeForm reads a body that may be form-encoded or JSON (the webhook subscription calls) into
// a flat string map.
func decodeForm(r *http.Request) (map[string]string, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	if ct == "application/json" {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, jsonError(err)
		}
		for k, v := range m {
			if s, ok := v.(string); ok {
				out[k] = s
			} else if v != nil {
				out[k] = fmt.Sprint(v)
			}
		}
		return out, nil
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errcode.Field("body", "The request body is not valid form data.")
	}
	for k := range vals {
		out[k] = vals.Get(k)
	}
	return out, nil
}
