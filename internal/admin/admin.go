// Package admin is pocketramp's operator surface: the operator JSON API under /admin/api. It
// shares the partner API's renderer and decoders (package api) but not its authentication:
// operators, not integrations, call it. Handlers hold no business rules; they call the domain
// services.
package admin

import (
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/api"
	"github.com/pocketramp/pocketramp/internal/banking"
	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/offramp"
	"github.com/pocketramp/pocketramp/internal/onramp"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/webhook"
)

// Config is what the operator surface needs.
type Config struct {
	API          *api.Server // the contract's renderer and decoders
	DB           *store.DB
	Integrations *integration.Service
	Customers    *customer.Service
	Onramp       *onramp.Service
	Offramp      *offramp.Service
	Accounts     *banking.Accounts
	Banking      *banking.Service
	Webhooks     *webhook.Service
	// Token is the automation bearer token of the operator API; empty disables it.
	Token string
	Now   func() time.Time
	Log   *slog.Logger
}

// Server is the operator surface's HTTP handler.
type Server struct {
	Config
	mux *http.ServeMux
}

// New builds the operator surface and its routes.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &Server{Config: cfg, mux: http.NewServeMux()}
	s.apiRoutes()
	return s
}

// ServeHTTP serves every /admin/ route.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Mount registers the operator surface with mount (a server's Mount), so it shares that
// server's request ids, access log and metrics.
func (s *Server) Mount(mount func(pattern string, h http.Handler)) { mount("/admin/", s) }

func (s *Server) operator(pattern string, h func(r *http.Request) (any, error)) {
	s.mux.Handle(pattern, api.LimitBody(api.DefaultMaxBody, s.requireOperator(s.API.Serve(h))))
}

func (s *Server) requireOperator(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		tok := ""
		if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
			tok = strings.TrimSpace(h[7:])
		}
		if s.Token == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(s.Token)) != 1 {
			s.API.RenderError(w, r, &errcode.Error{Code: "authorization_incorrect", Status: http.StatusUnauthorized})
			return
		}
		next.ServeHTTP(w, r)
	})
}
