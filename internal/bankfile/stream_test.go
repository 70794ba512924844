package bankfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// collector rebuilds the statements StreamCAMT hands over, to compare them with ParseCAMT's.
type collector struct {
	entries []Entry // of the statement being read
	out     []*Statement
	checks  []error // BalanceCheck of each statement
	bal     BalanceCheck
}

func (c *collector) Entry(st *Statement, e *Entry) error {
	c.entries = append(c.entries, *e)
	c.bal.Add(*e)
	return nil
}

func (c *collector) End(st *Statement) error {
	cp := *st
	cp.Entries = c.entries
	if cp.Entries == nil {
		cp.Entries = []Entry{}
	}
	c.out = append(c.out, &cp)
	c.checks = append(c.checks, c.bal.Check(st))
	c.entries, c.bal = nil, BalanceCheck{}
	return nil
}

// checkStreamSame fails unless StreamCAMT reads raw exactly as ParseCAMT does: the same
// statements and entries (fingerprints and fallback dates included), the same balance checks,
// the same error; or ErrOutOfOrder for a file whose header follows its entries.
func checkStreamSame(t *testing.T, name string, raw []byte) {
	t.Helper()
	want, werr := ParseCAMT(bytes.NewReader(raw))
	ref, rerr := parseReference(raw)
	if (werr == nil) != (rerr == nil) || werr != nil && werr.Error() != rerr.Error() {
		t.Fatalf("%s: xmlScanner: %v; encoding/xml: %v", name, werr, rerr)
	}
	if werr == nil && !reflect.DeepEqual(want, ref) {
		t.Fatalf("%s: xmlScanner and encoding/xml read different statements", name)
	}
	var c collector
	gerr := StreamCAMT(bytes.NewReader(raw), &c)
	if errors.Is(gerr, ErrOutOfOrder) {
		return
	}
	if werr != nil || gerr != nil {
		if werr == nil || gerr == nil || werr.Error() != gerr.Error() {
			t.Fatalf("%s: ParseCAMT error %v, StreamCAMT error %v", name, werr, gerr)
		}
		return
	}
	if len(c.out) != len(want) {
		t.Fatalf("%s: %d statements streamed, %d parsed", name, len(c.out), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(c.out[i], want[i]) {
			t.Fatalf("%s: statement %d streamed\n%+v\nparsed\n%+v", name, i, c.out[i], want[i])
		}
		werr, gerr := want[i].CheckBalances(), c.checks[i]
		if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
			t.Fatalf("%s: statement %d balance check %v streamed, %v parsed", name, i, gerr, werr)
		}
	}
}

// parseReference reads raw with encoding/xml's Decoder instead of xmlScanner: the reference
// the scanner must match, statement for statement and error for error.
func parseReference(raw []byte) ([]*Statement, error) {
	d := xml.NewDecoder(bytes.NewReader(raw))
	d.CharsetReader = charsetReader
	return newCAMTParser(d, nil).parse()
}

func TestStreamCAMTSameAsParse(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.xml")
	if _, err := os.Stat(realDir); err == nil {
		filepath.WalkDir(realDir, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(d.Name(), ".xml") {
				files = append(files, path)
			}
			return nil
		})
	} else {
		t.Logf("real bank files not found at %s; the repository's corpus only", realDir)
	}
	if len(files) < 10 {
		t.Fatalf("only %d camt files found", len(files))
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checkStreamSame(t, f, raw)
	}
}

func TestStreamCAMTOutOfOrder(t *testing.T) {
	raw, err := os.ReadFile("testdata/camt053_v02.xml")
	if err != nil {
		t.Fatal(err)
	}
	// The statement's creation date moved after its entries: legal for ParseCAMT, which dates
	// entries when the statement is complete; a stream cannot.
	s := string(raw)
	start, end := strings.Index(s, "<Stmt>"), strings.Index(s, "</Stmt>")
	cre := strings.Index(s[start:], "<CreDtTm>")
	if start < 0 || end < 0 || cre < 0 {
		t.Fatal("unexpected sample layout")
	}
	cre += start
	creEnd := strings.Index(s[cre:], "</CreDtTm>") + cre + len("</CreDtTm>")
	moved := s[:cre] + s[creEnd:end] + s[cre:creEnd] + s[end:]
	if _, err := ParseCAMT(strings.NewReader(moved)); err != nil {
		t.Fatalf("ParseCAMT refused the reordered file: %v", err)
	}
	if err := StreamCAMT(strings.NewReader(moved), &collector{}); !errors.Is(err, ErrOutOfOrder) {
		t.Fatalf("StreamCAMT: %v, want ErrOutOfOrder", err)
	}
}

// The fast paths of clean and digest give what the plain forms give: fingerprints already
// stored must stay the same.
func TestCleanAndDigestUnchanged(t *testing.T) {
	for _, s := range []string{"", "a", " a", "a ", "a  b", "a b", "a\tb", "a\u00a0b", "Ä b", "x\u0085", "  ", "a\nb", "abc def ghi"} {
		if got, want := clean(s), strings.Join(strings.Fields(s), " "); got != want {
			t.Errorf("clean(%q) = %q, want %q", s, got, want)
		}
	}
	fields := []string{"ref", "ES9121000418450200051332", "2024-03-01", "12.50", "EUR", strings.Repeat("x", 600), ""}
	h := sha256.New()
	for _, f := range fields {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	if got, want := digest(fields...), hex.EncodeToString(h.Sum(nil)[:16]); got != want {
		t.Errorf("digest = %s, want %s", got, want)
	}
}
