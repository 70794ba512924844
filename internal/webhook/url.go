package webhook

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/document"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/integration"
)

const maxURLLength = 2048

// PrivateTargets is the operator's choice whether sandbox integrations' webhooks may target
// loopback and private addresses (a receiver on the developer's machine or network). Production
// integrations never may.
type PrivateTargets int

const (
	// PrivateAuto allows them while the server has no production integration: a sandbox-only
	// server (pocketramp serve out of the box, tests) reaches localhost receivers, a server that
	// also serves production integrations keeps a sandbox key from probing its internal network.
	PrivateAuto PrivateTargets = iota
	PrivateOn                  // always allowed (the operator's explicit choice)
	PrivateOff                 // never allowed
)

// ParsePrivateTargets reads the setting sandbox_private_webhooks: auto (or empty), true, false.
func ParsePrivateTargets(v string) (PrivateTargets, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "auto":
		return PrivateAuto, nil
	case "true":
		return PrivateOn, nil
	case "false":
		return PrivateOff, nil
	}
	return PrivateAuto, fmt.Errorf("%q: want auto, true or false", v)
}

// allowFor is an address policy of webhooks: public addresses only (document.IsPublic, the
// fetcher's policy), or, with private, also loopback and private ranges (REFERENCE §7) — but
// never link-local (cloud metadata), multicast or the other special ranges.
func allowFor(private bool) func(netip.Addr) bool {
	if !private {
		return document.IsPublic
	}
	return func(a netip.Addr) bool {
		a = a.Unmap()
		return document.IsPublic(a) || isPrivate(a)
	}
}

// isPrivate reports a loopback or private-range address (no zone).
func isPrivate(a netip.Addr) bool {
	a = a.Unmap()
	return a.Zone() == "" && (a.IsLoopback() || a.IsPrivate())
}

// privateAllowed reports whether in's webhooks may reach loopback and private addresses now:
// never for production integrations; for sandbox ones per Config.PrivateTargets. Under
// PrivateAuto the first production integration seen turns it off for the process's life (an
// integration is never deleted, so the answer cannot turn back).
func (s *Service) privateAllowed(ctx context.Context, in integration.Integration) (bool, error) {
	return s.privatePolicy(in, func() (int, error) { return s.countProduction(ctx) })
}

// privatePolicy is privateAllowed with the count of production integrations coming from
// production, which is called only when the answer depends on it.
func (s *Service) privatePolicy(in integration.Integration, production func() (int, error)) (bool, error) {
	if !in.Sandbox {
		return false, nil
	}
	switch s.cfg.PrivateTargets {
	case PrivateOn:
		return true, nil
	case PrivateOff:
		return false, nil
	}
	if s.production.Load() {
		return false, nil
	}
	n, err := production()
	if err != nil {
		return false, err
	}
	if n > 0 {
		s.production.Store(true)
	}
	return n == 0, nil
}

func (s *Service) countProduction(ctx context.Context) (int, error) {
	var n int
	if err := s.cfg.DB.QueryRow(ctx, "SELECT COUNT(*) FROM integrations WHERE sandbox = ?", false).Scan(&n); err != nil {
		return 0, fmt.Errorf("webhook: count production integrations: %w", err)
	}
	return n, nil
}

// checkURL validates a webhook URL syntactically for the integration (scheme, host, no
// credentials) and returns it normalised. It is applied when subscribing and before every
// attempt; the address policy is applied on top, by validate and by the dialer.
func checkURL(sandbox bool, raw string) (*url.URL, string) {
	raw = strings.TrimSpace(raw)
	if len(raw) > maxURLLength {
		return nil, "The url must not exceed 2048 characters."
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Opaque != "" {
		return nil, "The url is not a valid absolute URL."
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && sandbox:
	case u.Scheme == "http":
		return nil, "Production webhooks must use https."
	default:
		return nil, "The url must use http or https."
	}
	if u.User != nil {
		return nil, "The url must not contain credentials."
	}
	if u.Hostname() == "" {
		return nil, "The url has no host."
	}
	u.Fragment, u.RawFragment = "", ""
	return u, ""
}

// validate checks a subscription request: the type, the URL, and that the URL's host resolves
// only to addresses the integration may reach.
func (s *Service) validate(ctx context.Context, in integration.Integration, typ, rawURL string) (string, string, error) {
	f := errcode.Fields{}
	if strings.TrimSpace(typ) == "" {
		errcode.Required(f, "type")
	}
	if strings.TrimSpace(rawURL) == "" {
		errcode.Required(f, "url")
	}
	if err := f.Err(); err != nil {
		return "", "", err
	}
	canon, err := validateType(typ)
	if err != nil {
		return "", "", err
	}
	u, why := checkURL(in.Sandbox, rawURL)
	if why != "" {
		return "", "", ErrInvalidURL.With(why, nil)
	}
	private, err := s.privateAllowed(ctx, in)
	if err != nil {
		return "", "", err
	}
	if why := s.checkHost(ctx, in.Sandbox, private, u.Hostname()); why != "" {
		return "", "", ErrInvalidURL.With(why, nil)
	}
	return canon, u.String(), nil
}

func (s *Service) checkHost(ctx context.Context, sandbox, private bool, host string) string {
	allow := allowFor(private)
	refused := "The url must point to a public address."
	if sandbox && !private {
		refused += " Sandbox webhooks reach loopback and private addresses only on a server without production integrations, or where the operator allows them (POCKETRAMP_SANDBOX_PRIVATE_WEBHOOKS=true)."
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if !allow(ip) {
			return refused
		}
		return ""
	}
	lower := strings.ToLower(strings.TrimSuffix(host, "."))
	if !private && (lower == "localhost" || strings.HasSuffix(lower, ".localhost") || !strings.Contains(lower, ".")) {
		return refused
	}
	var res document.Resolver = net.DefaultResolver
	if s.cfg.Resolver != nil {
		res = s.cfg.Resolver
	}
	lctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	ips, err := res.LookupIPAddr(lctx, host)
	if err != nil || len(ips) == 0 {
		if sandbox {
			return "" // sandbox hosts may be names only the receiver's network knows later
		}
		return "The url's host name could not be resolved."
	}
	for _, ip := range ips {
		a, ok := netip.AddrFromSlice(ip.IP)
		if !ok || !allow(a.Unmap().WithZone(ip.Zone)) {
			return refused
		}
	}
	return ""
}
