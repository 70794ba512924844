// Package bankfile reads and writes the bank file formats pocketramp exchanges
// with its banks: ISO 20022 statements and notifications (camt.053 and
// camt.054, versions .001.02 and .001.08) and CSV exports, all parsed into one
// neutral Statement model, and SEPA credit transfer initiations (pain.001,
// versions .001.03 and .001.09).
//
// Parsers are strict: a file with one bad element is rejected whole, with a
// *FormatError naming the element path (XML) or line and column (CSV), so an
// operator never imports half a statement. Amounts are exact (money.Amount at
// the currency's ISO 4217 scale); nothing goes through floating point.
package bankfile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/money"
)

// Formats reported in Statement.Format.
const (
	FormatCAMT053v02 = "camt.053.001.02"
	FormatCAMT053v08 = "camt.053.001.08"
	FormatCAMT054v02 = "camt.054.001.02"
	FormatCAMT054v08 = "camt.054.001.08"
	FormatCSV        = "csv"
)

// Entry statuses (camt ExternalEntryStatus1Code values in use).
const (
	StatusBooked  = "BOOK"
	StatusPending = "PDNG"
	StatusInfo    = "INFO"
)

// Directions of an Entry.
const (
	Credit = "credit"
	Debit  = "debit"
)

// Statement is one account statement (camt.053 <Stmt>), notification
// (camt.054 <Ntfctn>) or CSV export, reduced to what reconciliation needs.
type Statement struct {
	Format      string `json:"format"`
	MessageID   string `json:"message_id"`   // GrpHdr/MsgId
	StatementID string `json:"statement_id"` // Stmt/Id or Ntfctn/Id
	AccountIBAN string `json:"account_iban"`
	Currency    string `json:"currency"` // Acct/Ccy, else the first entry's currency
	// CreatedAt is Stmt/CreDtTm, else GrpHdr/CreDtTm. Date-times without a
	// zone are taken as UTC.
	CreatedAt time.Time `json:"created_at,omitzero"`
	// From and To are the reported period (FrToDt) when the file gives one;
	// for CSV the first and last booking dates.
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
	// OpeningBalance and ClosingBalance are the OPBD and CLBD balances of a
	// camt.053, signed (DBIT negative); nil when absent.
	OpeningBalance *money.Amount `json:"opening_balance"`
	ClosingBalance *money.Amount `json:"closing_balance"`
	Entries        []Entry       `json:"entries"`
}

// Entry is one booked (or pending) movement on the account. A camt <Ntry>
// with several <TxDtls> (a batch booking) yields one Entry per transaction.
type Entry struct {
	// EntryRef is the bank's reference: TxDtls/Refs/AcctSvcrRef, else
	// Ntry/AcctSvcrRef, else Ntry/NtryRef; the Reference column for CSV.
	EntryRef string `json:"entry_ref"`
	// BookingDate and ValueDate are calendar dates (midnight UTC of the date
	// the bank reported, in the bank's own zone when it sent a date-time).
	// ValueDate is zero when absent.
	BookingDate time.Time `json:"booking_date"`
	ValueDate   time.Time `json:"value_date,omitzero"`
	// Amount is signed: credits positive, debits negative. The sign always
	// follows CdtDbtInd, also for reversals: ISO 20022 defines a CRDT entry
	// with RvslInd=true as the reversal of an earlier debit, so it adds to the
	// balance like any credit; Reversal marks it.
	Amount    money.Amount `json:"amount"`
	Currency  string       `json:"currency"`
	Direction string       `json:"direction"` // Credit or Debit
	Reversal  bool         `json:"reversal"`
	Status    string       `json:"status"` // BOOK, PDNG, INFO (or a proprietary status)
	// Remittance is the RmtInf/Ustrd lines joined with " ", followed by any
	// Strd/CdtrRefInf/Ref. Without RmtInf it falls back to AddtlTxInf, then
	// AddtlNtryInf, because several banks put the payer's concept there.
	Remittance string `json:"remittance"`
	// The counterparty is the debtor for credits and the creditor for debits.
	CounterpartyName string `json:"counterparty_name"`
	CounterpartyIBAN string `json:"counterparty_iban"`
	EndToEndID       string `json:"end_to_end_id"` // "" when NOTPROVIDED
	TxID             string `json:"tx_id"`
	InstructionID    string `json:"instruction_id"`
	ReturnReason     string `json:"return_reason"` // RtrInf/Rsn/Cd (or Prtry)
	// BankTxCode is Domn/Cd + "/" + Fmly/Cd + "/" + SubFmlyCd, else the
	// proprietary Prtry/Cd.
	BankTxCode string `json:"bank_tx_code"`
	// Fingerprint identifies the movement across re-imports and overlapping
	// statements; see fingerprint.
	Fingerprint string `json:"fingerprint"`
}

// FormatError is a rejected file. For XML, Path is the element path
// ("Document/BkToCstmrStmt/Stmt[1]/Ntry[3]/Amt", 1-based indexes) and Line
// is set for syntax errors; for CSV, Line is the 1-based line of the input and
// Column the column's header name (or "column N").
type FormatError struct {
	Path   string
	Line   int
	Column string
	Msg    string
}

func (e *FormatError) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
	}
	if e.Line > 0 {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
	}
	if e.Column != "" {
		b.WriteString(", ")
		b.WriteString(e.Column)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// CheckBalances reports whether the opening balance plus the booked entries
// equals the closing balance. It is not part of parsing because some banks
// omit entries (or balances) from a statement legitimately; callers decide
// whether a mismatch blocks the import.
func (s *Statement) CheckBalances() error {
	if s.OpeningBalance == nil || s.ClosingBalance == nil {
		return fmt.Errorf("statement %s has no opening and closing balance", s.StatementID)
	}
	sum := *s.OpeningBalance
	for _, e := range s.Entries {
		if e.Status != StatusBooked {
			continue
		}
		if e.Amount.Scale() != sum.Scale() {
			return fmt.Errorf("statement %s mixes currencies", s.StatementID)
		}
		sum = sum.Add(e.Amount)
	}
	if !sum.Equal(*s.ClosingBalance) {
		return fmt.Errorf("statement %s: opening balance %s plus booked entries is %s, closing balance is %s",
			s.StatementID, s.OpeningBalance, sum, s.ClosingBalance)
	}
	return nil
}

func pathErr(path, format string, args ...any) *FormatError {
	return &FormatError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// fingerprint fills Entry.Fingerprint for every entry of s.
//
// When the bank gave a reference (AcctSvcrRef, unique per account by the
// standard) the fingerprint is derived from it, so the same movement seen in
// a camt.054 notification and later in the camt.053 statement is one
// movement. The booking date and signed amount are hashed with it because
// some banks number references per day and restart the sequence. Otherwise it hashes what the movement looks like plus its
// ordinal among identical-looking entries of the same booking date: two
// genuine 10.00 EUR transfers from the same payer on one day stay distinct,
// and a statement overlapping the previous one by a day reproduces the same
// ordinals for that day. The status is part of the identity when it is not
// BOOK, so a pending entry and its later booking are not taken for
// duplicates.
//
// bankRefs[i] is the bank reference key of entry i ("" when none); it may be
// shorter than s.Entries.
func fingerprint(s *Statement, bankRefs []string) {
	seen := map[string]int{}
	for i := range s.Entries {
		e := &s.Entries[i]
		status := ""
		if e.Status != StatusBooked {
			status = e.Status
		}
		if i < len(bankRefs) && bankRefs[i] != "" {
			// A repeated reference is a bank bug, not a reason to lose a
			// movement: repeats get their ordinal.
			key := digest("ref", s.AccountIBAN, bankRefs[i], day(e.BookingDate), e.Amount.String(), e.Currency, status)
			n := seen[key]
			seen[key] = n + 1
			if n > 0 {
				key = digest(key, strconv.Itoa(n))
			}
			e.Fingerprint = "ref:" + key
			continue
		}
		key := digest("hash", s.AccountIBAN, day(e.BookingDate), day(e.ValueDate), e.Amount.String(),
			e.Currency, e.EndToEndID, e.Remittance, e.CounterpartyName, e.CounterpartyIBAN, e.EntryRef, status)
		n := seen[key]
		seen[key] = n + 1
		e.Fingerprint = "hash:" + digest(key, strconv.Itoa(n))
	}
}

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

// digest hashes length-prefixed fields so that no two field lists collide by
// concatenation; 128 bits are plenty for de-duplication.
func digest(fields ...string) string {
	h := sha256.New()
	for _, f := range fields {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
