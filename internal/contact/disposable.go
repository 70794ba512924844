package contact

import (
	_ "embed"
	"strings"
)

//go:embed disposable_domains.txt
var disposableList string

var disposableDomains = func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(disposableList, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if d := asciiLower(strings.TrimSpace(line)); d != "" {
			m[d] = true
		}
	}
	return m
}()

// Disposable reports whether email (or a bare domain) belongs to a
// disposable-mail service: its domain or any parent domain is listed, since
// such services hand out subdomains too.
func Disposable(email string) bool {
	d := email[strings.LastIndexByte(email, '@')+1:]
	d = strings.TrimSuffix(asciiLower(strings.TrimSpace(d)), ".")
	for d != "" {
		if disposableDomains[d] {
			return true
		}
		i := strings.IndexByte(d, '.')
		if i < 0 {
			break
		}
		d = d[i+1:]
	}
	return false
}
