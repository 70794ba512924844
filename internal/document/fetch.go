package document

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"syscall"
)

// blockedError is a dial refused by the address policy. It stays internal (it names the
// address); Load turns it into the generic private-address reason.
type blockedError struct{ addr netip.AddrPort }

func (e *blockedError) Error() string {
	return "document: refusing to connect to non-public address " + e.addr.String()
}

func couldNotFetch(why string) *Invalid {
	return invalid("The file URL could not be fetched: %s.", why)
}

// checkAddr is the address policy, applied both to every resolved address and again, in the
// dialer's Control hook, to the exact address of each socket before it connects.
func (l *Loader) checkAddr(ap netip.AddrPort) error {
	switch {
	case l.dialCheck != nil:
		if err := l.dialCheck(ap); err != nil {
			return &blockedError{ap}
		}
		return nil
	case l.AllowPrivate:
		return nil
	case !isPublic(ap.Addr()):
		return &blockedError{ap}
	}
	return nil
}

// checkURL validates a URL before it is requested, for the first request and every redirect.
func checkURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return &Invalid{reasonScheme}
	}
	if u.User != nil {
		return &Invalid{reasonUserinfo}
	}
	if u.Hostname() == "" {
		return couldNotFetch("it has no host name")
	}
	return nil
}

func (l *Loader) resolver() Resolver {
	if l.Resolver != nil {
		return l.Resolver
	}
	return net.DefaultResolver
}

// dial resolves the host itself and connects only to literal addresses that passed the
// policy, so there is no second lookup a rebinding DNS server could answer differently. The
// Control hook re-checks the socket's address as a last line of defence.
func (l *Loader) dial(ctx context.Context, network, address string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("document: bad port %q", portText)
	}
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		ips, err := l.resolver().LookupIPAddr(ctx, host)
		if err != nil {
			return nil, err
		}
		for _, ip := range ips {
			if a, ok := netip.AddrFromSlice(ip.IP); ok {
				addrs = append(addrs, a.Unmap().WithZone(ip.Zone))
			}
		}
	}
	if len(addrs) == 0 {
		return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	// One non-public answer refuses the host: a name that mixes public and internal addresses
	// is an attack, and skipping the bad ones would let a retry land on them later.
	for _, a := range addrs {
		if err := l.checkAddr(netip.AddrPortFrom(a.Unmap(), uint16(port))); err != nil {
			return nil, err
		}
	}
	d := net.Dialer{ControlContext: func(_ context.Context, _, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("document: cannot parse dial address %q: %w", address, err)
		}
		return l.checkAddr(ap)
	}}
	var firstErr error
	for _, a := range addrs {
		c, err := d.DialContext(ctx, network, netip.AddrPortFrom(a, uint16(port)).String())
		if err == nil {
			return c, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, firstErr
}

func (l *Loader) client(lim Limits) *http.Client {
	tr := &http.Transport{
		Proxy:                  nil, // never route through HTTP(S)_PROXY: the proxy would dial unchecked
		DialContext:            l.dial,
		TLSClientConfig:        l.tlsConfig,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    lim.Timeout,
		DisableKeepAlives:      true, // one transport per Load; nothing to reuse
		DisableCompression:     true, // keep Content-Length meaningful for the size check
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > lim.MaxRedirects {
				return couldNotFetch("it redirects too many times")
			}
			return checkURL(req.URL)
		},
	}
}

// fetch downloads src within lim. The deadline is on the context, so it covers DNS, connect,
// TLS, headers and the body (a server trickling bytes cannot hold the request open).
func (l *Loader) fetch(ctx context.Context, src string, lim Limits) ([]byte, error) {
	u, err := url.Parse(src)
	if err != nil {
		return nil, couldNotFetch("it is not a valid URL")
	}
	if err := checkURL(u); err != nil {
		return nil, err
	}
	tctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(tctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, couldNotFetch("it is not a valid URL")
	}
	req.Header.Set("User-Agent", "pocketramp-document-fetcher/1")
	req.Header.Set("Accept", "application/pdf, image/jpeg, image/png")
	c := l.client(lim)
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		return nil, fetchError(ctx, tctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, couldNotFetch(fmt.Sprintf("the server answered %d", resp.StatusCode))
	}
	if resp.ContentLength > lim.MaxBytes {
		return nil, tooLarge(lim.MaxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, lim.MaxBytes+1))
	if err != nil {
		return nil, fetchError(ctx, tctx, err)
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, tooLarge(lim.MaxBytes)
	}
	if len(data) == 0 {
		return nil, &Invalid{reasonEmpty}
	}
	return data, nil
}

// fetchError sorts a failed fetch into the customer's fault (*Invalid, with a reason that
// reveals nothing about our network) or ours (the caller's context ended).
func fetchError(ctx, tctx context.Context, err error) error {
	var inv *Invalid
	if errors.As(err, &inv) {
		return inv
	}
	var blk *blockedError
	if errors.As(err, &blk) {
		return &Invalid{reasonPrivate}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("document: fetch abandoned: %w", ctx.Err())
	}
	var ne net.Error
	if tctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()) {
		return couldNotFetch("it took too long to answer")
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return couldNotFetch("its host name could not be resolved")
	}
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	if errors.As(err, &certErr) || errors.As(err, &unknownCA) || errors.As(err, &hostErr) {
		return couldNotFetch("its TLS certificate is not valid")
	}
	return couldNotFetch("the connection failed")
}
