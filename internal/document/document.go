// Package document takes in customer documents (REFERENCE §3.2, §3.6): it decodes a
// data:<mime>;base64 string or fetches a public http(s) URL, enforces size and time limits,
// decides the content type from the bytes alone, hashes the result and stores it in a blob
// store, encrypted at rest.
package document

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// Defaults used when a Limits field is zero.
const (
	DefaultMaxBytes     = 10 << 20
	DefaultTimeout      = 10 * time.Second
	DefaultMaxRedirects = 3
)

// Accepted content types; nothing else is ever returned in File.ContentType.
const (
	TypePDF  = "application/pdf"
	TypeJPEG = "image/jpeg"
	TypePNG  = "image/png"
)

// Limits bounds what Load accepts. Zero fields take the defaults.
type Limits struct {
	MaxBytes int64         // largest accepted file; default 10 MiB
	Timeout  time.Duration // whole fetch, headers and body; default 10s
	// MaxRedirects is how many redirects a fetch follows; default 3, negative follows none.
	MaxRedirects int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	if l.MaxRedirects == 0 {
		l.MaxRedirects = DefaultMaxRedirects
	} else if l.MaxRedirects < 0 {
		l.MaxRedirects = 0
	}
	return l
}

// File is a loaded, checked document.
type File struct {
	Data        []byte
	ContentType string // sniffed from Data: TypePDF, TypeJPEG or TypePNG
	SHA256      string // lower-case hex of sha256(Data)
	Size        int64
}

// Invalid is the error for every mistake in what the customer sent. Reason is a complete
// sentence meant for the API's errors.file list; it never carries internal details such as the
// addresses a host resolved to.
type Invalid struct{ Reason string }

func (e *Invalid) Error() string { return e.Reason }

func invalid(format string, args ...any) *Invalid {
	return &Invalid{Reason: fmt.Sprintf(format, args...)}
}

// Reasons shared by several paths (and by the tests).
const (
	reasonBase64   = "The file is not valid base64."
	reasonEmpty    = "The file is empty."
	reasonType     = "The file must be a PDF, JPEG or PNG image."
	reasonScheme   = "The file URL must use http or https."
	reasonPrivate  = "The file URL points to a private or loopback address."
	reasonUserinfo = "The file URL must not contain a user name or password."
)

func tooLarge(max int64) *Invalid {
	return invalid("The file is larger than %s.", sizeText(max))
}

// sizeText writes a limit the way people read it: the default 10 MiB is "10 MB".
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}

// Resolver looks up host names; *net.Resolver satisfies it.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

// Loader loads documents. The zero value is ready to use and refuses non-public addresses.
type Loader struct {
	Limits
	// AllowPrivate lets fetches reach loopback and private addresses. Tests and sandbox only:
	// in production it turns the fetcher into an SSRF proxy into the operator's network.
	AllowPrivate bool
	// Resolver resolves URL hosts; nil uses net.DefaultResolver.
	Resolver Resolver

	// dialCheck, when set, replaces the address policy (and AllowPrivate). It exists so tests
	// can allow one local server and refuse another on the same loopback IP.
	dialCheck func(netip.AddrPort) error
	// tlsConfig lets tests trust an httptest TLS server; nil uses the system roots.
	tlsConfig *tls.Config
}

// Load decodes a data: URL or fetches an http(s) URL, enforces the limits, sniffs the content
// type from the bytes (the declared type is never trusted) and hashes the result. Customer
// mistakes are *Invalid; any other error is internal (including ctx being cancelled).
func (l *Loader) Load(ctx context.Context, src string) (File, error) {
	lim := l.Limits.withDefaults()
	src = strings.TrimSpace(src)
	if src == "" {
		return File{}, &Invalid{reasonEmpty}
	}
	var data []byte
	var err error
	if len(src) >= 5 && strings.EqualFold(src[:5], "data:") {
		data, err = decodeDataURL(src, lim.MaxBytes)
	} else {
		data, err = l.fetch(ctx, src, lim)
	}
	if err != nil {
		return File{}, err
	}
	ct := sniff(data)
	if ct == "" {
		return File{}, &Invalid{reasonType}
	}
	sum := sha256.Sum256(data)
	return File{Data: data, ContentType: ct, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data))}, nil
}

// decodeDataURL decodes data:[<mime>][;param]*;base64,<payload>. The declared mime is ignored:
// sniff decides. Only base64 payloads are accepted since documents are binary.
func decodeDataURL(src string, max int64) ([]byte, error) {
	if len(src) < 5 || !strings.EqualFold(src[:5], "data:") {
		return nil, &Invalid{reasonBase64}
	}
	meta, payload, ok := strings.Cut(src[5:], ",")
	if !ok {
		return nil, &Invalid{reasonBase64}
	}
	params := strings.Split(meta, ";")
	if !strings.EqualFold(strings.TrimSpace(params[len(params)-1]), "base64") {
		return nil, &Invalid{reasonBase64}
	}
	// Clients wrap long base64 at 76 columns; drop all ASCII whitespace before decoding.
	payload = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			return -1
		}
		return r
	}, payload)
	if payload == "" {
		return nil, &Invalid{reasonEmpty}
	}
	// Refuse before allocating: n base64 characters decode to at least 3*(n/4)-2 bytes.
	if n := int64(len(payload)); 3*(n/4)-2 > max {
		return nil, tooLarge(max)
	}
	data, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		// Some encoders drop the '=' padding.
		data, err = base64.RawStdEncoding.DecodeString(payload)
		if err != nil {
			return nil, &Invalid{reasonBase64}
		}
	}
	if len(data) == 0 {
		return nil, &Invalid{reasonEmpty}
	}
	if int64(len(data)) > max {
		return nil, tooLarge(max)
	}
	return data, nil
}

var (
	magicPDF  = []byte("%PDF-")
	magicJPEG = []byte{0xFF, 0xD8, 0xFF}
	magicPNG  = []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}
)

// sniff returns the content type by magic number, or "" when the bytes are none of the
// accepted kinds. http.DetectContentType is not used: it would also name GIF, HTML, ZIP ...
// which we must refuse anyway, and its PDF rule is the same prefix.
func sniff(b []byte) string {
	switch {
	case bytes.HasPrefix(b, magicPDF):
		return TypePDF
	case bytes.HasPrefix(b, magicJPEG):
		return TypeJPEG
	case bytes.HasPrefix(b, magicPNG):
		return TypePNG
	}
	return ""
}
