// Package api serves the CryptoPocket-compatible partner API under /api, plus health, metrics
// and the OpenAPI document. Handlers hold no business rules: they decode, call a domain
// package, and return data or an error for the one renderer.
package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pocketramp/pocketramp/internal/asset"
	"github.com/pocketramp/pocketramp/internal/banking"
	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/offramp"
	"github.com/pocketramp/pocketramp/internal/onramp"
	"github.com/pocketramp/pocketramp/internal/price"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/throttle"
	"github.com/pocketramp/pocketramp/internal/webhook"
	"github.com/pocketramp/pocketramp/openapi"
)

// DefaultMaxBody is the request body limit of routes that set none of their own.
const DefaultMaxBody = 1 << 20

// Config holds what the API needs.
type Config struct {
	DB           *store.DB
	Integrations *integration.Service
	Assets       asset.Catalogue
	Customers    *customer.Service
	Onramp       *onramp.Service
	Offramp      *offramp.Service
	Accounts     *banking.Accounts
	Banking      *banking.Service
	Webhooks     *webhook.Service
	// SandboxPrices serves sandbox integrations, LivePrices production ones.
	SandboxPrices price.Provider
	LivePrices    price.Provider
	Log           *slog.Logger
	Now           func() time.Time
	Registry      *prometheus.Registry // nil: a new one
	Version       string
	// ThrottleNow is the clock of the rate limits and login lockouts: real time (nil: time.Now),
	// not the business clock, which tests move by days; throttling tests inject their own.
	ThrottleNow func() time.Time
}

// Server is the HTTP API. It serves two listeners: the public one (partner API, hosted pages,
// docs, health) and the operator one (operator API under /admin and /metrics), so the operator
// surface is never reachable from where partners and customers connect.
type Server struct {
	Config
	log      *slog.Logger
	mux      *http.ServeMux // public listener
	admin    *http.ServeMux // operator listener
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// rate is each integration's request rate; authByIP and authByKey bound login guessing.
	rate      *throttle.Limiter
	authByIP  *throttle.Backoff
	authByKey *throttle.Backoff
}

// Login guessing limits of POST /api/authenticate: attempts per minute from one address and
// against one api_key before a lockout of a minute, doubling on each further lockout up to
// AuthMaxLockout. A success does not count.
const (
	AuthAttemptsPerIP  = 30
	AuthAttemptsPerKey = 10
	AuthWindow         = time.Minute
	AuthMaxLockout     = 15 * time.Minute
)

// New builds the server and its routes.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
		cfg.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	s := &Server{Config: cfg, log: cfg.Log, mux: http.NewServeMux(), admin: http.NewServeMux(),
		rate:      &throttle.Limiter{Now: cfg.ThrottleNow},
		authByIP:  &throttle.Backoff{Attempts: AuthAttemptsPerIP, Window: AuthWindow, MaxLock: AuthMaxLockout, Now: cfg.ThrottleNow},
		authByKey: &throttle.Backoff{Attempts: AuthAttemptsPerKey, Window: AuthWindow, MaxLock: AuthMaxLockout, Now: cfg.ThrottleNow}}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pocketramp_http_requests_total", Help: "HTTP requests by route and status.",
	}, []string{"route", "status"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "pocketramp_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route"})
	cfg.Registry.MustRegister(s.requests, s.latency)
	s.routes()
	return s
}

func (s *Server) routes() {
	m := s.mux
	notFound := s.serve(func(r *http.Request) (any, error) { return nil, errcode.NotFound })
	// Health answers on both listeners: load balancers probe the public one, operators the other.
	for _, mux := range []*http.ServeMux{s.mux, s.admin} {
		mux.HandleFunc("GET /healthz", s.healthz)
		mux.HandleFunc("GET /readyz", s.readyz)
		mux.HandleFunc("/", notFound)
	}
	s.admin.Handle("GET /metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{}))
	m.HandleFunc("GET /api/openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		w.Write(openapi.Document)
	})
	m.HandleFunc("/api/", notFound)
	// The bare host is where a new user lands first: send them to the guides.
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/docs", http.StatusFound) })
	m.HandleFunc("/admin/", notFound) // the operator surface lives on the operator listener only

	m.Handle("POST /api/authenticate", limitBody(DefaultMaxBody, s.serve(s.authenticate)))
	s.partner("GET /api/available-assets", s.availableAssets)
	s.partner("GET /api/token-price", s.tokenPrice)
	s.customerRoutes()
	s.paymentRoutes()
	s.rampoffRoutes()
	s.bankingRoutes()
	s.webhookRoutes()
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.DB.Ping(ctx); err != nil {
		s.log.Warn("readiness: database unreachable", slog.Any("err", err))
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "database": string(s.DB.Engine())})
}

// Mount serves h for pattern on the public listener through the same middleware (request id,
// logs, metrics) as the API: the hosted pages and the docs are mounted this way.
func (s *Server) Mount(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// MountAdmin serves h for pattern on the operator listener (see AdminHandler), through the same
// middleware; h does its own authentication (package admin mounts the operator surface here).
func (s *Server) MountAdmin(pattern string, h http.Handler) { s.admin.Handle(pattern, h) }

// partner registers an authenticated partner route; POST routes also honour Idempotency-Key.
func (s *Server) partner(pattern string, h handler) { s.partnerLimit(pattern, DefaultMaxBody, h) }

// partnerLimit is partner with its own request body limit.
func (s *Server) partnerLimit(pattern string, maxBody int64, h handler) {
	var inner http.Handler = s.serve(h)
	if strings.HasPrefix(pattern, "POST ") {
		inner = s.idempotent(inner)
	}
	s.mux.Handle(pattern, limitBody(maxBody, s.requireAuth(inner)))
}

// sandbox registers a partner route that only sandbox integrations see; production ones get 404.
func (s *Server) sandbox(pattern string, h handler) {
	s.partner(pattern, func(r *http.Request) (any, error) {
		if !caller(r).Sandbox {
			return nil, errcode.NotFound
		}
		return h(r)
	})
}

func limitBody(n int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, n)
		next.ServeHTTP(w, r)
	})
}

// Handler is the public listener's handler with its middleware: partner API, hosted pages,
// docs, health. /admin/... and /metrics answer 404 here.
func (s *Server) Handler() http.Handler { return s.wrap(s.mux) }

// AdminHandler is the operator listener's handler: the operator API under /admin, /metrics and
// health, with the same middleware as the public one.
func (s *Server) AdminHandler() http.Handler { return s.wrap(s.admin) }

// wrap adds the middleware every request goes through: request id, panic recovery, access log
// and metrics.
func (s *Server) wrap(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID.MatchString(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		ctx := context.WithValue(r.Context(), requestIDKey{}, id)
		info := &requestInfo{}
		ctx = context.WithValue(ctx, requestInfoKey{}, info)
		r = r.WithContext(ctx)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if p := recover(); p != nil {
				s.log.ErrorContext(ctx, "panic", slog.String("request_id", id), slog.Any("panic", p))
				if !rec.wrote {
					writeJSON(rec, http.StatusInternalServerError, errorEnvelope{Status: "error", Error: "unexpected_error"})
				}
			}
			route := r.Pattern
			if route == "" || route == "/" || route == "/api/" || route == "/admin/" || route == "/admin/api/" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			s.requests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
			s.latency.WithLabelValues(route).Observe(elapsed.Seconds())
			path := r.URL.Path
			if strings.Contains(r.Pattern, "{token}") {
				path = route // hosted-page links are bearer tokens: keep them out of the logs
			}
			attrs := []any{slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", path),
				slog.Int("status", rec.status), slog.Duration("duration", elapsed)}
			if info.integrationID != 0 {
				attrs = append(attrs, slog.Int64("integration_id", info.integrationID))
			}
			s.log.InfoContext(ctx, "request", attrs...)
		}()
		if err := checkRequestText(r); err != nil {
			s.renderError(rec, r, err)
			return
		}
		mux.ServeHTTP(rec, r)
	})
}

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

func newRequestID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type requestIDKey struct{}
type requestInfoKey struct{}

// requestInfo is filled in by inner handlers for the access log.
type requestInfo struct{ integrationID int64 }

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// timestamp formats t as the contract's ISO-8601 UTC with microseconds.
func timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}
