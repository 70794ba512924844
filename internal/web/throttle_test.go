package web_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/customer"
)

// A KYB link allows customer.KYBAttempts wrong passwords, then answers 429 with Retry-After,
// even to the right password, until the lockout ends; then the right password works.
func TestKYBPasswordLockout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, link, password := e.registerCompany("lock@acme.example", "Acme SL")
	link = withLang(link, "en")
	csrf := e.csrf(link)
	unlock := func(pw string) page {
		return e.post(link, form{fields: map[string][]string{"csrf": {csrf}, "step": {"unlock"}, "password": {pw}}})
	}
	for i := range customer.KYBAttempts {
		if p := unlock("wrongwrong12"); p.status != 422 {
			t.Fatalf("wrong password %d: %d", i+1, p.status)
		}
	}
	for _, pw := range []string{"wrongwrong12", password} {
		p := unlock(pw)
		retry, _ := strconv.Atoi(p.header.Get("Retry-After"))
		if p.status != 429 || retry != int(customer.KYBWindow/time.Second) || !strings.Contains(p.body, "Too many wrong passwords. Please try again in 15 minutes.") {
			t.Fatalf("locked link, password %q: %d Retry-After %q", pw, p.status, p.header.Get("Retry-After"))
		}
	}
	// Other links are not affected.
	_, other, otherPassword := e.registerCompany("other@acme.example", "Other SL")
	other = withLang(other, "en")
	if p := e.post(other, form{fields: map[string][]string{"csrf": {e.csrf(other)}, "step": {"unlock"}, "password": {otherPassword}}}); p.status != 303 {
		t.Fatalf("another link: %d", p.status)
	}
	e.clock.Advance(customer.KYBWindow)
	if p := unlock(password); p.status != 303 {
		t.Fatalf("right password after the lockout: %d %s", p.status, p.body)
	}
}
