package banking

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/bankfile"
	"github.com/pocketramp/pocketramp/internal/errcode"
)

// ParseFile reads a statement file of any format bankfile.Parse detects (camt.052/053/054 of any
// version, MT940, Norma 43) or CSV with the given mapping (nil: the Spanish online-banking preset)
// for the account iban. A malformed file is a 422 on "file" with the parser's precise message
// (element path or line and column).
func ParseFile(raw []byte, iban string, mapping *bankfile.CSVMapping) ([]*bankfile.Statement, error) {
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")))
	if len(trimmed) == 0 {
		return nil, errcode.Field("file", "The file is empty.")
	}
	stmts, err := bankfile.Parse(raw, bankfile.ParseOptions{Account: iban, CSV: mapping})
	var fe *bankfile.FormatError
	if errors.As(err, &fe) {
		return nil, errcode.Field("file", "The file was rejected, nothing was imported: %s", fe.Error())
	}
	return stmts, err
}

// ImportFile parses and imports one file for an account. A camt file is imported as it is
// parsed (see importCAMTStream).
func (s *Service) ImportFile(ctx context.Context, iban, source string, raw []byte, mapping *bankfile.CSVMapping) (_ ImportResult, err error) {
	defer errcode.Op("banking.ImportFile", &err)
	acct, err := s.account(ctx, iban)
	if err != nil {
		return ImportResult{}, err
	}
	if res, ok, err := s.importRawStream(ctx, acct.IBAN, source, raw); ok || err != nil {
		return res, err
	}
	return s.importWhole(ctx, acct.IBAN, source, raw, mapping)
}

// importWhole parses the file whole, then imports it.
func (s *Service) importWhole(ctx context.Context, iban, source string, raw []byte, mapping *bankfile.CSVMapping) (ImportResult, error) {
	stmts, err := ParseFile(raw, iban, mapping)
	if err != nil {
		return ImportResult{}, err
	}
	return s.Import(ctx, iban, source, raw, stmts)
}

// ImportPath imports the statement file at path for an account. A camt file is read as it is
// imported, never whole into memory.
func (s *Service) ImportPath(ctx context.Context, iban, source, path string, mapping *bankfile.CSVMapping) (_ ImportResult, err error) {
	defer errcode.Op("banking.ImportPath", &err)
	acct, err := s.account(ctx, iban)
	if err != nil {
		return ImportResult{}, err
	}
	if res, ok, err := s.importPathStream(ctx, acct.IBAN, source, path); ok || err != nil {
		return res, err
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return ImportResult{}, err
	}
	return s.importWhole(ctx, acct.IBAN, source, raw, mapping)
}

// WatchFolder imports statement files dropped into dir/<IBAN>/ every interval. Imported files
// move to dir/<IBAN>/imported/; rejected ones to dir/<IBAN>/rejected/ with a .error.txt beside
// them saying why. Re-dropping a file is harmless: entries are de-duplicated.
func (s *Service) WatchFolder(ctx context.Context, dir string, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.watchPass(ctx, dir, log)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Service) watchPass(ctx context.Context, dir string, log *slog.Logger) {
	accounts, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, a := range accounts {
		if !a.IsDir() {
			continue
		}
		files, _ := os.ReadDir(filepath.Join(dir, a.Name()))
		for _, f := range files {
			name := f.Name()
			if f.IsDir() || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".error.txt") {
				continue
			}
			path := filepath.Join(dir, a.Name(), name)
			raw, err := os.ReadFile(path)
			if err != nil {
				continue
			}
			res, err := s.ImportFile(ctx, a.Name(), "folder:"+name, raw, nil)
			target := "imported"
			if err != nil {
				target = "rejected"
				log.Warn("statement rejected", "file", path, "err", err)
			} else {
				log.Info("statement imported", "file", path, "imported", res.Imported, "duplicates", res.Duplicates, "matched", res.Matched, "exceptions", res.Exceptions)
			}
			dest := filepath.Join(dir, a.Name(), target)
			os.MkdirAll(dest, 0o700)
			os.Rename(path, filepath.Join(dest, name))
			if err != nil {
				os.WriteFile(filepath.Join(dest, name+".error.txt"), []byte(err.Error()+"\n"), 0o600)
			}
		}
	}
}

// String summarises an import for the CLI.
func (r ImportResult) String() string {
	return fmt.Sprintf("entries %d, imported %d, already imported %d, pending %d, matched %d, exceptions %d",
		r.Entries, r.Imported, r.Duplicates, r.Pending, r.Matched, r.Exceptions)
}
