package contact

import (
	"errors"
	"strings"
	"testing"
)

// FuzzEmail: no panic, only *Error failures, and an accepted address is a
// fixed point with a lower-case domain.
func FuzzEmail(f *testing.F) {
	for _, s := range []string{"user@example.com", " User+tag@Example.COM ", "John <j@x.com>", `"a b"@x.com`, "josé@example.es", "a@b.c", "a@@b.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Email(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if len(got) > 254 || strings.Count(got, "@") != 1 {
			t.Fatalf("accepted %q", got)
		}
		if _, d, _ := strings.Cut(got, "@"); d != strings.ToLower(d) {
			t.Fatalf("domain of %q not lower-case", got)
		}
		again, err := Email(got)
		if err != nil || again != got {
			t.Fatalf("Email(%q) = %q, %v; first gave %q", got, again, err, s)
		}
		_ = Disposable(got)
	})
}

// FuzzPhone: no panic, and an accepted number is E.164 and a fixed point.
func FuzzPhone(f *testing.F) {
	for _, s := range []string{"+34612345678", "+54 9 11 2345-6789", "+1 (201) 555-0123", "+390212345678", "600000000", "+999123456789"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Phone(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if len(got) < 9 || len(got) > 16 || got[0] != '+' || strings.Trim(got[1:], "0123456789") != "" {
			t.Fatalf("Phone(%q) = %q, not E.164", s, got)
		}
		again, err := Phone(got)
		if err != nil || again != got {
			t.Fatalf("Phone(%q) = %q, %v; first gave %q", got, again, err, s)
		}
	})
}
