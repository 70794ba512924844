package webhook

import (
	"context"
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

// allowFor is the address policy of an integration's webhooks: production integrations reach
// public addresses only (document.IsPublic, the fetcher's policy); sandbox integrations may
// also reach loopback and private ranges (REFERENCE §7) — but never link-local (cloud metadata),
// multicast or the other special ranges.
func allowFor(sandbox bool) func(netip.Addr) bool {
	if !sandbox {
		return document.IsPublic
	}
	return func(a netip.Addr) bool {
		a = a.Unmap()
		return document.IsPublic(a) || (a.Zone() == "" && (a.IsLoopback() || a.IsPrivate()))
	}
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
	if why := s.checkHost(ctx, in.Sandbox, u.Hostname()); why != "" {
		return "", "", ErrInvalidURL.With(why, nil)
	}
	return canon, u.String(), nil
}

func (s *Service) checkHost(ctx context.Context, sandbox bool, host string) string {
	allow := allowFor(sandbox)
	const refused = "The url must point to a public address."
	if ip, err := netip.ParseAddr(host); err == nil {
		if !allow(ip) {
			return refused
		}
		return ""
	}
	lower := strings.ToLower(strings.TrimSuffix(host, "."))
	if !sandbox && (lower == "localhost" || strings.HasSuffix(lower, ".localhost") || !strings.Contains(lower, ".")) {
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
