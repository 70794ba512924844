package document

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pocketramp/pocketramp/internal/secret"
)

var ctx = context.Background()

func TestValidKey(t *testing.T) {
	good := []string{"a", "customers/12/doc-1.pdf", "A_b-c.d/e", "x/y/z", strings.Repeat("a", 512)}
	bad := []string{
		"", "/etc/passwd", "../x", "a/../b", "a/..", "..", "a..b", ".", "./a", "a/./b", "a/.hidden",
		".tmp-123", "a//b", "a/", "/", `a\b`, `..\x`, "a b", "a%2fb", "ü", "a\x00b", "C:x",
		strings.Repeat("a", 513),
	}
	for _, k := range good {
		if err := ValidKey(k); err != nil {
			t.Errorf("ValidKey(%q) = %v", k, err)
		}
	}
	for _, k := range bad {
		if err := ValidKey(k); !errors.Is(err, ErrBadKey) {
			t.Errorf("ValidKey(%q) = %v, want ErrBadKey", k, err)
		}
	}
}

func FuzzValidKey(f *testing.F) {
	for _, s := range []string{"a/b", "../a", "a/./b", "a//b", "/a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if ValidKey(key) != nil {
			return
		}
		if !filepath.IsLocal(filepath.FromSlash(key)) || filepath.Clean(filepath.FromSlash(key)) != filepath.FromSlash(key) {
			t.Fatalf("ValidKey accepted %q which is not a clean local path", key)
		}
	})
}

func TestDirStore(t *testing.T) {
	root := t.TempDir()
	s := NewDirStore(root)
	if s.Dir != filepath.Join(root, "blobs") {
		t.Fatalf("Dir = %q", s.Dir)
	}
	key := "customers/42/doc-1"
	if err := s.Put(ctx, key, samplePDF); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, key)
	if err != nil || !bytes.Equal(got, samplePDF) {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if err := s.Put(ctx, key, samplePNG); err != nil { // overwrite
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, key); !bytes.Equal(got, samplePNG) {
		t.Fatalf("after overwrite Get = %q", got)
	}

	// Permissions, and no temporary files left behind.
	err = filepath.Walk(s.Dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		want := os.FileMode(0o600)
		if fi.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", p, fi.Mode().Perm(), want)
		}
		if strings.HasPrefix(fi.Name(), ".tmp-") {
			t.Errorf("leftover temp file %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatalf("second Delete = %v", err)
	}
}

func TestDirStoreRefusesEscapes(t *testing.T) {
	base := t.TempDir()
	s := &DirStore{Dir: filepath.Join(base, "blobs")}
	for _, key := range []string{"../escape", "a/../../escape", "/tmp/escape", "..", ""} {
		if err := s.Put(ctx, key, samplePDF); !errors.Is(err, ErrBadKey) {
			t.Errorf("Put(%q) = %v, want ErrBadKey", key, err)
		}
		if _, err := s.Get(ctx, key); !errors.Is(err, ErrBadKey) {
			t.Errorf("Get(%q) = %v, want ErrBadKey", key, err)
		}
		if err := s.Delete(ctx, key); !errors.Is(err, ErrBadKey) {
			t.Errorf("Delete(%q) = %v, want ErrBadKey", key, err)
		}
	}
	if _, err := os.Stat(filepath.Join(base, "escape")); !os.IsNotExist(err) {
		t.Fatalf("a file escaped the store: %v", err)
	}

	// A symlink planted inside the folder must not lead outside it.
	outside := t.TempDir()
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(s.Dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "link/x", samplePDF); err == nil {
		t.Fatal("Put through a symlink out of the store succeeded")
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatalf("wrote outside the store: %v", entries)
	}
}

func newBox(t *testing.T, b byte) *secret.Box {
	t.Helper()
	box, err := secret.NewBox(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return box
}

func TestSealed(t *testing.T) {
	box := newBox(t, 1)
	under := &DirStore{Dir: t.TempDir()}
	s := &Sealed{Store: under, Seal: box.Seal, Open: box.Open}

	if err := s.Put(ctx, "a/doc", samplePDF); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "a/doc")
	if err != nil || !bytes.Equal(got, samplePDF) {
		t.Fatalf("Get = %q, %v", got, err)
	}
	raw, _ := under.Get(ctx, "a/doc")
	if bytes.Contains(raw, []byte("%PDF")) {
		t.Fatal("blob is stored in the clear")
	}

	t.Run("tampered", func(t *testing.T) {
		if err := s.Put(ctx, "a/t", samplePDF); err != nil {
			t.Fatal(err)
		}
		sealed, _ := under.Get(ctx, "a/t")
		for _, i := range []int{0, len(sealed) / 2, len(sealed) - 1} { // nonce, body, tag
			bad := bytes.Clone(sealed)
			bad[i] ^= 1
			under.Put(ctx, "a/t", bad)
			if _, err := s.Get(ctx, "a/t"); err == nil {
				t.Fatalf("blob with byte %d flipped opened", i)
			}
		}
	})
	t.Run("moved to another key", func(t *testing.T) {
		under.Put(ctx, "b/doc", raw)
		if _, err := s.Get(ctx, "b/doc"); err == nil {
			t.Fatal("blob opened under another key")
		}
	})
	t.Run("other master key", func(t *testing.T) {
		other := newBox(t, 2)
		s2 := &Sealed{Store: under, Seal: other.Seal, Open: other.Open}
		if _, err := s2.Get(ctx, "a/doc"); err == nil {
			t.Fatal("opened with another master key")
		}
	})
	t.Run("missing", func(t *testing.T) {
		if _, err := s.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get missing = %v", err)
		}
	})
	t.Run("delete", func(t *testing.T) {
		if err := s.Delete(ctx, "a/doc"); err != nil {
			t.Fatal(err)
		}
		if _, err := under.Get(ctx, "a/doc"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("underlying Get after Delete = %v", err)
		}
	})
	t.Run("unconfigured", func(t *testing.T) {
		if err := (&Sealed{Store: under}).Put(ctx, "x", samplePDF); err == nil {
			t.Fatal("Sealed without Seal/Open stored a blob")
		}
	})
}

func TestMemStore(t *testing.T) {
	var s MemStore
	data := bytes.Clone(samplePDF)
	if err := s.Put(ctx, "k", data); err != nil {
		t.Fatal(err)
	}
	data[0] = 'X' // the store keeps its own copy
	if got, err := s.Get(ctx, "k"); err != nil || !bytes.Equal(got, samplePDF) {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if err := s.Put(ctx, "../k", data); !errors.Is(err, ErrBadKey) {
		t.Fatalf("Put bad key = %v", err)
	}
	s.Delete(ctx, "k")
	if _, err := s.Get(ctx, "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete = %v", err)
	}
}
