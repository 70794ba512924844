package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pocketramp/pocketramp/internal/errcode"
)

// Request bodies arrive as JSON, application/x-www-form-urlencoded or multipart/form-data, as
// CryptoPocket's backend accepts all three: every POST decodes through decodeJSON, so each
// gives the same validation and the same answers. A form body is turned into the JSON its
// fields stand for (nested the Laravel way: a[b]=1, a[]=1), typed after the destination struct
// (a bool field reads "1"/"true"/"on", a number field a numeric string), then decoded exactly as
// a JSON body is. Every string that enters — keys and values, at any depth — must be valid
// UTF-8 without NUL, or the answer is a 422 naming the field.

// decodeJSON reads a request body (JSON or form) into dst. Malformed JSON is a 422 on "body"; a
// field of the wrong type, invalid UTF-8 or a NUL is a 422 naming that field. Unknown fields
// are ignored, as CryptoPocket's clients may send extras.
func decodeJSON(r *http.Request, dst any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	body, err = bodyAsJSON(r.Header.Get("Content-Type"), body, reflect.TypeOf(dst))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, dst); err != nil {
		return jsonError(err)
	}
	return nil
}

// bodyAsJSON returns the body as checked JSON: a JSON body as it is, a form body converted
// (typed after dst, which may be nil for untyped).
func bodyAsJSON(contentType string, body []byte, dst reflect.Type) ([]byte, error) {
	ct, params, _ := mime.ParseMediaType(contentType)
	trimmed := bytes.TrimSpace(body)
	var fields map[string]any
	switch {
	case len(trimmed) == 0:
		return []byte("{}"), nil
	case ct == "application/x-www-form-urlencoded" && trimmed[0] != '{':
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, errcode.Field("body", "The request body is not valid form data.")
		}
		if fields, err = nestForm(vals, nil); err != nil {
			return nil, err
		}
	case ct == "multipart/form-data":
		vals, files, err := readMultipart(body, params["boundary"])
		if err != nil {
			return nil, err
		}
		if fields, err = nestForm(vals, files); err != nil {
			return nil, err
		}
	default:
		if err := checkJSONStrings(body); err != nil {
			return nil, err
		}
		return body, nil
	}
	out, err := json.Marshal(typed(fields, dst))
	if err != nil {
		return nil, errcode.Field("body", "The request body could not be read.")
	}
	return out, nil
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

// badText is the message for a string that is not valid UTF-8 or holds a NUL.
func badText(field string) error {
	return errcode.Field(field, "The %s field must be valid UTF-8 text without NUL characters.", errcode.Label(field))
}

func cleanText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// checkJSONStrings walks a JSON body's tokens and checks every key and string value. The
// standard decoder would silently replace invalid UTF-8 with U+FFFD, so each string token's
// raw bytes are checked too. Syntax errors are left to the decoder that follows.
func checkJSONStrings(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		object  bool
		key     string // current key (object) or index (array)
		index   int
		wantKey bool
	}
	var stack []*frame
	path := func(last string) string {
		parts := make([]string, 0, len(stack)+1)
		for _, f := range stack {
			if f.object {
				if f.key != "" {
					parts = append(parts, f.key)
				}
			} else {
				parts = append(parts, strconv.Itoa(f.index))
			}
		}
		if last != "" {
			parts = append(parts, last)
		}
		if len(parts) == 0 {
			return "body"
		}
		return strings.Join(parts, ".")
	}
	// afterValue advances the enclosing container past one value.
	afterValue := func() {
		if n := len(stack); n > 0 {
			if f := stack[n-1]; f.object {
				f.wantKey = true
			} else {
				f.index++
			}
		}
	}
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil // io.EOF, or a syntax error the decoder reports
		}
		raw := body[start:dec.InputOffset()]
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, &frame{object: true, wantKey: true})
			case '[':
				stack = append(stack, &frame{})
			default:
				stack = stack[:len(stack)-1]
				afterValue()
			}
		case string:
			validRaw := utf8.Valid(raw)
			if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].wantKey {
				f := stack[n-1]
				f.wantKey = false
				f.key = t
				if !validRaw || !cleanText(t) {
					f.key = strings.ToValidUTF8(strings.ReplaceAll(t, "\x00", ""), "")
					return badText(path(""))
				}
				continue
			}
			if !validRaw || !cleanText(t) {
				return badText(path(""))
			}
			afterValue()
		default:
			afterValue()
		}
	}
}

// maxFormDepth bounds a form field's nesting (a[b][c]...), as PHP's max_input_nesting_level.
const maxFormDepth = 32

// nestForm builds the nested value of form fields the Laravel (PHP) way: "a[b]=1" is
// {"a":{"b":"1"}}, "a[]=1&a[]=2" is {"a":["1","2"]}, an object whose keys are 0..n-1 becomes an
// array. A repeated plain key keeps its last value, as PHP does.
func nestForm(vals url.Values, files map[string]string) (map[string]any, error) {
	root := map[string]any{}
	keys := make([]string, 0, len(vals)+len(files))
	for k := range vals {
		keys = append(keys, k)
	}
	for k := range files {
		if _, dup := vals[k]; !dup {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys) // deterministic nesting conflicts
	for _, key := range keys {
		list := vals[key]
		if f, ok := files[key]; ok {
			list = append(list, f)
		}
		parts, ok := splitFormKey(key)
		name := strings.Join(parts, ".")
		if !cleanText(key) {
			return nil, badText(strings.ToValidUTF8(strings.ReplaceAll(name, "\x00", ""), ""))
		}
		if !ok {
			return nil, errcode.Field(name, "The %s field is nested too deeply.", errcode.Label(name))
		}
		for _, v := range list {
			if !cleanText(v) {
				return nil, badText(name)
			}
			if !setForm(root, parts, v) {
				return nil, errcode.Field(name, "The %s field is given both as a value and as a list.", errcode.Label(name))
			}
		}
	}
	return arrays(root).(map[string]any), nil
}

// splitFormKey splits "a[b][]" into ["a","b",""].
func splitFormKey(key string) ([]string, bool) {
	i := strings.IndexByte(key, '[')
	if i <= 0 || !strings.HasSuffix(key, "]") {
		return []string{key}, true
	}
	parts := []string{key[:i]}
	rest := key[i:]
	for rest != "" {
		if rest[0] != '[' {
			return []string{key}, true // not bracket syntax after all: a plain name
		}
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return []string{key}, true
		}
		parts = append(parts, rest[1:end])
		rest = rest[end+1:]
		if len(parts) > maxFormDepth {
			return parts[:maxFormDepth], false
		}
	}
	return parts, true
}

// setForm stores v at parts under m; "" appends to a list. It reports false on a conflict
// (a=1&a[b]=2).
func setForm(m map[string]any, parts []string, v string) bool {
	key := parts[0]
	if len(parts) == 1 {
		if _, isMap := m[key].(map[string]any); isMap {
			return false
		}
		m[key] = v
		return true
	}
	if parts[1] == "" && len(parts) == 2 { // a[]=v
		switch cur := m[key].(type) {
		case nil:
			m[key] = map[string]any{"0": v}
		case map[string]any:
			cur[strconv.Itoa(len(cur))] = v
		default:
			return false
		}
		return true
	}
	child, ok := m[key].(map[string]any)
	if !ok {
		if m[key] != nil {
			return false
		}
		child = map[string]any{}
		m[key] = child
	}
	if parts[1] == "" { // a[][b]=v: a new element
		parts = append([]string{strconv.Itoa(len(child))}, parts[2:]...)
		return setForm(child, parts, v)
	}
	return setForm(child, parts[1:], v)
}

// arrays turns objects whose keys are exactly 0..n-1 into arrays, bottom up.
func arrays(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	for k, c := range m {
		m[k] = arrays(c)
	}
	if len(m) == 0 {
		return m
	}
	list := make([]any, len(m))
	for k, c := range m {
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 || i >= len(m) || strconv.Itoa(i) != k {
			return m
		}
		list[i] = c
	}
	return list
}

// maxMultipartParts bounds the parts of a multipart body (its size is bounded by the route).
const maxMultipartParts = 1000

// readMultipart reads a multipart/form-data body: plain parts become form values, file parts
// become data: URLs (the document upload takes its file that way).
func readMultipart(body []byte, boundary string) (url.Values, map[string]string, error) {
	bad := errcode.Field("body", "The request body is not valid multipart form data.")
	if boundary == "" {
		return nil, nil, bad
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	vals, files := url.Values{}, map[string]string{}
	for n := 0; ; n++ {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil || n >= maxMultipartParts {
			return nil, nil, bad
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, nil, bad
		}
		name := p.FormName()
		if name == "" {
			continue
		}
		if p.FileName() == "" {
			vals.Add(name, string(data))
			continue
		}
		ct := p.Header.Get("Content-Type")
		if mt, _, err := mime.ParseMediaType(ct); err == nil {
			ct = mt
		} else {
			ct = http.DetectContentType(data)
			ct, _, _ = strings.Cut(ct, ";")
		}
		files[name] = "data:" + ct + ";base64," + base64.StdEncoding.EncodeToString(data)
	}
	return vals, files, nil
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	rawMessage      = reflect.TypeFor[json.RawMessage]()
)

// typed converts form values (strings, lists, objects) into the JSON values the destination
// type expects: "true"/"1"/"on" for a bool, a numeric string for a number. A value that does not
// convert stays a string, so the decoder reports the field as of the wrong type.
func typed(v any, t reflect.Type) any {
	for t != nil && t.Kind() == reflect.Pointer {
		if t.Implements(jsonUnmarshaler) {
			return v
		}
		t = t.Elem()
	}
	if t == nil || t == rawMessage || reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		return v
	}
	switch val := v.(type) {
	case string:
		switch t.Kind() {
		case reflect.Bool:
			switch strings.ToLower(strings.TrimSpace(val)) {
			case "1", "true", "on", "yes":
				return true
			case "0", "false", "off", "no", "":
				return false
			}
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
			s := strings.TrimSpace(val)
			if s == "" {
				return nil
			}
			if _, err := strconv.ParseFloat(s, 64); err == nil {
				return json.Number(s)
			}
		}
		return val
	case []any:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for i := range val {
				val[i] = typed(val[i], t.Elem())
			}
		}
		return val
	case map[string]any:
		switch t.Kind() {
		case reflect.Map:
			for k := range val {
				val[k] = typed(val[k], t.Elem())
			}
		case reflect.Struct:
			fields := jsonFields(t)
			for k := range val {
				if ft, ok := fields[k]; ok {
					val[k] = typed(val[k], ft)
				}
			}
		}
		return val
	}
	return v
}

// jsonFields maps a struct's JSON names to field types, embedded structs included.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() && !f.Anonymous {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					if _, ok := out[k]; !ok {
						out[k] = v
					}
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
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

// decodeForm reads a body (form-encoded, as the webhook subscription calls are documented, or
// JSON) into a flat string map of its top-level fields.
func decodeForm(r *http.Request) (map[string]string, error) {
	var m map[string]any
	if err := decodeJSON(r, &m); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range m {
		switch v := v.(type) {
		case string:
			out[k] = v
		case nil:
		case float64:
			out[k] = strconv.FormatFloat(v, 'f', -1, 64)
		default:
			b, _ := json.Marshal(v)
			out[k] = string(b)
		}
	}
	return out, nil
}

// isBodyError reports whether err is about the body as a whole (malformed JSON, too large),
// which the contract answers before any field rule, fail_mandatory_field included.
func isBodyError(err error) bool {
	var inv *errcode.Invalid
	return errors.As(err, &inv) && inv.Fields.Has("body")
}
