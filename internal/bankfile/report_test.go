package bankfile

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestCorpusReport prints (with -v) the corpus by format and version: files,
// statements, entries, and how many files import (broken-on-purpose files
// count as correct when refused). The numbers in the project notes come from
// here: go test -run TestCorpusReport -v ./internal/bankfile
func TestCorpusReport(t *testing.T) {
	type row struct{ files, ok, statements, entries int }
	rows := map[string]*row{}
	add := func(origin, name string, raw []byte, opt ParseOptions, broken bool) {
		sts, err := Parse(raw, opt)
		format := "refused"
		if err == nil {
			format = sts[0].Format
		} else if broken {
			format = Detect(raw) + " (broken on purpose)"
		}
		key := origin + " " + format
		r := rows[key]
		if r == nil {
			r = &row{}
			rows[key] = r
		}
		r.files++
		if (err == nil) != broken {
			r.ok++
		}
		for _, s := range sts {
			r.statements++
			r.entries += len(s.Entries)
		}
	}
	if _, err := os.Stat(realDir); err == nil {
		for _, rel := range realFiles(t) {
			raw, err := os.ReadFile(filepath.Join(realDir, rel))
			if err != nil {
				t.Fatal(err)
			}
			_, broken := realBroken[rel]
			add("real", rel, raw, ParseOptions{}, broken)
		}
	}
	files, _ := filepath.Glob("testdata/*")
	for _, p := range files {
		name := filepath.Base(p)
		if !isCorpusFile(name) {
			continue
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		opt := ParseOptions{Account: ourIBAN}
		if m, ok := csvMappingFor(t, name); ok {
			opt.CSV = &m
		}
		add("own ", name, raw, opt, strings.HasPrefix(name, "bad_"))
	}
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "\n| corpus | format | files | imported correctly | statements | entries |\n|---|---|---|---|---|---|\n")
	var total, ok int
	for _, k := range keys {
		r := rows[k]
		origin, format, _ := strings.Cut(k, " ")
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %d |\n", origin, strings.TrimSpace(format), r.files, r.ok, r.statements, r.entries)
		total += r.files
		ok += r.ok
		if r.ok != r.files {
			t.Errorf("%s: %d of %d files as expected", k, r.ok, r.files)
		}
	}
	fmt.Fprintf(&b, "\n%d of %d files as expected\n", ok, total)
	t.Log(b.String())
}
