// Package client is a Go client for the pocketramp partner API, which is the CryptoPocket partner
// API: a client written with it works against CryptoPocket's sandbox or against pocketramp by
// changing only the base URL.
//
// The client logs in lazily with the integration's api_key and api_secret, caches the token until
// shortly before it expires, and logs in again (once, transparently) when a call answers
// authorization_incorrect because the token expired or was revoked. A Client is safe for
// concurrent use.
//
// Every failure the API reports is returned as a *Error, which works with errors.Is against the
// exported sentinels (ErrUserNotFound, ErrRequireKYC, ErrValidation, ...). Amounts are strings or
// json.Number, never float64.
//
// The package depends only on the standard library.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultUserAgent is the User-Agent of requests unless WithUserAgent sets another.
const DefaultUserAgent = "pocketramp-go-client/1"

// DefaultTokenRefreshMargin is how long before a token's expiry the client logs in again.
const DefaultTokenRefreshMargin = time.Minute

// maxResponse bounds the answers the client reads.
const maxResponse = 32 << 20

// Client calls the partner API of one integration.
type Client struct {
	base      string // ends with /api, no trailing slash
	apiKey    string
	apiSecret string
	http      *http.Client
	userAgent string
	margin    time.Duration
	now       func() time.Time

	authMu sync.Mutex // serialises logins
	mu     sync.Mutex // guards tok
	tok    *Token
	fresh  time.Time // tok is used until then
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (timeouts, proxies, TLS). The default is
// http.DefaultClient.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithTokenRefreshMargin sets how long before its expiry a token is replaced (default one
// minute; at most half the token's lifetime is used).
func WithTokenRefreshMargin(d time.Duration) Option { return func(c *Client) { c.margin = d } }

// withClock replaces the clock (tests).
func withClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// New returns a client of the API at baseURL for the integration with the given key pair.
// baseURL is the server's root (https://ramp.example.com) or its API root
// (https://ramp.example.com/api); both mean the same.
func New(baseURL, apiKey, apiSecret string, opts ...Option) *Client {
	base := strings.TrimRight(baseURL, "/")
	if !strings.HasSuffix(base, "/api") {
		base += "/api"
	}
	c := &Client{base: base, apiKey: apiKey, apiSecret: apiSecret, http: http.DefaultClient,
		userAgent: DefaultUserAgent, margin: DefaultTokenRefreshMargin, now: time.Now}
	for _, o := range opts {
		o(c)
	}
	if c.http == nil {
		c.http = http.DefaultClient
	}
	return c
}

// BaseURL is the API root the client calls (ending in /api).
func (c *Client) BaseURL() string { return c.base }

// Token is a login.
type Token struct {
	Token     string    `json:"token"`
	ExpiresIn int64     `json:"expires_in"` // seconds
	ExpiresAt time.Time `json:"expires_at"`
}

// Authenticate logs in now (POST /authenticate), replacing any cached token, and returns the new
// token. Other calls log in by themselves; use this to check credentials early.
func (c *Client) Authenticate(ctx context.Context) (*Token, error) {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	return c.login(ctx)
}

// Token returns the cached token, logging in first when there is none or it is about to expire.
func (c *Client) Token(ctx context.Context) (*Token, error) {
	if t := c.cached(); t != nil {
		return t, nil
	}
	c.authMu.Lock()
	defer c.authMu.Unlock()
	if t := c.cached(); t != nil { // another caller logged in while this one waited
		return t, nil
	}
	return c.login(ctx)
}

func (c *Client) cached() *Token {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok != nil && c.now().Before(c.fresh) {
		return c.tok
	}
	return nil
}

// forget drops the cached token if it is still tok (a concurrent caller may have replaced it).
func (c *Client) forget(tok string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok != nil && c.tok.Token == tok {
		c.tok = nil
	}
}

// login must be called with authMu held.
func (c *Client) login(ctx context.Context) (*Token, error) {
	start := c.now()
	var t Token
	_, err := c.send(ctx, request{method: http.MethodPost, path: "/authenticate", public: true,
		body: map[string]string{"api_key": c.apiKey, "api_secret": c.apiSecret}}, "", &t)
	if err != nil {
		return nil, err
	}
	if t.Token == "" {
		return nil, &Error{HTTPStatus: http.StatusOK, Message: "authenticate answered no token"}
	}
	life := time.Duration(t.ExpiresIn) * time.Second
	if life <= 0 && !t.ExpiresAt.IsZero() {
		life = t.ExpiresAt.Sub(start)
	}
	margin := c.margin
	if margin > life/2 {
		margin = life / 2
	}
	c.mu.Lock()
	c.tok, c.fresh = &t, start.Add(life-margin)
	c.mu.Unlock()
	return &t, nil
}

// request is one API call.
type request struct {
	method string
	path   string // under the API root, escaped
	query  url.Values
	body   any        // sent as JSON when not nil
	form   url.Values // sent form-encoded when not nil
	public bool       // no token (authenticate)
}

// envelope is every JSON answer of the API.
type envelope struct {
	Status  string              `json:"status"`
	Message string              `json:"message"`
	Error   string              `json:"error"`
	Data    json.RawMessage     `json:"data"`
	Errors  map[string][]string `json:"errors"`
}

// call runs an authenticated request and decodes its data into out (when not nil). It logs in
// when needed and, when the answer is authorization_incorrect, logs in again and retries once.
func (c *Client) call(ctx context.Context, r request, out any) (*envelope, error) {
	if r.public {
		return c.send(ctx, r, "", out)
	}
	tok, err := c.Token(ctx)
	if err != nil {
		return nil, err
	}
	env, err := c.send(ctx, r, tok.Token, out)
	if !errors.Is(err, ErrAuthorizationIncorrect) {
		return env, err
	}
	// The token expired early or was revoked: log in again and retry once.
	c.forget(tok.Token)
	tok, err = c.Token(ctx)
	if err != nil {
		return nil, err
	}
	return c.send(ctx, r, tok.Token, out)
}

// send makes one HTTP exchange.
func (c *Client) send(ctx context.Context, r request, token string, out any) (*envelope, error) {
	var body io.Reader
	contentType := ""
	switch {
	case r.form != nil:
		body, contentType = strings.NewReader(r.form.Encode()), "application/x-www-form-urlencoded"
	case r.body != nil:
		buf, err := json.Marshal(r.body)
		if err != nil {
			return nil, fmt.Errorf("pocketramp: encode %s request: %w", r.path, err)
		}
		body, contentType = bytes.NewReader(buf), "application/json"
	}
	u := c.base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("pocketramp: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("auth", token)
	}
	if key, ok := ctx.Value(idempotencyKey{}).(string); ok && key != "" && r.method == http.MethodPost && !r.public {
		req.Header.Set("Idempotency-Key", key)
	}
	if id, ok := ctx.Value(requestIDKey{}).(string); ok && id != "" {
		req.Header.Set("X-Request-Id", id)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("pocketramp: %s %s: %w", r.method, r.path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("pocketramp: %s %s: read answer: %w", r.method, r.path, err)
	}
	if info, ok := ctx.Value(responseInfoKey{}).(*ResponseInfo); ok && info != nil {
		*info = ResponseInfo{HTTPStatus: resp.StatusCode, Header: resp.Header.Clone(),
			RequestID: resp.Header.Get("X-Request-Id"), Replayed: resp.Header.Get("Idempotency-Replayed") == "true"}
	}
	return decodeAnswer(resp, raw, out)
}

// decodeAnswer turns an HTTP answer into its envelope, or a *Error.
func decodeAnswer(resp *http.Response, raw []byte, out any) (*envelope, error) {
	requestID := resp.Header.Get("X-Request-Id")
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, &Error{HTTPStatus: resp.StatusCode, Message: excerpt(raw), RequestID: requestID}
	}
	switch {
	case env.Status == "error" || env.Error != "":
		return nil, &Error{HTTPStatus: resp.StatusCode, Code: env.Error, Message: env.Message, Data: env.Data,
			Fields: env.Errors, RequestID: requestID}
	case resp.StatusCode == http.StatusUnprocessableEntity:
		return nil, &Error{HTTPStatus: resp.StatusCode, Message: env.Message, Fields: env.Errors, RequestID: requestID}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		msg := env.Message
		if msg == "" {
			msg = excerpt(raw)
		}
		return nil, &Error{HTTPStatus: resp.StatusCode, Message: msg, RequestID: requestID}
	}
	if out != nil && len(env.Data) > 0 && string(env.Data) != "null" {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return &env, fmt.Errorf("pocketramp: decode answer: %w", err)
		}
	}
	return &env, nil
}

func excerpt(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 512 {
		s = s[:512] + "…"
	}
	return s
}

type idempotencyKey struct{}
type requestIDKey struct{}
type responseInfoKey struct{}

// WithIdempotencyKey returns a context whose POST calls carry the Idempotency-Key header: the
// server answers a repeated call with the same key and body with the first call's answer
// instead of doing it again (kept 24 hours, scoped to the integration and path).
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idempotencyKey{}, key)
}

// WithRequestID returns a context whose calls send X-Request-Id (8 to 64 characters of
// [A-Za-z0-9._-]); the server logs it and echoes it back.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// ResponseInfo describes the HTTP answer of a call.
type ResponseInfo struct {
	HTTPStatus int
	RequestID  string // X-Request-Id
	Replayed   bool   // Idempotency-Replayed: true (the stored answer of an earlier call)
	Header     http.Header
}

// WithResponseInfo returns a context whose calls fill in info with the HTTP answer (the last
// one, when the client logged in again and retried).
func WithResponseInfo(ctx context.Context, info *ResponseInfo) context.Context {
	return context.WithValue(ctx, responseInfoKey{}, info)
}

// Pagination is the page block of list answers.
type Pagination struct {
	Page     int `json:"page"`
	PerPage  int `json:"per_page"`
	Total    int `json:"total"`
	LastPage int `json:"last_page"`
}

// Page is one page of a list.
type Page[T any] struct {
	Items      []T        `json:"items"`
	Pagination Pagination `json:"pagination"`
}

// HasMore reports whether pages follow this one.
func (p *Page[T]) HasMore() bool { return p.Pagination.Page < p.Pagination.LastPage }

// PageRequest selects a page: Page from 1 (0: the first), PerPage up to 100 (0: the server's
// default of 20).
type PageRequest struct {
	Page    int
	PerPage int
}

func (p PageRequest) add(q url.Values) {
	setInt(q, "page", p.Page)
	setInt(q, "per_page", p.PerPage)
}

func set(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

func setInt(q url.Values, k string, v int) {
	if v != 0 {
		q.Set(k, fmt.Sprint(v))
	}
}

func pathID(id string) string { return url.PathEscape(id) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
