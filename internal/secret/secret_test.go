package secret

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadCreatesAndReusesKeyFile(t *testing.T) {
	dir := t.TempDir()
	b1, err := Load("", dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
	}
	sealed := b1.Seal([]byte("sk_secret"))
	b2, err := Load("", dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := b2.Open(sealed)
	if err != nil || string(got) != "sk_secret" {
		t.Fatalf("reopen: %q %v", got, err)
	}
	if bytes.Contains(sealed, []byte("sk_secret")) {
		t.Fatal("plaintext visible in sealed value")
	}
}

func TestOpenRejectsTamperingAndWrongKey(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	b, _ := NewBox(key)
	sealed := b.Seal([]byte("hello"))
	sealed[len(sealed)-1] ^= 1
	if _, err := b.Open(sealed); err == nil {
		t.Fatal("tampered value decrypted")
	}
	other, _ := Load(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{8}, 32)), "")
	if _, err := other.Open(b.Seal([]byte("x"))); err == nil {
		t.Fatal("wrong key decrypted")
	}
	if _, err := other.Open([]byte{1}); err == nil {
		t.Fatal("short value accepted")
	}
	if _, err := Load("not base64!", ""); err == nil {
		t.Fatal("bad env key accepted")
	}
	if _, err := NewBox([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
}

func TestLookupHash(t *testing.T) {
	a, _ := NewBox(bytes.Repeat([]byte{1}, 32))
	b, _ := NewBox(bytes.Repeat([]byte{2}, 32))
	if !bytes.Equal(a.LookupHash("id", "X1"), a.LookupHash("id", "X1")) {
		t.Fatal("lookup hash not deterministic")
	}
	if bytes.Equal(a.LookupHash("id", "X1"), a.LookupHash("email", "X1")) {
		t.Fatal("namespaces collide")
	}
	if bytes.Equal(a.LookupHash("id", "X1"), b.LookupHash("id", "X1")) {
		t.Fatal("hash does not depend on the master key")
	}
}
