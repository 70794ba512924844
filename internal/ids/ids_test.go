package ids_test

import (
	"encoding/base64"
	"regexp"
	"testing"

	"github.com/pocketramp/pocketramp/internal/ids"
)

func TestAlnum(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		s := ids.Alnum(25)
		if len(s) != 25 || seen[s] {
			t.Fatalf("bad or repeated id %q", s)
		}
		for _, c := range s {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				t.Fatalf("id %q has %q", s, c)
			}
		}
		seen[s] = true
	}
}

func TestToken(t *testing.T) {
	t.Parallel()
	a, b := ids.Token(32), ids.Token(32)
	if a == b {
		t.Fatalf("two tokens are equal: %q", a)
	}
	raw, err := base64.RawURLEncoding.DecodeString(a)
	if err != nil || len(raw) != 32 {
		t.Fatalf("token %q: %d bytes, %v", a, len(raw), err)
	}
}

func TestUUID(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := ids.UUID(), ids.UUID()
	if !re.MatchString(a) || a == b {
		t.Fatalf("uuids %q, %q", a, b)
	}
}
