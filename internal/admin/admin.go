// Package admin is pocketramp's operator surface: the console at /admin/ (server-rendered HTML
// for people) and the operator JSON API under /admin/api (for scripts). Both authenticate
// operators, not integrations, check the operator's role for every page and action, and write
// every change to the audit log the same way. The JSON API shares the partner API's renderer
// and decoders (package api). Handlers hold no business rules: they call the domain services.
package admin

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/api"
	"github.com/pocketramp/pocketramp/internal/audit"
	"github.com/pocketramp/pocketramp/internal/banking"
	"github.com/pocketramp/pocketramp/internal/chainset"
	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/offramp"
	"github.com/pocketramp/pocketramp/internal/onramp"
	"github.com/pocketramp/pocketramp/internal/operator"
	"github.com/pocketramp/pocketramp/internal/secret"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/webhook"
)

// Config is what the operator surface needs.
type Config struct {
	API          *api.Server // the contract's renderer and decoders
	DB           *store.DB
	Box          *secret.Box
	Integrations *integration.Service
	Customers    *customer.Service
	Onramp       *onramp.Service
	Offramp      *offramp.Service
	Accounts     *banking.Accounts
	Banking      *banking.Service
	Webhooks     *webhook.Service
	Chains       *chainset.Set // hot wallets of the running chains (nil: none shown)
	Operators    *operator.Service
	Audit        *audit.Log
	// SandboxRPC answers JSON-RPC for a sandbox chain (chainset.Set.ServeSandboxRPC); nil: not served.
	SandboxRPC func(w http.ResponseWriter, r *http.Request, chain string)
	// Token is the automation bearer token of the operator API; empty disables it. It acts
	// with TokenRole (default admin) and cannot open the console.
	Token     string
	TokenRole operator.Role
	// LiveNeeds lists what keeps a live integration (or, for 0, live operation) from working
	// (app.LiveNeeds); nil: nothing is checked.
	LiveNeeds func(ctx context.Context, integrationID int64) ([]string, error)
	// BaseURL is where operators reach the console (set-password links); https marks cookies Secure.
	BaseURL string
	Now     func() time.Time
	Log     *slog.Logger
}

// Server is the operator surface's HTTP handler.
type Server struct {
	Config
	mux     *http.ServeMux
	console *console
	routes  []string // the JSON API's patterns, for the documentation check
}

// APIRoutes lists the operator JSON API's routes ("METHOD /admin/api/...").
func (s *Server) APIRoutes() []string { return s.routes }

// handleAPI registers a JSON API route outside get/post (file answers).
func (s *Server) handleAPI(pattern string, h http.Handler) {
	s.routes = append(s.routes, pattern)
	s.mux.Handle(pattern, h)
}

// New builds the operator surface and its routes; it panics on a broken embedded template,
// which a test catches.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.TokenRole == "" {
		cfg.TokenRole = operator.Admin
	}
	s := &Server{Config: cfg, mux: http.NewServeMux()}
	s.apiRoutes()
	s.consoleRoutes()
	return s
}

// ServeHTTP serves every /admin/ route.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Mount registers the operator surface with mount (a server's Mount), so it shares that
// server's request ids, access log and metrics.
func (s *Server) Mount(mount func(pattern string, h http.Handler)) { mount("/admin/", s) }

// principal is who is calling: an operator (console session or their API token) or the shared
// automation token.
type principal struct {
	ID     int64
	Email  string
	Role   operator.Role
	Via    string // console, api
	Source string // client address
	csrf   string // console sessions only
}

type principalKey struct{}

func principalOf(ctx context.Context) principal {
	p, _ := ctx.Value(principalKey{}).(principal)
	return p
}

func withPrincipal(r *http.Request, p principal) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
}

// clientAddr is the TCP peer (pocketramp trusts no forwarding header).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

var (
	errUnauthorized = errcode.Unauthorized.WithKind(errcode.KindUnauthorized)
	// errForbidden is an operator whose role does not cover the route.
	errForbidden = &errcode.Error{Code: "forbidden", Message: "Your role does not allow this.", Kind: errcode.KindForbidden}
)

// apiPrincipal authenticates a JSON API call: the automation token or an operator's API token.
func (s *Server) apiPrincipal(r *http.Request) (principal, error) {
	h := r.Header.Get("Authorization")
	tok := ""
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		tok = strings.TrimSpace(h[7:])
	}
	if tok == "" {
		return principal{}, errUnauthorized
	}
	if s.Token != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.Token)) == 1 {
		return principal{Email: "automation", Role: s.TokenRole, Via: "api", Source: clientAddr(r)}, nil
	}
	if s.Operators != nil && strings.HasPrefix(tok, "opt_") {
		o, err := s.Operators.ResolveToken(r.Context(), tok)
		if errors.Is(err, operator.ErrNoSession) {
			return principal{}, errUnauthorized
		}
		if err != nil {
			return principal{}, err
		}
		return principal{ID: o.ID, Email: o.Email, Role: o.Role, Via: "api", Source: clientAddr(r)}, nil
	}
	return principal{}, errUnauthorized
}

// requireOperator authenticates a JSON API route and checks that the role sees area.
func (s *Server) requireOperator(area operator.Area, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.apiPrincipal(r)
		if err == nil && !p.Role.CanView(area) {
			err = errForbidden
		}
		if err != nil {
			s.API.RenderError(w, r, err)
			return
		}
		next.ServeHTTP(w, withPrincipal(r, p))
	})
}

// get registers a read-only JSON route of area.
func (s *Server) get(pattern string, area operator.Area, h func(r *http.Request) (any, error)) {
	s.routes = append(s.routes, pattern)
	s.mux.Handle(pattern, api.LimitBody(api.DefaultMaxBody, s.requireOperator(area, s.API.Serve(h))))
}

// post registers a JSON route that changes something in area: the role must be allowed to act
// there, and a success is written to the audit log as action.
func (s *Server) post(pattern string, area operator.Area, action string, h func(r *http.Request) (any, error)) {
	s.postLimit(pattern, api.DefaultMaxBody, area, action, h)
}

func (s *Server) postLimit(pattern string, maxBody int64, area operator.Area, action string, h func(r *http.Request) (any, error)) {
	s.routes = append(s.routes, pattern)
	s.mux.Handle(pattern, api.LimitBody(maxBody, s.requireOperator(area, s.API.Serve(func(r *http.Request) (any, error) {
		return s.audited(r, area, action, r.URL.Path, func(r *http.Request) (any, error) { return h(r) })
	}))))
}

// auditNote is filled in by an action's handler: what the object was before the change, and a
// more precise target than the URL.
type auditNote struct {
	before, after any // after: nil records the action's answer
	target        string
}

type auditNoteKey struct{}

// noteBefore records what the object looked like before the change, for the audit record.
func noteBefore(r *http.Request, target string, before any) {
	if n, ok := r.Context().Value(auditNoteKey{}).(*auditNote); ok {
		n.before, n.target = before, target
	}
}

// noteAfter replaces the action's answer as the audit record's after (e.g. only the fields a
// decision changes, not the whole customer with its personal data).
func noteAfter(r *http.Request, after any) {
	if n, ok := r.Context().Value(auditNoteKey{}).(*auditNote); ok {
		n.after = after
	}
}

// audited runs an action for the console and the JSON API alike: the role must be allowed to
// act on area; the action and its audit record (who, from where, before → after) commit in one
// database transaction, so a change without its record, or a record without its change, cannot
// happen. do runs with a request whose context joins that transaction (store.WithTx): it must
// make every database call with that request's context, never one captured before. On a
// serialization conflict the whole of do runs again, so it must have no effect outside the
// database.
func (s *Server) audited(r *http.Request, area operator.Area, action, target string, do func(r *http.Request) (any, error)) (any, error) {
	p := principalOf(r.Context())
	if !p.Role.CanAct(area) {
		return nil, errForbidden
	}
	var out any
	err := s.DB.Tx(r.Context(), func(tx *store.Tx) error {
		note := &auditNote{}
		r := r.WithContext(store.WithTx(context.WithValue(r.Context(), auditNoteKey{}, note), tx))
		var err error
		if out, err = do(r); err != nil {
			return err
		}
		t := target
		if note.target != "" {
			t = note.target
		}
		after := out
		if note.after != nil {
			after = note.after
		}
		return s.recordTx(r.Context(), tx, p, action, t, note.before, after)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// changed runs change and appends its audit record in one transaction, like audited (change's
// context joins it); change returns the record's after.
func (s *Server) changed(ctx context.Context, p principal, action, target string, before any, change func(ctx context.Context) (any, error)) error {
	return s.DB.Tx(ctx, func(tx *store.Tx) error {
		ctx := store.WithTx(ctx, tx)
		after, err := change(ctx)
		if err != nil {
			return err
		}
		return s.recordTx(ctx, tx, p, action, target, before, after)
	})
}

// record appends an audit record of an event that changes no setting (a login) on its own.
func (s *Server) record(ctx context.Context, p principal, action, target string, before, after any) error {
	return s.DB.Tx(ctx, func(tx *store.Tx) error {
		return s.recordTx(store.WithTx(ctx, tx), tx, p, action, target, before, after)
	})
}

// recordTx appends one audit record for p in tx.
func (s *Server) recordTx(ctx context.Context, tx *store.Tx, p principal, action, target string, before, after any) error {
	if s.Audit == nil {
		return nil
	}
	_, err := s.Audit.AppendTx(ctx, tx, audit.Record{Actor: p.Email, Role: string(p.Role), Via: p.Via, Source: p.Source,
		Action: action, Target: target, Before: audit.JSON(before), After: audit.JSON(after)})
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}
