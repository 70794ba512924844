package api

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pocketramp/pocketramp/internal/errcode"
)

type decodeTarget struct {
	Name    string          `json:"name"`
	UserID  flexInt         `json:"user_id"`
	Amount  json.RawMessage `json:"amount"`
	Flag    bool            `json:"flag"`
	Count   int             `json:"count"`
	Tags    []string        `json:"tags"`
	Address struct {
		City string `json:"city"`
		Zip  int    `json:"zip"`
	} `json:"address"`
	External flexStr `json:"external_id"`
}

func TestBodyAsJSONForms(t *testing.T) {
	t.Parallel()
	const boundary = "XyZ"
	multipartBody := "--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nJosé\r\n" +
		"--XyZ\r\nContent-Disposition: form-data; name=\"tags[]\"\r\n\r\na\r\n" +
		"--XyZ\r\nContent-Disposition: form-data; name=\"tags[]\"\r\n\r\nb\r\n" +
		"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF\r\n--XyZ--\r\n"
	for _, tc := range []struct {
		name, ct, body string
		want           string // JSON the body stands for (decoded into decodeTarget and compared)
	}{
		{"json as is", "application/json", `{"name":"a","user_id":"7","flag":true}`, `{"name":"a","user_id":7,"flag":true}`},
		{"empty", "", "", `{}`},
		{"flat form", "application/x-www-form-urlencoded", "name=Jos%C3%A9&user_id=7&amount=10.50&flag=1&count=3",
			`{"name":"José","user_id":7,"amount":"10.50","flag":true,"count":3}`},
		{"form with charset", "application/x-www-form-urlencoded; charset=UTF-8", "name=a+b&flag=off", `{"name":"a b","flag":false}`},
		{"laravel nesting", "application/x-www-form-urlencoded", "address%5Bcity%5D=Madrid&address[zip]=28001&tags[]=x&tags[]=y",
			`{"address":{"city":"Madrid","zip":28001},"tags":["x","y"]}`},
		{"indexed list", "application/x-www-form-urlencoded", "tags[1]=y&tags[0]=x", `{"tags":["x","y"]}`},
		{"JSON sent as form", "application/x-www-form-urlencoded", `{"name":"a"}`, `{"name":"a"}`},
		{"external id number", "application/json", `{"external_id": 12345}`, `{"external_id":"12345"}`},
		{"multipart", "multipart/form-data; boundary=" + boundary, multipartBody, `{"name":"José","tags":["a","b"]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := bodyAsJSON(tc.ct, []byte(tc.body), reflect.TypeFor[*decodeTarget]())
			if err != nil {
				t.Fatalf("bodyAsJSON: %v", err)
			}
			var got, want decodeTarget
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("decode %s: %v", out, err)
			}
			if err := json.Unmarshal([]byte(tc.want), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %+v\nwant %+v\n(json %s)", got, want, out)
			}
		})
	}
	out, _ := bodyAsJSON("multipart/form-data; boundary="+boundary, []byte(multipartBody), nil)
	if !strings.Contains(string(out), `"file":"data:application/pdf;base64,JVBERg=="`) {
		t.Fatalf("file part: %s", out)
	}
}

func TestBodyAsJSONRejects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, ct, body, field string }{
		{"NUL escaped in JSON", "application/json", `{"name":"a\u0000b"}`, "name"},
		{"bad UTF-8 in JSON", "application/json", "{\"name\":\"a\xffb\"}", "name"},
		{"bad UTF-8 nested", "application/json", "{\"address\":{\"city\":\"\xc3\"}}", "address.city"},
		{"bad UTF-8 in array", "application/json", "{\"tags\":[\"ok\",\"\xff\"]}", "tags.1"},
		{"NUL in a key", "application/json", `{"na\u0000me":"x"}`, "name"},
		{"NUL in form", "application/x-www-form-urlencoded", "name=a%00b", "name"},
		{"bad UTF-8 in form", "application/x-www-form-urlencoded", "city=%FF", "city"},
		{"bad UTF-8 in nested form", "application/x-www-form-urlencoded", "address[city]=%C3", "address.city"},
		{"bad form escape", "application/x-www-form-urlencoded", "name=%zz", "body"},
		{"value and list", "application/x-www-form-urlencoded", "a=1&a[b]=2", "a.b"},
		{"multipart without boundary", "multipart/form-data", "x", "body"},
		{"too deep", "application/x-www-form-urlencoded", "a" + strings.Repeat("[x]", 40) + "=1", strings.TrimSuffix(strings.Repeat("x.", 32), ".")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := bodyAsJSON(tc.ct, []byte(tc.body), reflect.TypeFor[*decodeTarget]())
			var inv *errcode.Invalid
			if !errors.As(err, &inv) {
				t.Fatalf("err %v, want a 422", err)
			}
			if tc.name == "too deep" {
				return // names the field by its first 32 levels
			}
			if !inv.Fields.Has(tc.field) {
				t.Fatalf("fields %v, want %q", inv.Fields, tc.field)
			}
		})
	}
}

// FuzzBodyAsJSON: any body, form or JSON, either is refused with a 422 or becomes JSON whose
// strings are valid UTF-8 without NUL; never a panic.
func FuzzBodyAsJSON(f *testing.F) {
	for _, s := range []string{`{"name":"a"}`, "a[b][]=1&a[b][]=2", "x=%00", `{"a":[1,{"b":"\u0000"}]}`, "a[=1&]=2", "a[][b]=1&a[][b]=2"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, body string, form bool) {
		ct := "application/json"
		if form {
			ct = "application/x-www-form-urlencoded"
		}
		out, err := bodyAsJSON(ct, []byte(body), reflect.TypeFor[*decodeTarget]())
		if err != nil {
			if !errcode.IsInvalid(err) {
				t.Fatalf("non-422 error %v", err)
			}
			return
		}
		var v any
		if json.Unmarshal(out, &v) != nil {
			return // malformed JSON passes through; the decoder answers 422 body
		}
		var walk func(any)
		walk = func(v any) {
			switch v := v.(type) {
			case string:
				if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
					t.Fatalf("string %q got through", v)
				}
			case []any:
				for _, c := range v {
					walk(c)
				}
			case map[string]any:
				for k, c := range v {
					walk(k)
					walk(c)
				}
			}
		}
		if !utf8.Valid(out) {
			t.Fatalf("invalid UTF-8 got through: %q", out)
		}
		walk(v)
	})
}
