package banking

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"os"

	"github.com/pocketramp/pocketramp/internal/bankfile"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/store"
)

// A camt file is imported as it is read (bankfile.StreamCAMT): its entries go to the import's
// chunks as soon as they are parsed and are not kept, so memory stays flat whatever the size of
// the file. The import is still one database transaction, and it does what Import does with the
// parsed file: a file the parser rejects halfway is rolled back whole, with the parser's
// message. Files the stream cannot take in order (a statement's header after its entries, or
// statements of an account out of sequence order, which Import sorts) are imported whole
// through Import instead.

// errReadWhole says a file must be parsed whole and imported by Import.
var errReadWhole = errors.New("banking: the file must be read whole")

// importCAMTStream imports the camt file that open opens, for account iban, as it is read. It
// returns errReadWhole, having written nothing, for files that Import must take.
func (s *Service) importCAMTStream(ctx context.Context, iban, source string, open func() (io.ReadCloser, error)) (ImportResult, error) {
	upload, err := s.account(ctx, iban)
	if err != nil {
		return ImportResult{}, err
	}
	var res ImportResult
	err = s.DB.Tx(ctx, func(tx *store.Tx) error {
		f, err := open()
		if err != nil {
			return err
		}
		defer f.Close()
		h := &streamImport{s: s, ctx: ctx, tx: tx, upload: upload, source: source, sum: sha256.New(),
			res: ImportResult{Statements: []StatementResult{}, Skipped: []SkippedStatement{}, Warnings: []string{}}}
		r := io.TeeReader(f, h.sum)
		if err := bankfile.StreamCAMT(r, h); err != nil {
			var fe *bankfile.FormatError
			if errors.As(err, &fe) {
				return errcode.Field("file", "The file was rejected, nothing was imported: %s", fe.Error())
			}
			if errors.Is(err, bankfile.ErrOutOfOrder) {
				return errReadWhole
			}
			return err
		}
		if h.refused != nil {
			return h.refused
		}
		if _, err := io.Copy(h.sum, f); err != nil { // the digest is of the whole file
			return err
		}
		res = h.res
		return s.finishImport(ctx, tx, source, &res, hex.EncodeToString(h.sum.Sum(nil)))
	})
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

// streamImport is the bankfile.CAMTHandler of one import.
type streamImport struct {
	s      *Service
	ctx    context.Context
	tx     *store.Tx
	upload Account
	source string
	sum    hash.Hash
	res    ImportResult

	cur     *bankfile.Statement // the statement being imported, nil between statements
	skip    bool                // cur's account is not registered
	skipped int                 // entries of a skipped cur
	acct    Account
	sr      StatementResult
	c       *chunk
	bal     bankfile.BalanceCheck
	last    *Account // the account and sequence of the last statement imported
	lastSeq int64
	// refused is an entry in another currency than its account's: the file is refused, but a
	// malformed file is reported as such first, so the parse runs to its end.
	refused error
}

// begin starts importing statement st, as Import does for each of a file's statements.
func (h *streamImport) begin(st *bankfile.Statement) error {
	h.cur, h.skip, h.skipped, h.bal = st, false, 0, bankfile.BalanceCheck{}
	if h.res.ImportID == 0 {
		if err := h.tx.QueryRow(h.ctx, `INSERT INTO bank_imports (iban, format, source, file_sha256, entries, imported, duplicates, matched, exceptions, created_at)
			VALUES (?, ?, ?, '', 0, 0, 0, 0, 0, ?) RETURNING id`, h.upload.IBAN, st.Format, h.source, store.Micros(h.s.Now())).Scan(&h.res.ImportID); err != nil {
			return err
		}
	}
	h.acct = h.upload
	if id := statementAccount(st); id != "" {
		acct, err := accountIn(h.ctx, h.tx, id)
		if errors.Is(err, ErrAccountNotFound) {
			h.skip = true
			return nil
		} else if err != nil {
			return err
		}
		h.acct = acct
	}
	// Import takes an account's statements in sequence order: a file that has them otherwise
	// is imported whole.
	if h.last != nil && (h.acct.IBAN < h.last.IBAN || h.acct.IBAN == h.last.IBAN && sequenceOf(st) < h.lastSeq) {
		return errReadWhole
	}
	acct := h.acct
	h.last, h.lastSeq = &acct, sequenceOf(st)
	h.sr = StatementResult{Account: h.acct.IBAN, StatementID: st.StatementID, Warnings: []string{}}
	if w, err := h.s.checkSequence(h.ctx, h.tx, h.acct, h.res.ImportID, st); err != nil {
		return err
	} else if w != "" {
		h.sr.Warnings = append(h.sr.Warnings, w)
	}
	var err error
	h.c, err = h.s.beginEntries(h.ctx, h.tx, h.acct, h.res.ImportID, st, &h.sr, &h.res)
	return err
}

func (h *streamImport) Entry(st *bankfile.Statement, e *bankfile.Entry) error {
	if st != h.cur {
		if err := h.begin(st); err != nil {
			return err
		}
	}
	switch {
	case h.skip:
		h.skipped++
		return nil
	case h.refused != nil:
		return nil
	case e.Currency != h.acct.Currency:
		h.refused = errcode.Field("file", "The file was rejected, nothing was imported: entry %s of statement %s is in %s; account %s is in %s.",
			e.EntryRef, st.StatementID, e.Currency, h.acct.IBAN, h.acct.Currency)
		return nil
	}
	h.bal.Add(*e)
	return h.s.addEntry(h.ctx, h.tx, h.c, e)
}

func (h *streamImport) End(st *bankfile.Statement) error {
	if st != h.cur {
		if err := h.begin(st); err != nil {
			return err
		}
	}
	h.cur = nil
	if h.skip {
		h.res.Skipped = append(h.res.Skipped, SkippedStatement{Account: statementAccount(st), StatementID: st.StatementID, Entries: h.skipped})
		return nil
	}
	if h.refused != nil {
		return nil
	}
	if err := h.s.importChunk(h.ctx, h.tx, h.c); err != nil {
		return err
	}
	if st.OpeningBalance != nil && st.ClosingBalance != nil {
		if err := h.bal.Check(st); err != nil {
			h.sr.Warnings = append(h.sr.Warnings, "balance_mismatch: account "+h.acct.IBAN+": "+err.Error())
		}
	}
	h.res.Warnings = append(h.res.Warnings, h.sr.Warnings...)
	h.res.Statements = append(h.res.Statements, h.sr)
	return nil
}

// isCAMT reports whether a file starting with head is XML (a camt file, for bankfile.Detect).
func isCAMT(head []byte) bool { return bankfile.Detect(head) == bankfile.FormatCAMT }

// importPathStream imports the camt file at path as it is read, or reports ok = false when it
// is not a camt file or must be read whole.
func (s *Service) importPathStream(ctx context.Context, iban, source, path string) (res ImportResult, ok bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return ImportResult{}, false, err
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	f.Close()
	if !isCAMT(head[:n]) {
		return ImportResult{}, false, nil
	}
	res, err = s.importCAMTStream(ctx, iban, source, func() (io.ReadCloser, error) { return os.Open(path) })
	if errors.Is(err, errReadWhole) {
		return ImportResult{}, false, nil
	}
	return res, err == nil, err
}

// importRawStream is importPathStream for a file in memory.
func (s *Service) importRawStream(ctx context.Context, iban, source string, raw []byte) (res ImportResult, ok bool, err error) {
	if !isCAMT(raw) {
		return ImportResult{}, false, nil
	}
	res, err = s.importCAMTStream(ctx, iban, source, func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil })
	if errors.Is(err, errReadWhole) {
		return ImportResult{}, false, nil
	}
	return res, err == nil, err
}
