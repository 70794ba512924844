package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/integration"
)

type integrationKey struct{}

// caller returns the authenticated integration of a partner route.
func caller(r *http.Request) integration.Integration {
	in, _ := r.Context().Value(integrationKey{}).(integration.Integration)
	return in
}

// remoteAddr is the caller's address. pocketramp trusts only the TCP peer: behind a reverse
// proxy, the allow-list sees the proxy.
func remoteAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}

// bearer reads the token from the `auth` header (CryptoPocket) or `Authorization: Bearer`.
func bearer(r *http.Request) string {
	if t := strings.TrimSpace(r.Header.Get("auth")); t != "" {
		return t
	}
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func (s *Server) requireAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := s.Integrations.Resolve(r.Context(), bearer(r), remoteAddr(r))
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		if info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
			info.integrationID = in.ID
		}
		if ok, wait := s.rate.Allow(strconv.FormatInt(in.ID, 10), in.Rate); !ok {
			s.renderError(w, r, errcode.TooManyRequests(wait))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), integrationKey{}, in)))
	})
}

type authenticateRequest struct {
	APIKey    string `json:"api_key"`
	APISecret string `json:"api_secret"`
}

type authenticateResponse struct {
	Token     string `json:"token"`
	ExpiresIn int64  `json:"expires_in"`
	ExpiresAt string `json:"expires_at"`
}

func (s *Server) authenticate(r *http.Request) (any, error) {
	var req authenticateRequest
	if err := decodeJSON(r, &req); err != nil {
		return nil, err
	}
	f := errcode.Fields{}
	if req.APIKey == "" {
		errcode.Required(f, "api_key")
	}
	if req.APISecret == "" {
		errcode.Required(f, "api_secret")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	// Guessing is bounded per address and per api_key: every attempt counts when it starts (so
	// parallel guesses are counted too), a success gives its attempt back.
	ip, key := remoteAddr(r).String(), req.APIKey
	if len(key) > 200 {
		key = key[:200]
	}
	if ok, wait := s.authByIP.Attempt(ip); !ok {
		return nil, errcode.TooManyRequests(wait)
	}
	if ok, wait := s.authByKey.Attempt(key); !ok {
		s.authByIP.Succeeded(ip)
		return nil, errcode.TooManyRequests(wait)
	}
	tok, in, err := s.Integrations.Authenticate(r.Context(), req.APIKey, req.APISecret, remoteAddr(r))
	if err != nil {
		if !errors.Is(err, errcode.Unauthorized) { // not a wrong guess: do not count it
			s.authByIP.Succeeded(ip)
			s.authByKey.Succeeded(key)
		}
		return nil, err
	}
	s.authByIP.Succeeded(ip)
	s.authByKey.Reset(key)
	return authenticateResponse{Token: tok.Token, ExpiresIn: int64(in.TokenTTL.Seconds()), ExpiresAt: timestamp(tok.ExpiresAt)}, nil
}
