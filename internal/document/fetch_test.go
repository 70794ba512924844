package document

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeResolver answers from a map; unknown names fail like NXDOMAIN.
type fakeResolver map[string][]string

func (r fakeResolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	ips, ok := r[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []net.IPAddr
	for _, s := range ips {
		out = append(out, net.IPAddr{IP: net.ParseIP(s)})
	}
	return out, nil
}

// counted serves h and counts the requests that reached it.
func counted(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func servePDF(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/pdf")
	w.Write(samplePDF)
}

func port(t *testing.T, srv *httptest.Server) uint16 {
	t.Helper()
	u, _ := url.Parse(srv.URL)
	p, err := strconv.ParseUint(u.Port(), 10, 16)
	if err != nil {
		t.Fatal(err)
	}
	return uint16(p)
}

// onlyPort is the test seam: it allows the given ports and refuses everything else, so two
// servers on the same loopback IP can play "public" and "internal".
func onlyPort(ports ...uint16) func(netip.AddrPort) error {
	return func(ap netip.AddrPort) error {
		for _, p := range ports {
			if ap.Port() == p {
				return nil
			}
		}
		return errors.New("refused by test policy")
	}
}

// block waits until the client goes away, with a backstop so a broken test cannot hang.
func block(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(5 * time.Second):
	}
}

func TestFetchRefusesLoopbackServer(t *testing.T) {
	srv, hits := counted(t, servePDF)
	p := strconv.Itoa(int(port(t, srv)))
	for _, src := range []string{
		srv.URL + "/doc.pdf",
		"http://localhost:" + p + "/doc.pdf",
		"http://[::1]:" + p + "/",
		"http://0.0.0.0:" + p + "/",
		"http://[::ffff:127.0.0.1]:" + p + "/",
	} {
		t.Run(src, func(t *testing.T) {
			_, err := (&Loader{}).Load(context.Background(), src)
			wantInvalid(t, err, reasonPrivate)
		})
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("server was reached %d times", n)
	}
	// Control: the same server is fetched when private addresses are allowed.
	if _, err := (&Loader{AllowPrivate: true}).Load(context.Background(), srv.URL); err != nil {
		t.Fatalf("AllowPrivate fetch: %v", err)
	}
}

func TestFetchRefusesHostsResolvingPrivate(t *testing.T) {
	res := fakeResolver{
		"ten.test":        {"10.0.0.1"},
		"metadata.test":   {"169.254.169.254"},
		"mapped.test":     {"::ffff:127.0.0.1"},
		"ula.test":        {"fd00::1"},
		"nat64.test":      {"64:ff9b::a9fe:a9fe"}, // 169.254.169.254 through NAT64
		"cgnat.test":      {"100.64.0.1"},
		"mixed.test":      {"8.8.8.8", "192.168.1.1"},
		"linklocal6.test": {"fe80::1"},
	}
	for host := range res {
		t.Run(host, func(t *testing.T) {
			_, err := (&Loader{Resolver: res}).Load(context.Background(), "http://"+host+"/doc.pdf")
			wantInvalid(t, err, reasonPrivate)
		})
	}
}

func TestFetchThroughResolverAndSeam(t *testing.T) {
	var gotHost atomic.Value
	srv, _ := counted(t, func(w http.ResponseWriter, r *http.Request) {
		gotHost.Store(r.Host)
		servePDF(w, r)
	})
	p := port(t, srv)
	l := &Loader{Resolver: fakeResolver{"docs.test": {"127.0.0.1"}}, dialCheck: onlyPort(p)}
	f, err := l.Load(context.Background(), fmt.Sprintf("http://docs.test:%d/a.pdf", p))
	if err != nil {
		t.Fatal(err)
	}
	if f.ContentType != TypePDF || f.Size != int64(len(samplePDF)) {
		t.Fatalf("got %+v", f)
	}
	if h := gotHost.Load(); h != fmt.Sprintf("docs.test:%d", p) {
		t.Fatalf("Host header = %v", h)
	}
}

// The policy must also run on the socket's own address at connect time (the Control hook),
// not only on the resolver's answer: here the first check passes and the connect-time one
// refuses, as it would if the address changed between the two.
func TestFetchChecksAtConnectTime(t *testing.T) {
	srv, hits := counted(t, servePDF)
	var calls atomic.Int32
	l := &Loader{dialCheck: func(netip.AddrPort) error {
		if calls.Add(1) == 1 {
			return nil
		}
		return errors.New("rebound")
	}}
	_, err := l.Load(context.Background(), srv.URL)
	wantInvalid(t, err, reasonPrivate)
	if calls.Load() != 2 || hits.Load() != 0 {
		t.Fatalf("checks = %d, hits = %d; want 2 checks and no hit", calls.Load(), hits.Load())
	}
}

func TestFetchRedirects(t *testing.T) {
	internal, internalHits := counted(t, servePDF)
	ip := internal.Listener.Addr().(*net.TCPAddr).Port
	var target atomic.Value
	public, _ := counted(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ok" {
			servePDF(w, r)
			return
		}
		http.Redirect(w, r, target.Load().(string), http.StatusFound)
	})
	pp := port(t, public)
	res := fakeResolver{"internal.test": {"127.0.0.1"}, "metadata.test": {"169.254.169.254"}}
	tests := []struct {
		name   string
		to     string
		allow  bool // AllowPrivate instead of the seam: the control case
		reason string
	}{
		{name: "to loopback IP", to: fmt.Sprintf("http://127.0.0.1:%d/x.pdf", ip), reason: reasonPrivate},
		{name: "to name resolving loopback", to: fmt.Sprintf("http://internal.test:%d/x.pdf", ip), reason: reasonPrivate},
		{name: "to cloud metadata", to: "http://metadata.test/latest/meta-data/", reason: reasonPrivate},
		{name: "to file scheme", to: "file:///etc/passwd", reason: reasonScheme},
		{name: "to gopher scheme", to: fmt.Sprintf("gopher://127.0.0.1:%d/_", ip), reason: reasonScheme},
		{name: "to userinfo", to: fmt.Sprintf("http://u:p@127.0.0.1:%d/ok", pp), reason: reasonUserinfo},
		{name: "to same allowed server", to: "/ok"},
		{name: "control: loopback allowed", to: fmt.Sprintf("http://127.0.0.1:%d/x.pdf", ip), allow: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target.Store(tc.to)
			before := internalHits.Load()
			l := &Loader{Resolver: res, dialCheck: onlyPort(pp)}
			if tc.allow {
				l = &Loader{Resolver: res, AllowPrivate: true}
			}
			f, err := l.Load(context.Background(), public.URL+"/start")
			if tc.reason != "" {
				wantInvalid(t, err, tc.reason)
				if internalHits.Load() != before {
					t.Fatal("internal server was reached")
				}
				return
			}
			if err != nil || f.ContentType != TypePDF {
				t.Fatalf("Load = %+v, %v", f, err)
			}
		})
	}
}

func TestFetchResponses(t *testing.T) {
	const max = 100
	pdf := func(n int) []byte { return append([]byte("%PDF-"), make([]byte, n-5)...) }
	var loops atomic.Int32
	tests := []struct {
		name    string
		limits  Limits
		handler http.HandlerFunc
		path    string
		reason  string
		size    int64
	}{
		{name: "ok", handler: servePDF, size: int64(len(samplePDF))},
		{name: "exactly the limit, chunked", handler: func(w http.ResponseWriter, _ *http.Request) {
			w.Write(pdf(max)[:50])
			w.(http.Flusher).Flush()
			w.Write(pdf(max)[50:])
		}, size: max},
		{name: "404", handler: http.NotFound, reason: "The file URL could not be fetched: the server answered 404."},
		{name: "500", handler: func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "boom", 500)
		}, reason: "The file URL could not be fetched: the server answered 500."},
		{name: "304", handler: func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusNotModified)
		}, reason: "The file URL could not be fetched: the server answered 304."},
		{name: "204 is empty", handler: func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		}, reason: reasonEmpty},
		{name: "html served as pdf", handler: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/pdf")
			w.Write(sampleHTML)
		}, reason: reasonType},
		{name: "declared too large is refused before reading", handler: func(w http.ResponseWriter, r *http.Request) {
			// Promise more than the limit, send little, then stall: only an early refusal
			// on Content-Length answers "too large" instead of timing out.
			w.Header().Set("Content-Length", "1000")
			w.Write(pdf(10))
			w.(http.Flusher).Flush()
			block(r)
		}, limits: Limits{Timeout: 3 * time.Second}, reason: "The file is larger than 100 bytes."},
		{name: "undeclared too large", handler: func(w http.ResponseWriter, _ *http.Request) {
			w.Write(pdf(60))
			w.(http.Flusher).Flush()
			w.Write(make([]byte, 60))
		}, reason: "The file is larger than 100 bytes."},
		{name: "slow headers", limits: Limits{Timeout: 200 * time.Millisecond}, handler: func(w http.ResponseWriter, r *http.Request) {
			block(r)
		}, reason: "The file URL could not be fetched: it took too long to answer."},
		{name: "slow body", limits: Limits{Timeout: 200 * time.Millisecond}, handler: func(w http.ResponseWriter, r *http.Request) {
			w.Write(pdf(10))
			w.(http.Flusher).Flush()
			block(r)
		}, reason: "The file URL could not be fetched: it took too long to answer."},
		{name: "too many redirects", path: "/r/0", limits: Limits{MaxRedirects: 2}, handler: func(w http.ResponseWriter, r *http.Request) {
			loops.Add(1)
			n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/r/"))
			http.Redirect(w, r, fmt.Sprintf("/r/%d", n+1), http.StatusFound)
		}, reason: "The file URL could not be fetched: it redirects too many times."},
		{name: "redirects within the limit", path: "/r/0", limits: Limits{MaxRedirects: 2}, handler: func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/r/2" {
				servePDF(w, r)
				return
			}
			n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/r/"))
			http.Redirect(w, r, fmt.Sprintf("/r/%d", n+1), http.StatusMovedPermanently)
		}, size: int64(len(samplePDF))},
		{name: "negative MaxRedirects follows none", path: "/a", limits: Limits{MaxRedirects: -1}, handler: func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/b" {
				servePDF(w, r)
				return
			}
			http.Redirect(w, r, "/b", http.StatusFound)
		}, reason: "The file URL could not be fetched: it redirects too many times."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := counted(t, tc.handler)
			lim := tc.limits
			if lim.MaxBytes == 0 {
				lim.MaxBytes = max
			}
			start := time.Now()
			f, err := (&Loader{Limits: lim, AllowPrivate: true}).Load(context.Background(), srv.URL+tc.path)
			if time.Since(start) > 2*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
			if tc.reason != "" {
				wantInvalid(t, err, tc.reason)
				return
			}
			if err != nil || f.Size != tc.size {
				t.Fatalf("Load = size %d, %v; want size %d", f.Size, err, tc.size)
			}
		})
	}
	if n := loops.Load(); n != 3 {
		t.Errorf("redirect loop made %d requests, want 3 (first + 2 redirects)", n)
	}
}

func TestFetchNetworkFailures(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	l := &Loader{AllowPrivate: true, Resolver: fakeResolver{}}
	_, err = l.Load(context.Background(), "http://"+closed+"/")
	wantInvalid(t, err, "The file URL could not be fetched: the connection failed.")
	_, err = l.Load(context.Background(), "http://nowhere.test/")
	wantInvalid(t, err, "The file URL could not be fetched: its host name could not be resolved.")
}

func TestFetchBadURLs(t *testing.T) {
	tests := []struct{ src, reason string }{
		{"file:///etc/passwd", reasonScheme},
		{"ftp://example.com/doc.pdf", reasonScheme},
		{"gopher://127.0.0.1:6379/_INFO", reasonScheme},
		{"javascript:alert(1)", reasonScheme},
		{"//example.com/doc.pdf", reasonScheme},
		{"doc.pdf", reasonScheme},
		{"http://user:pass@example.com/doc.pdf", reasonUserinfo},
		{"https://user@example.com/doc.pdf", reasonUserinfo},
		{"http://:pass@127.0.0.1/", reasonUserinfo},
		{"http:///doc.pdf", "The file URL could not be fetched: it has no host name."},
		{"http://[::1/", "The file URL could not be fetched: it is not a valid URL."},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			_, err := (&Loader{Resolver: fakeResolver{}}).Load(context.Background(), tc.src)
			wantInvalid(t, err, tc.reason)
		})
	}
}

func TestFetchHTTPS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(servePDF))
	defer srv.Close()
	_, err := (&Loader{AllowPrivate: true}).Load(context.Background(), srv.URL)
	wantInvalid(t, err, "The file URL could not be fetched: its TLS certificate is not valid.")
	cfg := srv.Client().Transport.(*http.Transport).TLSClientConfig
	f, err := (&Loader{AllowPrivate: true, tlsConfig: cfg}).Load(context.Background(), srv.URL)
	if err != nil || f.ContentType != TypePDF {
		t.Fatalf("Load = %+v, %v", f, err)
	}
}

// A caller that gives up is not the customer's fault: the error must not be *Invalid.
func TestFetchCallerCancelled(t *testing.T) {
	srv, _ := counted(t, func(w http.ResponseWriter, r *http.Request) { block(r) })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := (&Loader{AllowPrivate: true}).Load(ctx, srv.URL)
	var inv *Invalid
	if err == nil || errors.As(err, &inv) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a non-Invalid deadline error", err)
	}
}
