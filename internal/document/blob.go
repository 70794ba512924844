package document

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// BlobStore keeps document bytes by key. Get of a missing key returns an error matching
// ErrNotFound; Delete of a missing key succeeds.
type BlobStore interface {
	Put(ctx context.Context, key string, data []byte) error
	Get(ctx context.Context, key string) ([]byte, error)
	Delete(ctx context.Context, key string) error
}

var (
	// ErrNotFound is matched (errors.Is) by Get when the key holds nothing.
	ErrNotFound = errors.New("document: blob not found")
	// ErrBadKey is matched by every operation given a key ValidKey refuses.
	ErrBadKey = errors.New("document: invalid blob key")
)

const maxKeyLen = 512

// ValidKey checks a blob key: 1..512 characters of [A-Za-z0-9/_.-], slash-separated segments
// that are non-empty and do not start with '.', no "..". Keys become file paths in DirStore, so
// this is what keeps them inside the folder; a leading dot is refused as well because it is
// how DirStore names its temporary files.
func ValidKey(key string) error {
	bad := func(why string) error { return fmt.Errorf("%w %q: %s", ErrBadKey, key, why) }
	if key == "" || len(key) > maxKeyLen {
		return bad("length must be 1 to 512")
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '/' || c == '_' || c == '-' || c == '.'
		if !ok {
			return bad("only letters, digits and / _ - . are allowed")
		}
	}
	if strings.Contains(key, "..") {
		return bad(`".." is not allowed`)
	}
	start := 0
	for i := 0; i <= len(key); i++ {
		if i < len(key) && key[i] != '/' {
			continue
		}
		if i == start {
			return bad("empty path segment (leading, trailing or doubled '/')")
		}
		if key[start] == '.' {
			return bad("a segment may not start with '.'")
		}
		start = i + 1
	}
	return nil
}

// DirStore keeps blobs as files under Dir (by default DATA_DIR/blobs, see NewDirStore).
// Directories are 0700 and files 0600; writes go to a temporary file renamed into place, so a
// reader never sees half a blob. All access goes through os.Root, so even a symlink planted in
// Dir cannot lead outside it.
type DirStore struct{ Dir string }

// NewDirStore returns the store in the default place, dataDir/blobs.
func NewDirStore(dataDir string) *DirStore {
	return &DirStore{Dir: filepath.Join(dataDir, "blobs")}
}

func (s *DirStore) open(ctx context.Context, key string) (*os.Root, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	if err := ValidKey(key); err != nil {
		return nil, "", err
	}
	if s.Dir == "" {
		return nil, "", errors.New("document: DirStore.Dir is empty")
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return nil, "", fmt.Errorf("document: blob dir: %w", err)
	}
	r, err := os.OpenRoot(s.Dir)
	if err != nil {
		return nil, "", fmt.Errorf("document: blob dir: %w", err)
	}
	return r, filepath.FromSlash(key), nil
}

// Put writes data under key, replacing any previous value.
func (s *DirStore) Put(ctx context.Context, key string, data []byte) (err error) {
	r, name, err := s.open(ctx, key)
	if err != nil {
		return err
	}
	defer r.Close()
	dir := filepath.Dir(name)
	if dir != "." {
		if err := r.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("document: put %q: %w", key, err)
		}
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(dir, ".tmp-"+hex.EncodeToString(rnd[:]))
	f, err := r.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("document: put %q: %w", key, err)
	}
	defer func() {
		if err != nil {
			r.Remove(tmp)
		}
	}()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync() // the data must be on disk before the rename makes it visible
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = r.Rename(tmp, name)
	}
	if err != nil {
		return fmt.Errorf("document: put %q: %w", key, err)
	}
	// Best effort: persist the rename itself.
	if d, derr := r.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Get reads the blob under key.
func (s *DirStore) Get(ctx context.Context, key string) ([]byte, error) {
	r, name, err := s.open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := r.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, key)
	}
	if err != nil {
		return nil, fmt.Errorf("document: get %q: %w", key, err)
	}
	return data, nil
}

// Delete removes the blob under key; a missing blob is not an error.
func (s *DirStore) Delete(ctx context.Context, key string) error {
	r, name, err := s.open(ctx, key)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := r.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("document: delete %q: %w", key, err)
	}
	return nil
}

// MemStore is an in-memory BlobStore for tests and the sandbox.
type MemStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

// Put stores a copy of data.
func (s *MemStore) Put(ctx context.Context, key string, data []byte) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[key] = bytes.Clone(data)
	return nil
}

// Get returns a copy of the blob.
func (s *MemStore) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ValidKey(key); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[key]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, key)
	}
	return bytes.Clone(b), nil
}

// Delete removes the blob.
func (s *MemStore) Delete(ctx context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

// Sealed wraps a BlobStore so blobs are encrypted at rest; pass secret.Box's Seal and Open.
// The key is sealed together with the data and checked on Get, so someone with access to the
// underlying store cannot swap one customer's document into another's key undetected.
type Sealed struct {
	Store BlobStore
	Seal  func([]byte) []byte
	Open  func([]byte) ([]byte, error)
}

func (s *Sealed) ready() error {
	if s.Store == nil || s.Seal == nil || s.Open == nil {
		return errors.New("document: Sealed needs Store, Seal and Open")
	}
	return nil
}

// Put seals uvarint(len(key)) || key || data and stores it under key.
func (s *Sealed) Put(ctx context.Context, key string, data []byte) error {
	if err := s.ready(); err != nil {
		return err
	}
	plain := make([]byte, 0, binary.MaxVarintLen64+len(key)+len(data))
	plain = binary.AppendUvarint(plain, uint64(len(key)))
	plain = append(plain, key...)
	plain = append(plain, data...)
	return s.Store.Put(ctx, key, s.Seal(plain))
}

// Get opens the blob under key; it fails if the blob was altered, sealed with another master
// key, or sealed under another key.
func (s *Sealed) Get(ctx context.Context, key string) ([]byte, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	sealed, err := s.Store.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	plain, err := s.Open(sealed)
	if err != nil {
		return nil, fmt.Errorf("document: blob %q cannot be opened: %w", key, err)
	}
	n, w := binary.Uvarint(plain)
	if w <= 0 || n > uint64(len(plain)-w) || string(plain[w:w+int(n)]) != key {
		return nil, fmt.Errorf("document: blob %q was sealed under another key", key)
	}
	return plain[w+int(n):], nil
}

// Delete removes the blob under key.
func (s *Sealed) Delete(ctx context.Context, key string) error {
	if err := s.ready(); err != nil {
		return err
	}
	return s.Store.Delete(ctx, key)
}

var (
	_ BlobStore = (*DirStore)(nil)
	_ BlobStore = (*MemStore)(nil)
	_ BlobStore = (*Sealed)(nil)
)
