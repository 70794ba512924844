package banking

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pocketramp/pocketramp/internal/bankfile"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/secret"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Transaction statuses (REFERENCE §6) and the exception kinds of unmatched credits.
const (
	StatusUnmatched = "unmatched"
	StatusMatched   = "matched"
	StatusIgnored   = "ignored"

	ExceptionNoReference      = "no_reference"      // no payment reference in the remittance text
	ExceptionUnknownReference = "unknown_reference" // a well-formed reference that no payment has
	ExceptionUnderpayment     = "underpayment"
	ExceptionOverpayment      = "overpayment"
	ExceptionDuplicate        = "duplicate" // the payment was already paid
	ExceptionLate             = "late"      // the payment had expired
	ExceptionCurrency         = "currency_mismatch"
	ExceptionWrongAccount     = "wrong_account" // the payment expects another account
	ExceptionNotReconcilable  = "not_reconcilable"
	ExceptionUnknownDebit     = "unknown_debit" // a debit that is none of our payouts
	ExceptionReturned         = "returned"      // a return of one of our payouts
)

// Transaction is a movement on an operator account, as imported from the bank.
type Transaction struct {
	ID               int64               `json:"-"`
	IBAN             string              `json:"iban"`
	BookingDate      string              `json:"booking_date"`
	ValueDate        string              `json:"value_date"`
	Amount           money.Amount        `json:"-"`
	Currency         string              `json:"currency"`
	Direction        string              `json:"direction"`
	Concept          string              `json:"concept"`
	CounterpartyName string              `json:"counterparty_name"`
	CounterpartyIBAN string              `json:"counterparty_iban"`
	EndToEndID       string              `json:"end_to_end_id"`
	EntryRef         string              `json:"-"`
	ReturnReason     string              `json:"-"`
	Status           string              `json:"status"`
	Exception        string              `json:"-"`
	Resolution       string              `json:"-"`
	PaymentID        string              `json:"-"`
	PayoutID         int64               `json:"-"`
	Sandbox          bool                `json:"-"`
	CreatedAt        time.Time           `json:"-"`
	batch            *bankfile.BatchInfo // the bank's batch booking of a new entry (matching only)
}

// Payments is what banking needs from the on-ramp (the consumer owns the interface): finding
// payments by the references payers wrote, and recording fiat received for them.
type Payments interface {
	// ByConcepts finds the payments whose references are among concepts, keyed by reference,
	// locking them until the transaction ends.
	ByConcepts(ctx context.Context, tx *store.Tx, concepts []string) (map[string]Payable, error)
	ByID(ctx context.Context, tx *store.Tx, integrationIBANs func(int64) bool, id string) (Payable, bool, error)
	// Receive records the payment's fiat as arrived, with funds taken from the ledger account
	// fromKey (the bank account's suspense, where every unattributed credit sits).
	Receive(ctx context.Context, tx *store.Tx, id string, amount money.Amount, holder, fromKey string) error
	// ReceiveMany is Receive for many payments at once, in order.
	ReceiveMany(ctx context.Context, tx *store.Tx, rs []Receipt) error
}

// Receipt is a matched transfer for ReceiveMany.
type Receipt struct {
	PaymentID string
	Amount    money.Amount
	Holder    string
	FromKey   string
	// Row is the Payable's Row when the payment has not been touched since ByConcepts read it
	// in this transaction: ReceiveMany then need not read it again.
	Row any
}

// Payable is a payment as matching sees it.
type Payable struct {
	ID            string
	IntegrationID int64
	// Open says the payment still waits for its transfer; Expired, that its time ran out (a
	// transfer arriving now is late). A payment that is neither was paid already.
	Open, Expired bool
	Amount        money.Amount
	Currency      string
	IBAN          string // the account it expects the transfer on
	Sandbox       bool
	Row           any // the payments side's own copy of the row it read (and locked)
}

// Service imports statements, matches them and reconciles. New builds it.
type Service struct {
	DB       *store.DB
	Accounts *Accounts
	// Payments is the on-ramp, which is built after banking (it queues its refunds here) and
	// connects itself with MatchPayments.
	Payments Payments
	Payouts  PayoutHandler // off-ramp side of confirmed payouts; may be nil
	// ValidReference recognises a payment reference of ReferenceLength digits (the on-ramp's
	// concept with its check digits).
	ValidReference  func(string) bool
	ReferenceLength int
	Now             func() time.Time
	Log             *slog.Logger // operator alerts (held payouts); nil: slog.Default()
	Box             *secret.Box  // seals creditors' IBANs at rest (bank_payouts.creditor_iban)
}

// Deps are what banking is built from.
type Deps struct {
	DB       *store.DB
	Box      *secret.Box // seals creditors' IBANs at rest
	Accounts *Accounts
	// Payouts hears about the off-ramp's payouts confirmed, returned or cancelled (built before
	// banking: offramp.BankOutcomes).
	Payouts PayoutHandler
	// ValidReference recognises a payment reference of ReferenceLength digits.
	ValidReference  func(string) bool
	ReferenceLength int
	Now             func() time.Time
	Log             *slog.Logger // nil: slog.Default()
}

// New builds banking from its dependencies. Incoming transfers are matched to payments once
// the on-ramp is connected (MatchPayments).
func New(d Deps) *Service {
	if d.DB == nil || d.Box == nil || d.Accounts == nil || d.ValidReference == nil || d.Now == nil {
		panic("banking: DB, Box, Accounts, ValidReference and Now are required")
	}
	return &Service{DB: d.DB, Box: d.Box, Accounts: d.Accounts, Payouts: d.Payouts, ValidReference: d.ValidReference,
		ReferenceLength: d.ReferenceLength, Now: d.Now, Log: d.Log}
}

// MatchPayments connects the payments that incoming transfers are matched to. The on-ramp and
// banking need each other at run time (a refund is a bank payout; a matched transfer is a
// payment received), and a true cycle of two constructors cannot be closed by either: banking
// is built first, the on-ramp is built with it, and the on-ramp's side of the matching is
// connected here, once, before anything is imported. Matching before that fails.
func (s *Service) MatchPayments(p Payments) { s.Payments = p }

// PayoutHandler hears about bank payouts that the statement confirmed or returned.
type PayoutHandler interface {
	PayoutSettled(ctx context.Context, tx *store.Tx, reference string, returned bool) error
}

// SuspenseKey is the ledger account where a bank account's unattributed movements sit.
func SuspenseKey(sandbox bool, iban, currency string) string {
	return ledgerPrefix(sandbox) + "suspense:" + iban + ":" + currency
}

// BankKey is the ledger account of the money in a bank account.
func BankKey(sandbox bool, iban, currency string) string {
	return ledgerPrefix(sandbox) + "bank:" + iban + ":" + currency
}

func ledgerPrefix(sandbox bool) string {
	if sandbox {
		return "sb:"
	}
	return ""
}

// ImportResult summarises an import: the totals, then per statement.
type ImportResult struct {
	ImportID   int64 `json:"import_id"`
	Entries    int   `json:"entries"`
	Imported   int   `json:"imported"`
	Duplicates int   `json:"duplicates"`
	Matched    int   `json:"matched"`
	Exceptions int   `json:"exceptions"`
	Pending    int   `json:"pending"`
	// ZeroAmount counts new entries of amount zero: recorded (status ignored), never posted.
	ZeroAmount int               `json:"zero_amount"`
	Statements []StatementResult `json:"statements"`
	// Skipped lists statements for accounts that are not registered; they are not imported.
	Skipped []SkippedStatement `json:"skipped"`
	// Warnings are the balance and sequence checks that failed (the file is imported anyway).
	Warnings []string `json:"warnings"`
}

// StatementResult is what the import did with one statement of the file.
type StatementResult struct {
	Account     string   `json:"account"`
	StatementID string   `json:"statement_id"`
	Entries     int      `json:"entries"`
	Imported    int      `json:"imported"`
	Duplicates  int      `json:"duplicates"`
	Pending     int      `json:"pending"`
	ZeroAmount  int      `json:"zero_amount"`
	Warnings    []string `json:"warnings"`
}

// SkippedStatement is a statement of the file for an account that is not registered.
type SkippedStatement struct {
	Account     string `json:"account"`
	StatementID string `json:"statement_id"`
	Entries     int    `json:"entries"`
}

// statementAccount is the account id a statement names ("" when it names none, as CSV).
func statementAccount(st *bankfile.Statement) string {
	switch {
	case st.Account.IBAN != "":
		return st.Account.IBAN
	case st.Account.Other != "":
		return st.Account.Other
	}
	return st.AccountIBAN
}

// Import stores the booked entries of a file's statements, in one database transaction: the
// file is imported whole or not at all, and the answer says exactly what was imported. The
// file was uploaded for account iban; each statement that names its account goes to that
// registered account (a multi-account export), one naming an unregistered account is skipped
// and reported. Entries already imported are skipped; each new movement is posted to the
// ledger and auto-matched (credits to payments, debits to payouts or whole pain.001 batches);
// zero amounts are recorded without postings; pending and informational entries stay out of
// the books until a statement books them. Opening balance + entries ≠ closing balance and
// gaps in an account's statement sequence import with a warning (answer, log and metric).
func (s *Service) Import(ctx context.Context, iban, source string, raw []byte, stmts []*bankfile.Statement) (_ ImportResult, err error) {
	defer errcode.Op("banking.Import", &err)
	upload, err := s.account(ctx, iban)
	if err != nil {
		return ImportResult{}, err
	}
	type part struct {
		st   *bankfile.Statement
		acct Account
	}
	var parts []part
	res := ImportResult{Statements: []StatementResult{}, Skipped: []SkippedStatement{}, Warnings: []string{}}
	format := ""
	for _, st := range stmts {
		format = st.Format
		acct := upload
		if id := statementAccount(st); id != "" {
			if acct, err = s.account(ctx, id); errors.Is(err, ErrAccountNotFound) {
				res.Skipped = append(res.Skipped, SkippedStatement{Account: id, StatementID: st.StatementID, Entries: len(st.Entries)})
				continue
			} else if err != nil {
				return ImportResult{}, err
			}
		}
		for _, e := range st.Entries {
			if e.Currency != acct.Currency {
				return ImportResult{}, errcode.Field("file", "The file was rejected, nothing was imported: entry %s of statement %s is in %s; account %s is in %s.",
					e.EntryRef, st.StatementID, e.Currency, acct.IBAN, acct.Currency)
			}
		}
		parts = append(parts, part{st, acct})
	}
	// Statements of one account in sequence order, so a file holding several in any order
	// is checked for gaps as the bank numbered them.
	sort.SliceStable(parts, func(i, j int) bool {
		if parts[i].acct.IBAN != parts[j].acct.IBAN {
			return parts[i].acct.IBAN < parts[j].acct.IBAN
		}
		return sequenceOf(parts[i].st) < sequenceOf(parts[j].st)
	})
	sum := sha256.Sum256(raw)
	err = s.DB.Tx(ctx, func(tx *store.Tx) error {
		res.Entries, res.Imported, res.Duplicates, res.Matched, res.Exceptions, res.Pending, res.ZeroAmount = 0, 0, 0, 0, 0, 0, 0
		res.Statements, res.Warnings = []StatementResult{}, []string{}
		if err := tx.QueryRow(ctx, `INSERT INTO bank_imports (iban, format, source, file_sha256, entries, imported, duplicates, matched, exceptions, created_at)
			VALUES (?, ?, ?, ?, 0, 0, 0, 0, 0, ?) RETURNING id`, upload.IBAN, format, source, hex.EncodeToString(sum[:]), store.Micros(s.Now())).Scan(&res.ImportID); err != nil {
			return err
		}
		for _, p := range parts {
			sr := StatementResult{Account: p.acct.IBAN, StatementID: p.st.StatementID, Warnings: []string{}}
			if w, err := s.checkSequence(ctx, tx, p.acct, res.ImportID, p.st); err != nil {
				return err
			} else if w != "" {
				sr.Warnings = append(sr.Warnings, w)
			}
			if p.st.OpeningBalance != nil && p.st.ClosingBalance != nil {
				if err := p.st.CheckBalances(); err != nil {
					sr.Warnings = append(sr.Warnings, "balance_mismatch: account "+p.acct.IBAN+": "+err.Error())
				}
			}
			if err := s.importEntries(ctx, tx, p.acct, res.ImportID, p.st, &sr, &res); err != nil {
				return err
			}
			res.Warnings = append(res.Warnings, sr.Warnings...)
			res.Statements = append(res.Statements, sr)
		}
		return s.finishImport(ctx, tx, source, &res, "")
	})
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

// finishImport writes the totals of an import (and the file's digest when it was not known at
// the start) and logs its warnings once the transaction commits.
func (s *Service) finishImport(ctx context.Context, tx *store.Tx, source string, res *ImportResult, fileSHA256 string) error {
	report, err := json.Marshal(map[string]any{"skipped": res.Skipped, "warnings": res.Warnings})
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "UPDATE bank_imports SET entries = ?, imported = ?, duplicates = ?, matched = ?, exceptions = ?, report = ?, file_sha256 = COALESCE(NULLIF(?, ''), file_sha256) WHERE id = ?",
		res.Entries, res.Imported, res.Duplicates, res.Matched, res.Exceptions, string(report), fileSHA256, res.ImportID)
	if err != nil {
		return err
	}
	warnings, skipped := res.Warnings, res.Skipped
	tx.AfterCommit(func() {
		for _, w := range warnings {
			kind, _, _ := strings.Cut(w, ":")
			statementWarningsTotal.WithLabelValues(kind).Inc()
			s.log().Warn("bank statement imported with a warning", "source", source, "warning", w)
		}
		for _, sk := range skipped {
			s.log().Warn("bank statement skipped: its account is not registered", "source", source, "account", sk.Account, "statement", sk.StatementID)
		}
	})
	return nil
}

// sequenceOf is the statement's number in its account's sequence: the electronic sequence
// number when the bank gives one, else the legal sequence number; 0 when neither.
func sequenceOf(st *bankfile.Statement) int64 {
	if st.ElectronicSequence > 0 {
		return st.ElectronicSequence
	}
	return st.SequenceNumber
}

// checkSequence records the statement and reports a gap after the last statement of the
// account seen with the same kind of number ("" when none).
func (s *Service) checkSequence(ctx context.Context, tx *store.Tx, acct Account, importID int64, st *bankfile.Statement) (string, error) {
	col, seq := "electronic_sequence", st.ElectronicSequence
	if seq == 0 {
		col, seq = "sequence_number", st.SequenceNumber
	}
	warning := ""
	if seq > 0 {
		var last sql.NullInt64
		if err := tx.QueryRow(ctx, "SELECT MAX("+col+") FROM bank_statements WHERE iban = ? AND "+col+" > 0", acct.IBAN).Scan(&last); err != nil {
			return "", err
		}
		if last.Valid && seq > last.Int64+1 {
			missing := fmt.Sprintf("%d", last.Int64+1)
			if seq > last.Int64+2 {
				missing += fmt.Sprintf(" to %d", seq-1)
			}
			warning = fmt.Sprintf("sequence_gap: account %s: statement %s is number %d, the last imported is %d; statement %s missing",
				acct.IBAN, st.StatementID, seq, last.Int64, missing)
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO bank_statements (iban, import_id, statement_id, sequence_number, electronic_sequence, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, acct.IBAN, importID, st.StatementID, st.SequenceNumber, st.ElectronicSequence, store.Micros(s.Now()))
	return warning, err
}

// importEntries imports a statement's entries in chunks: each chunk's new entries are inserted,
// posted and matched with a constant number of statements (see importChunk), so a statement of
// 100,000 lines costs a few hundred round trips rather than millions.
func (s *Service) importEntries(ctx context.Context, tx *store.Tx, acct Account, importID int64, st *bankfile.Statement, sr *StatementResult, res *ImportResult) error {
	c, err := s.beginEntries(ctx, tx, acct, importID, st, sr, res)
	if err != nil {
		return err
	}
	for i := range st.Entries {
		if err := s.addEntry(ctx, tx, c, &st.Entries[i]); err != nil {
			return err
		}
	}
	return s.importChunk(ctx, tx, c)
}

// beginEntries starts importing the entries of statement st, which the caller gives to addEntry
// in order and ends with importChunk.
func (s *Service) beginEntries(ctx context.Context, tx *store.Tx, acct Account, importID int64, st *bankfile.Statement, sr *StatementResult, res *ImportResult) (*chunk, error) {
	keys, err := ledger.EnsureAccounts(ctx, tx, []ledger.Account{
		{Key: BankKey(acct.Sandbox, acct.IBAN, acct.Currency), Kind: ledger.KindBank, Asset: acct.Currency},
		{Key: SuspenseKey(acct.Sandbox, acct.IBAN, acct.Currency), Kind: ledger.KindSuspense, Asset: acct.Currency}})
	if err != nil {
		return nil, err
	}
	c := &chunk{acct: acct, importID: importID, bank: keys[BankKey(acct.Sandbox, acct.IBAN, acct.Currency)],
		suspense: keys[SuspenseKey(acct.Sandbox, acct.IBAN, acct.Currency)], sr: sr, res: res, now: s.Now()}
	// The booking date falls back to the value date, then to the statement's own date, as
	// the standard allows a missing BookgDt.
	c.stmtDate = st.CreatedAt
	if !st.To.IsZero() {
		c.stmtDate = st.To
	}
	return c, nil
}

// addEntry adds the statement's next entry to chunk c, importing the chunk when it is full.
func (s *Service) addEntry(ctx context.Context, tx *store.Tx, c *chunk, e *bankfile.Entry) error {
	c.sr.Entries++
	c.res.Entries++
	if e.Status != "" && e.Status != bankfile.StatusBooked {
		c.sr.Pending++ // pending and informational entries are not booked yet
		c.res.Pending++
		return nil
	}
	booking := e.BookingDate
	if booking.IsZero() {
		booking = e.ValueDate
	}
	if booking.IsZero() {
		booking = c.stmtDate
	}
	t := Transaction{IBAN: c.acct.IBAN, BookingDate: date(booking), ValueDate: date(e.ValueDate), Amount: e.Amount,
		Currency: e.Currency, Direction: e.Direction, Concept: e.Remittance, CounterpartyName: e.CounterpartyName,
		CounterpartyIBAN: e.CounterpartyIBAN, EndToEndID: e.EndToEndID, EntryRef: e.EntryRef, ReturnReason: e.ReturnReason,
		Status: StatusUnmatched, Sandbox: c.acct.Sandbox, CreatedAt: c.now, batch: e.Batch}
	if t.Amount.IsZero() {
		// Nothing moved (a waived fee, a card check): kept for the record, never posted.
		t.Status, t.Resolution = StatusIgnored, "zero amount: nothing moved"
	}
	c.txs = append(c.txs, t)
	c.fingerprints = append(c.fingerprints, e.Fingerprint)
	if len(c.txs) == ChunkSize {
		return s.importChunk(ctx, tx, c)
	}
	return nil
}

// ChunkSize is how many statement entries an import inserts, posts and matches at once: as many
// bank_transactions rows as one INSERT can carry.
var ChunkSize = store.RowsPerStatement(transactionColumns)

// chunk is a run of a statement's booked entries being imported together.
type chunk struct {
	acct           Account
	importID       int64
	bank, suspense ledger.AccountID
	sr             *StatementResult
	res            *ImportResult
	txs            []Transaction
	fingerprints   []string
	stmtDate, now  time.Time
}

// importChunk imports c's entries, as the entry-by-entry import did, in a constant number of
// statements: one read of the fingerprints already imported, one lookup of the payments the new
// credits' references name, one INSERT of the new rows with their outcome (matched, or the
// exception) already decided, one ledger batch posting them to the bank account and its
// suspense, one batch receiving the matched payments (postings, events, chain payouts).
// Deciding before inserting saves an UPDATE of every row. Debits and returns (our payouts, rare)
// are matched one by one where they stand, so every effect keeps the order of the file.
func (s *Service) importChunk(ctx context.Context, tx *store.Tx, c *chunk) error {
	defer func() { c.txs, c.fingerprints = c.txs[:0], c.fingerprints[:0] }()
	if len(c.txs) == 0 {
		return nil
	}
	fresh, err := newEntries(ctx, tx, c.acct.IBAN, c.fingerprints)
	if err != nil {
		return err
	}
	var news []*Transaction
	for i := range c.txs {
		t := &c.txs[i]
		switch {
		case !fresh[i]:
			c.sr.Duplicates++
			c.res.Duplicates++
			continue
		case t.Amount.IsZero():
			c.sr.ZeroAmount++
			c.res.ZeroAmount++
		default:
			c.sr.Imported++
			c.res.Imported++
			news = append(news, t)
		}
	}
	receipts, err := s.classify(ctx, tx, c, news)
	if err != nil {
		return err
	}
	if err := insertTransactions(ctx, tx, c.txs, c.fingerprints, fresh, c.importID); err != nil {
		return err
	}
	posts := make([]ledger.Transaction, len(news))
	for i, t := range news {
		// The money is in (or out of) the bank; until matched it belongs to suspense.
		from, to := c.suspense, c.bank
		if t.Amount.Sign() < 0 {
			from, to = c.bank, c.suspense
		}
		posts[i] = ledger.Transaction{Reference: fmt.Sprintf("bank:%d", t.ID),
			Description: fmt.Sprintf("%s %s on %s: %s", t.Direction, t.Amount, t.IBAN, truncate(t.Concept, 80)),
			Postings:    ledger.Transfer(from, to, t.Currency, t.Amount.Abs().Units())}
	}
	if _, err := ledger.PostMany(ctx, tx, posts); err != nil {
		return err
	}
	return s.matchChunk(ctx, tx, c, news, receipts)
}

// classify decides the outcome of the new credits among news (matched to a payment, or the
// exception), before they are inserted, and returns the receipt of each matched one, keyed by
// the entry. Debits and returns are left unmatched for matchChunk.
func (s *Service) classify(ctx context.Context, tx *store.Tx, c *chunk, news []*Transaction) (map[*Transaction]Receipt, error) {
	refs := make([][]string, len(news))
	var all []string
	for i, t := range news {
		if t.Direction != bankfile.Debit && t.ReturnReason == "" {
			refs[i] = concepts(t.Concept, s.ReferenceLength, s.ValidReference)
			all = append(all, refs[i]...)
		}
	}
	payables := map[string]Payable{}
	if len(all) > 0 {
		var err error
		if payables, err = s.Payments.ByConcepts(ctx, tx, all); err != nil {
			return nil, err
		}
	}
	received := map[string]bool{} // payments matched earlier in this chunk
	receipts := map[*Transaction]Receipt{}
	fromKey := SuspenseKey(c.acct.Sandbox, c.acct.IBAN, c.acct.Currency)
	for i, t := range news {
		if t.Direction == bankfile.Debit || t.ReturnReason != "" {
			continue
		}
		p, found := Payable{}, false
		for _, ref := range refs[i] {
			if p, found = payables[ref]; found {
				break
			}
		}
		switch {
		case len(refs[i]) == 0:
			t.Exception = ExceptionNoReference
		case !found:
			t.Exception = ExceptionUnknownReference
		default:
			t.PaymentID = p.ID
			if received[p.ID] {
				p.Open, p.Expired = false, false
			}
			t.Exception = s.exceptionFor(c.acct, t, p)
		}
		if t.Exception == "" {
			t.Status = StatusMatched
			received[p.ID] = true
			receipts[t] = Receipt{PaymentID: p.ID, Amount: t.Amount, Holder: t.CounterpartyName, FromKey: fromKey, Row: p.Row}
		}
	}
	return receipts, nil
}

// matchChunk applies the outcomes of the new entries in the file's order: the credits that
// classify matched receive their payments, debits and returns are matched to our payouts.
func (s *Service) matchChunk(ctx context.Context, tx *store.Tx, c *chunk, news []*Transaction, matched map[*Transaction]Receipt) error {
	var receipts []Receipt
	payouts := false // a payout was matched: the payments read before may have changed
	for _, t := range news {
		if t.Direction == bankfile.Debit || t.ReturnReason != "" {
			// Our payouts: the payments received so far go first, to keep the file's order.
			if err := s.receive(ctx, tx, receipts); err != nil {
				return err
			}
			receipts = receipts[:0]
			ok, err := s.autoMatch(ctx, tx, c.acct, t)
			if err != nil {
				return err
			}
			c.count(ok)
			payouts = true
			continue
		}
		r, ok := matched[t]
		if ok {
			if payouts {
				r.Row = nil
			}
			receipts = append(receipts, r)
		}
		c.count(ok)
	}
	return s.receive(ctx, tx, receipts)
}

func (s *Service) receive(ctx context.Context, tx *store.Tx, rs []Receipt) error {
	if len(rs) == 0 {
		return nil
	}
	return s.Payments.ReceiveMany(ctx, tx, rs)
}

func (c *chunk) count(matched bool) {
	if matched {
		c.res.Matched++
	} else {
		c.res.Exceptions++
	}
}

// exceptionFor is why credit t cannot be matched to payment p ("" when it can).
func (s *Service) exceptionFor(acct Account, t *Transaction, p Payable) string {
	switch {
	case p.IBAN != acct.IBAN:
		return ExceptionWrongAccount
	case p.Currency != t.Currency:
		return ExceptionCurrency
	case p.Expired:
		return ExceptionLate
	case !p.Open:
		return ExceptionDuplicate
	case t.Amount.Cmp(p.Amount) < 0:
		return ExceptionUnderpayment
	case t.Amount.Cmp(p.Amount) > 0:
		return ExceptionOverpayment
	}
	return ""
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02")
}

func (s *Service) account(ctx context.Context, iban string) (Account, error) {
	return accountIn(ctx, s.DB, iban)
}

// accountIn is account read through q (a transaction).
func accountIn(ctx context.Context, q ledger.Querier, iban string) (Account, error) {
	iban = strings.ToUpper(strings.ReplaceAll(iban, " ", ""))
	var a Account
	err := q.QueryRow(ctx, "SELECT iban, bic, holder_name, bank_name, currency, status, sandbox, id_scheme, batch_booking, pain_version FROM bank_accounts WHERE iban = ?", iban).
		Scan(&a.IBAN, &a.BIC, &a.HolderName, &a.BankName, &a.Currency, &a.Status, &a.Sandbox, &a.Scheme, &a.BatchBooking, &a.PainVersion)
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, ErrAccountNotFound.With("No operator account has IBAN "+iban+".", nil)
	}
	return a, err
}

const transactionColumns = 21

// newEntries reports which entries of a chunk are new: their fingerprint is not among the
// account's imported entries, nor earlier in the chunk.
func newEntries(ctx context.Context, tx *store.Tx, iban string, fingerprints []string) ([]bool, error) {
	known := make(map[string]bool, len(fingerprints))
	if tx.Engine() == store.Postgres {
		// One array parameter, each element probed through the unique (iban, fingerprint)
		// index by a correlated subquery, which the planner cannot turn into a join: with an IN
		// list (or EXISTS, a semi-join) it chose to read every row of the account through the
		// (iban, booking_date, id) index, as its statistics do not show the rows inserted
		// earlier in the transaction (EXPLAIN ANALYZE after 90,000 rows: 13 ms per chunk
		// instead of 180 ms, with a generic or a custom plan).
		rows, err := tx.Query(ctx, `SELECT f FROM unnest(CAST(? AS text[])) AS f
			WHERE (SELECT true FROM bank_transactions WHERE iban = ? AND fingerprint = f)`, fingerprints, iban)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var fp string
			if err := rows.Scan(&fp); err != nil {
				return nil, err
			}
			known[fp] = true
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return freshOf(fingerprints, known), nil
	}
	err := store.Chunks(len(fingerprints), store.MaxParams-1, func(from, to int) error {
		args := make([]any, 0, 1+to-from)
		args = append(args, iban)
		for _, fp := range fingerprints[from:to] {
			args = append(args, fp)
		}
		rows, err := tx.Query(ctx, "SELECT fingerprint FROM bank_transactions WHERE iban = ? AND fingerprint IN ("+store.In(to-from)+")", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var fp string
			if err := rows.Scan(&fp); err != nil {
				return err
			}
			known[fp] = true
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return freshOf(fingerprints, known), nil
}

// freshOf marks the fingerprints that are not known, nor earlier in the list.
func freshOf(fingerprints []string, known map[string]bool) []bool {
	fresh := make([]bool, len(fingerprints))
	for i, fp := range fingerprints {
		fresh[i] = !known[fp]
		known[fp] = true
	}
	return fresh
}

// insertTransactions inserts the rows of ts that fresh marks new, with their outcome, and sets
// their IDs. A row that another import inserted since newEntries read (two imports of one file
// at once, on PostgreSQL) would have been classified as new: the transaction is then retried,
// and the retry sees it as a duplicate.
func insertTransactions(ctx context.Context, tx *store.Tx, ts []Transaction, fingerprints []string, fresh []bool, importID int64) error {
	var rows []int
	for i := range ts {
		if fresh[i] {
			rows = append(rows, i)
		}
	}
	if tx.CanCopy() && len(rows) >= store.CopyMinRows {
		return copyTransactions(ctx, tx, ts, fingerprints, rows, importID)
	}
	ids := make(map[string]int64, len(rows))
	err := store.Chunks(len(rows), store.RowsPerStatement(transactionColumns), func(from, to int) error {
		args := make([]any, 0, transactionColumns*(to-from))
		for _, i := range rows[from:to] {
			t := &ts[i]
			var payment any
			if t.PaymentID != "" {
				payment = t.PaymentID
			}
			args = append(args, t.IBAN, fingerprints[i], importID, t.BookingDate, t.ValueDate, t.Amount.Units().Int64(), t.Amount.Scale(),
				t.Currency, t.Direction, t.Concept, t.CounterpartyName, t.CounterpartyIBAN, t.EndToEndID, t.EntryRef, t.ReturnReason,
				t.Status, t.Exception, payment, t.Resolution, store.Micros(t.CreatedAt), store.Micros(t.CreatedAt))
		}
		res, err := tx.Query(ctx, `INSERT INTO bank_transactions (iban, fingerprint, import_id, booking_date, value_date, amount, scale, currency,
			direction, concept, counterparty_name, counterparty_iban, end_to_end_id, entry_ref, return_reason, status, exception, payment_id,
			resolution, created_at, updated_at)
			VALUES `+store.Placeholders(to-from, transactionColumns)+` ON CONFLICT (iban, fingerprint) DO NOTHING RETURNING id, fingerprint`, args...)
		if err != nil {
			return err
		}
		defer res.Close()
		for res.Next() {
			var id int64
			var fp string
			if err := res.Scan(&id, &fp); err != nil {
				return err
			}
			ids[fp] = id
		}
		return res.Err()
	})
	if err != nil {
		return err
	}
	for _, i := range rows {
		id, ok := ids[fingerprints[i]]
		if !ok {
			return fmt.Errorf("banking: entry %s was imported by another import meanwhile: %w", ts[i].EntryRef, store.ErrConflict)
		}
		ts[i].ID = id
	}
	return nil
}

// copyTransactions is insertTransactions by COPY (PostgreSQL), with ids taken from the table's
// sequence first. COPY cannot skip a row another import inserted since newEntries read: the
// unique violation fails the transaction, which is retried as ErrConflict, like a skipped row.
func copyTransactions(ctx context.Context, tx *store.Tx, ts []Transaction, fingerprints []string, rows []int, importID int64) error {
	ids, err := tx.NextIDs(ctx, "bank_transactions", len(rows))
	if err != nil {
		return err
	}
	data := make([][]any, len(rows))
	for k, i := range rows {
		t := &ts[i]
		var payment any
		if t.PaymentID != "" {
			payment = t.PaymentID
		}
		data[k] = []any{ids[k], t.IBAN, fingerprints[i], importID, t.BookingDate, t.ValueDate, t.Amount.Units().Int64(), t.Amount.Scale(),
			t.Currency, t.Direction, t.Concept, t.CounterpartyName, t.CounterpartyIBAN, t.EndToEndID, t.EntryRef, t.ReturnReason,
			t.Status, t.Exception, payment, t.Resolution, store.Micros(t.CreatedAt), store.Micros(t.CreatedAt)}
	}
	err = tx.CopyFrom(ctx, "bank_transactions", []string{"id", "iban", "fingerprint", "import_id", "booking_date", "value_date", "amount",
		"scale", "currency", "direction", "concept", "counterparty_name", "counterparty_iban", "end_to_end_id", "entry_ref", "return_reason",
		"status", "exception", "payment_id", "resolution", "created_at", "updated_at"}, data)
	if store.IsUniqueViolation(err) {
		return fmt.Errorf("banking: an entry of the chunk was imported by another import meanwhile: %w: %w", store.ErrConflict, err)
	}
	if err != nil {
		return err
	}
	for k, i := range rows {
		ts[i].ID = ids[k]
	}
	return nil
}

// concepts extracts payment references from remittance text. Banks truncate, prefix ("TRF",
// "CONCEPTO:"), split digits with spaces or dashes and join fields, so every window of n digits
// of the text is tried; the reference's mod-97 check digits make an accidental hit unlikely,
// and it must still be an open payment's reference.
func concepts(text string, n int, valid func(string) bool) []string {
	var digits strings.Builder
	for _, r := range text {
		if r >= '0' && r <= '9' {
			digits.WriteRune(r)
		}
	}
	d := digits.String()
	var out []string
	seen := map[string]bool{}
	for i := 0; i+n <= len(d); i++ {
		c := d[i : i+n]
		if !seen[c] && valid(c) {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// autoMatch matches a new debit to our payouts and a returned credit to the payout it returns.
func (s *Service) autoMatch(ctx context.Context, tx *store.Tx, acct Account, t *Transaction) (bool, error) {
	if t.Direction == bankfile.Debit {
		return s.matchDebit(ctx, tx, acct, t)
	}
	return s.matchReturn(ctx, tx, acct, t)
}

func (s *Service) match(ctx context.Context, tx *store.Tx, acct Account, t *Transaction, p Payable) error {
	if err := s.Payments.Receive(ctx, tx, p.ID, t.Amount, t.CounterpartyName, SuspenseKey(acct.Sandbox, acct.IBAN, acct.Currency)); err != nil {
		return err
	}
	t.Status, t.PaymentID = StatusMatched, p.ID
	_, err := tx.Exec(ctx, "UPDATE bank_transactions SET status = ?, exception = '', payment_id = ?, updated_at = ? WHERE id = ?",
		StatusMatched, p.ID, store.Micros(s.Now()), t.ID)
	return err
}

func (s *Service) setException(ctx context.Context, tx *store.Tx, t *Transaction, kind string) error {
	t.Exception = kind
	_, err := tx.Exec(ctx, "UPDATE bank_transactions SET exception = ?, updated_at = ? WHERE id = ?", kind, store.Micros(s.Now()), t.ID)
	return err
}

// matchDebit confirms one of our SEPA payouts by its end-to-end id (or reference in the text).
func (s *Service) matchDebit(ctx context.Context, tx *store.Tx, acct Account, t *Transaction) (bool, error) {
	var id int64
	var reference, status string
	var amount int64
	err := tx.QueryRow(ctx, "SELECT id, reference, status, amount FROM bank_payouts WHERE iban = ? AND end_to_end_id = ?"+tx.ForUpdate(),
		acct.IBAN, t.EndToEndID).Scan(&id, &reference, &status, &amount)
	if errors.Is(err, sql.ErrNoRows) || t.EndToEndID == "" {
		if t.batch != nil {
			return s.matchBatch(ctx, tx, acct, t)
		}
		return false, s.setException(ctx, tx, t, ExceptionUnknownDebit)
	}
	if err != nil {
		return false, err
	}
	if status == "confirmed" || amount != -t.Amount.Units().Int64() {
		return false, s.setException(ctx, tx, t, ExceptionUnknownDebit)
	}
	if _, err := tx.Exec(ctx, "UPDATE bank_payouts SET status = 'confirmed', transaction_id = ?, updated_at = ? WHERE id = ?", t.ID, store.Micros(s.Now()), id); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, "UPDATE bank_transactions SET status = ?, payout_id = ?, updated_at = ? WHERE id = ?", StatusMatched, id, store.Micros(s.Now()), t.ID); err != nil {
		return false, err
	}
	// The money left the bank for this payout: clear it from suspense into the payout's account.
	if err := s.postPayoutSettled(ctx, tx, acct, id, reference, big.NewInt(amount)); err != nil {
		return false, err
	}
	if s.Payouts != nil {
		return true, s.Payouts.PayoutSettled(ctx, tx, reference, false)
	}
	return true, nil
}

// matchBatch confirms every payout of one of our pain.001 batches that the bank booked as one
// debit (NtryDtls/Btch, what BtchBookg true asks for): the batch is named by its PmtInfId or
// MsgId (ours are the same), and its number of transactions and total must agree with the
// debit and with the batch's exported payouts; anything else is an unknown debit.
func (s *Service) matchBatch(ctx context.Context, tx *store.Tx, acct Account, t *Transaction) (bool, error) {
	var batchID, total int64
	var payments int
	var confirmedBy sql.NullInt64
	err := tx.QueryRow(ctx, "SELECT id, payments, total, transaction_id FROM bank_payout_batches WHERE iban = ? AND message_id IN (?, ?)"+tx.ForUpdate(),
		acct.IBAN, t.batch.PaymentInfoID, t.batch.MessageID).Scan(&batchID, &payments, &total, &confirmedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return false, s.setException(ctx, tx, t, ExceptionUnknownDebit)
	}
	if err != nil {
		return false, err
	}
	debit := -t.Amount.Units().Int64()
	if confirmedBy.Valid || debit != total || (t.batch.Transactions != 0 && t.batch.Transactions != payments) ||
		(t.batch.Total != nil && t.batch.Total.Abs().Units().Int64() != total) {
		return false, s.setException(ctx, tx, t, ExceptionUnknownDebit)
	}
	list, err := s.queryPayouts(ctx, tx, "WHERE batch_id = ? AND status = 'exported' ORDER BY id"+tx.ForUpdate(), batchID)
	if err != nil {
		return false, err
	}
	var sum int64
	for _, p := range list {
		sum += p.Amount.Units().Int64()
	}
	if len(list) != payments || sum != total {
		return false, s.setException(ctx, tx, t, ExceptionUnknownDebit) // some were retried or settled otherwise
	}
	now := store.Micros(s.Now())
	if _, err := tx.Exec(ctx, "UPDATE bank_payout_batches SET transaction_id = ? WHERE id = ?", t.ID, batchID); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, "UPDATE bank_payouts SET status = 'confirmed', transaction_id = ?, updated_at = ? WHERE batch_id = ? AND status = 'exported'",
		t.ID, now, batchID); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, "UPDATE bank_transactions SET status = ?, resolution = ?, updated_at = ? WHERE id = ?",
		StatusMatched, fmt.Sprintf("batch of %d payouts", payments), now, t.ID); err != nil {
		return false, err
	}
	for _, p := range list {
		if err := s.postPayoutSettled(ctx, tx, acct, p.ID, p.Reference, p.Amount.Units()); err != nil {
			return false, err
		}
		if s.Payouts != nil {
			if err := s.Payouts.PayoutSettled(ctx, tx, p.Reference, false); err != nil {
				return false, err
			}
		}
	}
	return true, nil
}

func (s *Service) postPayoutSettled(ctx context.Context, tx *store.Tx, acct Account, payoutID int64, reference string, amount *big.Int) error {
	suspense, err := ledger.EnsureAccount(ctx, tx, ledger.Account{Key: SuspenseKey(acct.Sandbox, acct.IBAN, acct.Currency), Kind: ledger.KindSuspense, Asset: acct.Currency})
	if err != nil {
		return err
	}
	payable, err := ledger.EnsureAccount(ctx, tx, ledger.Account{Key: PayoutPayableKey(acct.Sandbox, acct.Currency), Kind: ledger.KindClearing, Asset: acct.Currency})
	if err != nil {
		return err
	}
	_, err = ledger.Post(ctx, tx, ledger.Transaction{Reference: fmt.Sprintf("bankpayout:%d:settled", payoutID),
		Description: "SEPA payout " + reference + " debited", Postings: ledger.Transfer(suspense, payable, acct.Currency, amount)})
	return err
}

// PayoutPayableKey is the ledger account holding fiat owed to payout beneficiaries until the
// bank debits it.
func PayoutPayableKey(sandbox bool, currency string) string {
	return ledgerPrefix(sandbox) + "payouts:" + currency
}

// matchReturn handles a credit that returns one of our payouts (RtrInf): the payout is marked
// returned and the money is owed again to whom the payout was for.
func (s *Service) matchReturn(ctx context.Context, tx *store.Tx, acct Account, t *Transaction) (bool, error) {
	var id, amount int64
	var reference, status, from string
	err := tx.QueryRow(ctx, "SELECT id, reference, status, amount, ledger_from FROM bank_payouts WHERE iban = ? AND end_to_end_id = ?"+tx.ForUpdate(),
		acct.IBAN, t.EndToEndID).Scan(&id, &reference, &status, &amount, &from)
	if errors.Is(err, sql.ErrNoRows) || t.EndToEndID == "" {
		return false, s.setException(ctx, tx, t, ExceptionReturned)
	}
	if err != nil {
		return false, err
	}
	if status != "confirmed" || amount != t.Amount.Units().Int64() {
		return false, s.setException(ctx, tx, t, ExceptionReturned)
	}
	if _, err := tx.Exec(ctx, "UPDATE bank_payouts SET status = 'returned', updated_at = ? WHERE id = ?", store.Micros(s.Now()), id); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, "UPDATE bank_transactions SET status = ?, payout_id = ?, resolution = 'payout_returned', updated_at = ? WHERE id = ?",
		StatusMatched, id, store.Micros(s.Now()), t.ID); err != nil {
		return false, err
	}
	owed, err := ledger.EnsureAccount(ctx, tx, ledger.Account{Key: from, Kind: kindOf(from), Asset: acct.Currency})
	if err != nil {
		return false, err
	}
	suspense, err := ledger.EnsureAccount(ctx, tx, ledger.Account{Key: SuspenseKey(acct.Sandbox, acct.IBAN, acct.Currency), Kind: ledger.KindSuspense, Asset: acct.Currency})
	if err != nil {
		return false, err
	}
	if _, err := ledger.Post(ctx, tx, ledger.Transaction{Reference: fmt.Sprintf("bankpayout:%d:returned", id),
		Description: "SEPA payout " + reference + " returned: " + t.ReturnReason, Postings: ledger.Transfer(owed, suspense, acct.Currency, big.NewInt(amount))}); err != nil {
		return false, err
	}
	if s.Payouts != nil {
		return true, s.Payouts.PayoutSettled(ctx, tx, reference, true)
	}
	return true, nil
}
