package banking

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/bankfile"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/money"
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
	ID               int64        `json:"-"`
	IBAN             string       `json:"iban"`
	BookingDate      string       `json:"booking_date"`
	ValueDate        string       `json:"value_date"`
	Amount           money.Amount `json:"-"`
	Currency         string       `json:"currency"`
	Direction        string       `json:"direction"`
	Concept          string       `json:"concept"`
	CounterpartyName string       `json:"counterparty_name"`
	CounterpartyIBAN string       `json:"counterparty_iban"`
	EndToEndID       string       `json:"end_to_end_id"`
	EntryRef         string       `json:"-"`
	ReturnReason     string       `json:"-"`
	Status           string       `json:"status"`
	Exception        string       `json:"-"`
	Resolution       string       `json:"-"`
	PaymentID        string       `json:"-"`
	PayoutID         int64        `json:"-"`
	Sandbox          bool         `json:"-"`
	CreatedAt        time.Time    `json:"-"`
}

// Payments is what banking needs from the on-ramp (the consumer owns the interface): finding a
// payment by the reference a payer wrote, and recording fiat received for it.
type Payments interface {
	ByConcept(ctx context.Context, tx *store.Tx, concept string) (Payable, bool, error)
	ByID(ctx context.Context, tx *store.Tx, integrationIBANs func(int64) bool, id string) (Payable, bool, error)
	// Receive records the payment's fiat as arrived, with funds taken from the ledger account
	// fromKey (the bank account's suspense, where every unattributed credit sits).
	Receive(ctx context.Context, tx *store.Tx, id string, amount money.Amount, holder, fromKey string) error
}

// Payable is a payment as matching sees it.
type Payable struct {
	ID            string
	IntegrationID int64
	Status        string
	Amount        money.Amount
	Currency      string
	IBAN          string // the account it expects the transfer on
	Sandbox       bool
}

// Service imports statements, matches them and reconciles.
type Service struct {
	DB       *store.DB
	Accounts *Accounts
	Payments Payments
	Payouts  PayoutHandler // off-ramp side of confirmed payouts; may be nil
	// ValidReference recognises a payment reference of ReferenceLength digits (the on-ramp's
	// concept with its check digits).
	ValidReference  func(string) bool
	ReferenceLength int
	Now             func() time.Time
	Log             *slog.Logger // operator alerts (held payouts); nil: slog.Default()
}

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

// ImportResult summarises an import.
type ImportResult struct {
	ImportID   int64 `json:"import_id"`
	Entries    int   `json:"entries"`
	Imported   int   `json:"imported"`
	Duplicates int   `json:"duplicates"`
	Matched    int   `json:"matched"`
	Exceptions int   `json:"exceptions"`
	Pending    int   `json:"pending"`
}

// importChunk is how many entries one import transaction books. Whole-file atomicity is not
// needed for correctness — every entry is de-duplicated by fingerprint, so re-importing a file
// after a crash completes it exactly — while one transaction per 100,000-line file makes
// PostgreSQL walk ever longer version chains of the few balance rows every entry updates.
const importChunk = 500

// Import stores the booked entries of statements for the account iban: the file has already
// been parsed and validated whole (a malformed file is rejected before anything is written),
// then its entries are booked in transactions of importChunk entries, skipping entries already
// imported, posting each new movement to the ledger, and auto-matching credits to payments and
// debits to payouts.
func (s *Service) Import(ctx context.Context, iban, source string, raw []byte, stmts []*bankfile.Statement) (ImportResult, error) {
	acct, err := s.account(ctx, iban)
	if err != nil {
		return ImportResult{}, err
	}
	sum := sha256.Sum256(raw)
	format := ""
	var entries []bankfile.Entry
	for _, st := range stmts {
		format = st.Format
		if id := st.AccountID(); id != "" && id != acct.IBAN {
			return ImportResult{}, errcode.Field("file", "The statement is for account %s, not %s.", id, acct.IBAN)
		}
		for _, e := range st.Entries {
			if e.Currency != acct.Currency {
				return ImportResult{}, errcode.Field("file", "Entry %s is in %s; the account is in %s.", e.EntryRef, e.Currency, acct.Currency)
			}
		}
		entries = append(entries, st.Entries...)
	}
	var res ImportResult
	err = s.DB.Tx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO bank_imports (iban, format, source, file_sha256, entries, imported, duplicates, matched, exceptions, created_at)
			VALUES (?, ?, ?, ?, 0, 0, 0, 0, 0, ?) RETURNING id`, acct.IBAN, format, source, hex.EncodeToString(sum[:]), store.Micros(s.Now())).Scan(&res.ImportID); err != nil {
			return err
		}
		_, err := ledger.EnsureAccount(ctx, tx, ledger.Account{Key: BankKey(acct.Sandbox, acct.IBAN, acct.Currency), Kind: ledger.KindBank, Asset: acct.Currency})
		if err != nil {
			return err
		}
		_, err = ledger.EnsureAccount(ctx, tx, ledger.Account{Key: SuspenseKey(acct.Sandbox, acct.IBAN, acct.Currency), Kind: ledger.KindSuspense, Asset: acct.Currency})
		return err
	})
	if err != nil {
		return ImportResult{}, err
	}
	for start := 0; start < len(entries); start += importChunk {
		chunk := entries[start:min(start+importChunk, len(entries))]
		var part ImportResult
		err := s.DB.Tx(ctx, func(tx *store.Tx) error {
			part = ImportResult{}
			return s.importEntries(ctx, tx, acct, res.ImportID, chunk, &part)
		})
		if err != nil {
			return res, err
		}
		res.Entries += part.Entries
		res.Pending += part.Pending
		res.Imported += part.Imported
		res.Duplicates += part.Duplicates
		res.Matched += part.Matched
		res.Exceptions += part.Exceptions
	}
	_, err = s.DB.Exec(ctx, "UPDATE bank_imports SET entries = ?, imported = ?, duplicates = ?, matched = ?, exceptions = ? WHERE id = ?",
		res.Entries, res.Imported, res.Duplicates, res.Matched, res.Exceptions, res.ImportID)
	return res, err
}

func (s *Service) importEntries(ctx context.Context, tx *store.Tx, acct Account, importID int64, entries []bankfile.Entry, res *ImportResult) error {
	bank, err := ledger.AccountByKey(ctx, tx, BankKey(acct.Sandbox, acct.IBAN, acct.Currency))
	if err != nil {
		return err
	}
	suspense, err := ledger.AccountByKey(ctx, tx, SuspenseKey(acct.Sandbox, acct.IBAN, acct.Currency))
	if err != nil {
		return err
	}
	now := s.Now()
	for _, e := range entries {
		res.Entries++
		if e.Status != "" && e.Status != "BOOK" {
			res.Pending++ // pending and informational entries are not booked yet
			continue
		}
		t := Transaction{IBAN: acct.IBAN, BookingDate: date(e.BookingDate), ValueDate: date(e.ValueDate), Amount: e.Amount,
			Currency: e.Currency, Direction: e.Direction, Concept: e.Remittance, CounterpartyName: e.CounterpartyName,
			CounterpartyIBAN: e.CounterpartyIBAN, EndToEndID: e.EndToEndID, EntryRef: e.EntryRef, ReturnReason: e.ReturnReason,
			Status: StatusUnmatched, Sandbox: acct.Sandbox, CreatedAt: now}
		inserted, err := insertTransaction(ctx, tx, &t, e.Fingerprint, importID)
		if err != nil {
			return err
		}
		if !inserted {
			res.Duplicates++
			continue
		}
		res.Imported++
		// The money is in (or out of) the bank; until matched it belongs to suspense.
		from, to := suspense.ID, bank.ID
		if t.Amount.Sign() < 0 {
			from, to = bank.ID, suspense.ID
		}
		if _, err := ledger.Post(ctx, tx, ledger.Transaction{Reference: fmt.Sprintf("bank:%d", t.ID),
			Description: fmt.Sprintf("%s %s on %s: %s", t.Direction, t.Amount, t.IBAN, truncate(t.Concept, 80)),
			Postings:    ledger.Transfer(from, to, t.Currency, t.Amount.Abs().Units())}); err != nil {
			return err
		}
		matched, err := s.autoMatch(ctx, tx, acct, &t)
		if err != nil {
			return err
		}
		if matched {
			res.Matched++
		} else {
			res.Exceptions++
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
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
	iban = strings.ToUpper(strings.ReplaceAll(iban, " ", ""))
	var a Account
	err := s.DB.QueryRow(ctx, "SELECT iban, bic, holder_name, bank_name, currency, status, sandbox FROM bank_accounts WHERE iban = ?", iban).
		Scan(&a.IBAN, &a.BIC, &a.HolderName, &a.BankName, &a.Currency, &a.Status, &a.Sandbox)
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, ErrAccountNotFound.With("No operator account has IBAN "+iban+".", nil)
	}
	return a, err
}

func insertTransaction(ctx context.Context, tx *store.Tx, t *Transaction, fingerprint string, importID int64) (bool, error) {
	err := tx.QueryRow(ctx, `INSERT INTO bank_transactions (iban, fingerprint, import_id, booking_date, value_date, amount, scale, currency,
		direction, concept, counterparty_name, counterparty_iban, end_to_end_id, entry_ref, return_reason, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (iban, fingerprint) DO NOTHING RETURNING id`,
		t.IBAN, fingerprint, importID, t.BookingDate, t.ValueDate, t.Amount.Units().Int64(), t.Amount.Scale(), t.Currency, t.Direction,
		t.Concept, t.CounterpartyName, t.CounterpartyIBAN, t.EndToEndID, t.EntryRef, t.ReturnReason, t.Status,
		store.Micros(t.CreatedAt), store.Micros(t.CreatedAt)).Scan(&t.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
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

// autoMatch matches a new credit to the payment its reference names when everything agrees;
// anything doubtful goes to the exception queue. Debits are matched to our payouts.
func (s *Service) autoMatch(ctx context.Context, tx *store.Tx, acct Account, t *Transaction) (bool, error) {
	if t.Direction == bankfile.Debit {
		return s.matchDebit(ctx, tx, acct, t)
	}
	if t.ReturnReason != "" {
		return s.matchReturn(ctx, tx, acct, t)
	}
	refs := concepts(t.Concept, s.ReferenceLength, s.ValidReference)
	if len(refs) == 0 {
		return false, s.setException(ctx, tx, t, ExceptionNoReference)
	}
	var p Payable
	found := false
	for _, ref := range refs {
		var err error
		if p, found, err = s.Payments.ByConcept(ctx, tx, ref); err != nil {
			return false, err
		}
		if found {
			break
		}
	}
	if !found {
		return false, s.setException(ctx, tx, t, ExceptionUnknownReference)
	}
	t.PaymentID = p.ID
	if _, err := tx.Exec(ctx, "UPDATE bank_transactions SET payment_id = ? WHERE id = ?", p.ID, t.ID); err != nil {
		return false, err
	}
	kind := ""
	switch {
	case p.IBAN != acct.IBAN:
		kind = ExceptionWrongAccount
	case p.Currency != t.Currency:
		kind = ExceptionCurrency
	case p.Status == "expired":
		kind = ExceptionLate
	case p.Status != "started" && p.Status != "pending_bank":
		kind = ExceptionDuplicate
	case t.Amount.Cmp(p.Amount) < 0:
		kind = ExceptionUnderpayment
	case t.Amount.Cmp(p.Amount) > 0:
		kind = ExceptionOverpayment
	}
	if kind != "" {
		return false, s.setException(ctx, tx, t, kind)
	}
	return true, s.match(ctx, tx, acct, t, p)
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
