package docs

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// Examples are fenced blocks tagged "http". A request block is an HTTP request as it goes on the
// wire, minus the host:
//
//	POST /api/createPayment
//	auth: {{token}}
//	Content-Type: application/json
//
//	{"user_id": {{user_id}}, "fiat_amount": 100, ...}
//
// and the block after it is its response: a status line, optional headers that must match, and
// the JSON body the answer must contain (fields not shown may be present too):
//
//	HTTP/1.1 200 OK
//
//	{"status": "ok", "data": {"id": {{user_id}}, "created_at": "<timestamp>"}}
//
// {{name}} is a value: in a response it is captured the first time a page shows it and must be
// equal every later time; in a request it is replaced by the captured value. Quoted ("{{name}}")
// it is the value's text inside a JSON string; bare ({{name}}) it is the JSON value itself.
// "<timestamp>", "<decimal>", "<string>", ... stand for any value of that kind. A response block
// tagged "http wait" is polled: the request is repeated until the answer matches.
//
// HTML comments of the form <!-- doctest: ... --> are instructions for the test runner only
// (e.g. "advance 169h" moves the sandbox clock); they are not rendered.

// Block is one example block or test directive of a page, in document order.
type Block struct {
	Kind  string // "request", "response" or "directive"
	Text  string
	Attrs map[string]string
	Line  int // 1-based line of the block in the Markdown source
}

var directiveRe = regexp.MustCompile(`(?s)<!--\s*doctest:\s*(.*?)\s*-->`)

// Fenced is one fenced code block of a page.
type Fenced struct {
	Lang  string
	Attrs map[string]string
	Text  string
	Line  int
}

// FencedBlocks lists a page's fenced code blocks in order (the test runs the webhook
// verification snippets from them).
func FencedBlocks(src []byte) []Fenced {
	doc := markdown.Parser().Parse(text.NewReader(src))
	var out []Fenced
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if b, ok := n.(*ast.FencedCodeBlock); ok && entering {
			lang, attrs := parseInfo(b, src)
			line := 0
			if b.Lines().Len() > 0 {
				line = strings.Count(string(src[:b.Lines().At(0).Start]), "\n")
			}
			out = append(out, Fenced{Lang: lang, Attrs: attrs, Text: blockText(b, src), Line: line})
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return out
}

// ExampleBlocks lists a page's example blocks and doctest directives in order.
func ExampleBlocks(src []byte) []Block {
	doc := markdown.Parser().Parse(text.NewReader(src))
	var out []Block
	lineOf := func(n ast.Node) int {
		if n.Lines().Len() == 0 {
			return 0
		}
		return 1 + strings.Count(string(src[:n.Lines().At(0).Start]), "\n")
	}
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch b := n.(type) {
		case *ast.FencedCodeBlock:
			lang, attrs := parseInfo(b, src)
			if lang != "http" {
				return ast.WalkSkipChildren, nil
			}
			body := blockText(b, src)
			kind := "request"
			if isResponse(body) {
				kind = "response"
			}
			out = append(out, Block{Kind: kind, Text: body, Attrs: attrs, Line: lineOf(b) - 1})
			return ast.WalkSkipChildren, nil
		case *ast.HTMLBlock:
			raw := blockText(b, src)
			if b.HasClosure() {
				raw += string(b.ClosureLine.Value(src))
			}
			for _, m := range directiveRe.FindAllStringSubmatch(raw, -1) {
				out = append(out, Block{Kind: "directive", Text: m[1], Line: lineOf(b)})
			}
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return out
}

func isResponse(body string) bool { return strings.HasPrefix(strings.TrimSpace(body), "HTTP/") }

// Header is one header line of an example.
type Header struct{ Name, Value string }

// Request is a parsed request example.
type Request struct {
	Method, Path string
	Headers      []Header
	Body         string
}

// Get returns the first header of that name (case-insensitive).
func (r Request) Get(name string) string {
	for _, h := range r.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// splitMessage splits an HTTP message into its first line, header lines and body.
func splitMessage(s string) (first string, headers []Header, body string, err error) {
	s = strings.TrimLeft(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	head, body, _ := strings.Cut(s, "\n\n")
	lines := strings.Split(head, "\n")
	first = strings.TrimSpace(lines[0])
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) == "" {
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			return "", nil, "", fmt.Errorf("header line %q has no colon", l)
		}
		headers = append(headers, Header{strings.TrimSpace(name), strings.TrimSpace(value)})
	}
	return first, headers, strings.TrimSpace(body), nil
}

// ParseRequest parses a request example.
func ParseRequest(s string) (Request, error) {
	first, headers, body, err := splitMessage(s)
	if err != nil {
		return Request{}, err
	}
	method, target, ok := strings.Cut(first, " ")
	if !ok || method != strings.ToUpper(method) || !strings.HasPrefix(target, "/") {
		return Request{}, fmt.Errorf("request line %q is not METHOD /path", first)
	}
	target = strings.TrimSuffix(strings.TrimSpace(target), " HTTP/1.1")
	return Request{Method: method, Path: target, Headers: headers, Body: body}, nil
}

// Response is a parsed response example.
type Response struct {
	Status  int
	Headers []Header
	Body    string
}

// ParseResponse parses a response example.
func ParseResponse(s string) (Response, error) {
	first, headers, body, err := splitMessage(s)
	if err != nil {
		return Response{}, err
	}
	f := strings.Fields(first)
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/") {
		return Response{}, fmt.Errorf("status line %q is not HTTP/1.1 CODE", first)
	}
	code, err := strconv.Atoi(f[1])
	if err != nil {
		return Response{}, fmt.Errorf("status line %q: %v", first, err)
	}
	return Response{Status: code, Headers: headers, Body: body}, nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Curl is the request as a curl command line against $BASE (e.g. http://127.0.0.1:8080).
func (r Request) Curl() string {
	var b strings.Builder
	b.WriteString("curl -s")
	if r.Method != "GET" && !(r.Method == "POST" && r.Body != "") {
		b.WriteString(" -X " + r.Method)
	}
	b.WriteString(` "$BASE` + r.Path + `"`)
	for _, h := range r.Headers {
		b.WriteString(" \\\n  -H " + shellQuote(h.Name+": "+h.Value))
	}
	if r.Body != "" {
		b.WriteString(" \\\n  --data-raw " + shellQuote(r.Body))
	}
	return b.String()
}
