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

// Formats reported in Statement.Format. A camt statement reports its exact
// message and version ("camt.052.001.04", "camt.053.001.02", ...): see
// CAMTFormat.
const (
	FormatCAMT053v02 = "camt.053.001.02"
	FormatCAMT053v08 = "camt.053.001.08"
	FormatCAMT054v02 = "camt.054.001.02"
	FormatCAMT054v08 = "camt.054.001.08"
	FormatMT940      = "mt940"
	FormatNorma43    = "norma43"
	FormatCSV        = "csv"
)

// Kinds of report, in Statement.Kind.
const (
	// KindStatement is an end-of-period account statement (camt.053 Stmt,
	// MT940, Norma 43, a CSV export): its booked entries and balances are
	// authoritative.
	KindStatement = "statement"
	// KindReport is an intraday account report (camt.052 Rpt): entries may
	// still change status and balances are interim.
	KindReport = "report"
	// KindNotification is a debit/credit notification (camt.054 Ntfctn):
	// individual movements, usually without balances.
	KindNotification = "notification"
)

// Entry statuses. camt ExternalEntryStatus1Code FUTR (a future booking) is
// reported as PDNG; any other proprietary status is kept as sent and is not
// booked.
const (
	StatusBooked  = "BOOK"
	StatusPending = "PDNG"
	StatusInfo    = "INFO"
)

// Directions of an Entry or Balance.
const (
	Credit = "credit"
	Debit  = "debit"
)

// Where an Entry's BookingDate came from (Entry.BookingDateSource). Booking
// dates are optional in camt (BookgDt is 0..1 in every version) and absent
// from some MT940 lines; the parser falls back so every entry has a date.
const (
	DateFromBooking   = "booking"   // the bank's booking date
	DateFromValue     = "value"     // no booking date: the value date
	DateFromStatement = "statement" // neither: the statement's date (end of period, else creation)
)

// Account identifies the account a statement is for: an IBAN, or another
// identifier (camt Acct/Id/Othr/Id with its SchmeNm, an MT940 ":25:" that is
// no IBAN such as "BLZ/account", a CLABE, CBU ...).
type Account struct {
	IBAN string `json:"iban,omitempty"`
	// Other is the non-IBAN identifier, compacted (no spaces); Scheme is its
	// SchmeNm/Cd (e.g. BBAN, CUID) or SchmeNm/Prtry, "" when not given.
	Other  string `json:"other,omitempty"`
	Scheme string `json:"scheme,omitempty"`
	// Currency is the account's own currency (Acct/Ccy), "" when not given.
	Currency string `json:"currency,omitempty"`
	Name     string `json:"name,omitempty"`
	// ServicerBIC is the account servicer's BIC (Acct/Svcr/FinInstnId),
	// or the MT940 sender's when the file gives one.
	ServicerBIC string `json:"servicer_bic,omitempty"`
}

// ID is the IBAN, else the other identifier.
func (a Account) ID() string {
	if a.IBAN != "" {
		return a.IBAN
	}
	return a.Other
}

// Balance is one balance of a statement. Amount is signed (debit negative)
// in Currency's minor units.
type Balance struct {
	// Type is the camt BalanceType12Code (OPBD, CLBD, PRCD, ITBD, CLAV,
	// ...) or proprietary code; MT940 and Norma 43 balances are mapped to
	// OPBD/CLBD (interim MT940 ":60M:"/":62M:" to ITBD... see mt940.go).
	Type      string       `json:"type"`
	Amount    money.Amount `json:"amount"`
	Currency  string       `json:"currency"`
	Direction string       `json:"direction"`
	Date      time.Time    `json:"date,omitzero"`
}

// Statement is one account statement (camt.053 <Stmt>, an MT940 statement,
// a Norma 43 account group), intraday report (camt.052 <Rpt>), notification
// (camt.054 <Ntfctn>) or CSV export, reduced to what reconciliation needs.
// A file carries one or more, possibly for several accounts.
type Statement struct {
	Format      string  `json:"format"`
	Kind        string  `json:"kind"`         // KindStatement, KindReport or KindNotification
	MessageID   string  `json:"message_id"`   // GrpHdr/MsgId; MT940 :20:
	StatementID string  `json:"statement_id"` // Stmt/Id, Rpt/Id or Ntfctn/Id; MT940 :28C:
	Account     Account `json:"account"`
	// AccountIBAN is Account.IBAN ("" for an account identified otherwise).
	AccountIBAN string `json:"account_iban"`
	// Currency is Acct/Ccy, else the closing (then opening) balance's
	// currency, else the first entry's.
	Currency string `json:"currency"`
	// CreatedAt is Stmt/CreDtTm, else GrpHdr/CreDtTm. Date-times without a
	// zone are taken as UTC.
	CreatedAt time.Time `json:"created_at,omitzero"`
	// From and To are the reported period (FrToDt) when the file gives one;
	// for CSV the first and last booking dates.
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
	// SequenceNumber is the statement's number in the account's sequence:
	// camt LglSeqNb, MT940 :28C: statement number. ElectronicSequence is
	// camt ElctrncSeqNb. Page is the page (camt StmtPgntn/PgNb, MT940 :28C:
	// sequence number). 0 when absent.
	SequenceNumber     int64 `json:"sequence_number,omitempty"`
	ElectronicSequence int64 `json:"electronic_sequence,omitempty"`
	Page               int64 `json:"page,omitempty"`
	// OpeningBalance is OPBD (else PRCD, the previous closing); ClosingBalance
	// is CLBD. Balances lists every balance the file gives, in order.
	OpeningBalance *Balance  `json:"opening_balance"`
	ClosingBalance *Balance  `json:"closing_balance"`
	Balances       []Balance `json:"balances,omitempty"`
	Entries        []Entry   `json:"entries"`
}

// AccountID is the statement account's IBAN or other identifier.
func (s *Statement) AccountID() string { return s.Account.ID() }

// BatchInfo describes a batch booking: one bank entry for several transfers
// (camt NtryDtls/Btch). A pain.001 payment information block booked as one
// debit carries our PmtInfId here.
type BatchInfo struct {
	MessageID     string `json:"message_id,omitempty"`
	PaymentInfoID string `json:"payment_info_id,omitempty"`
	// Transactions is NbOfTxs (0 when not given).
	Transactions int `json:"transactions,omitempty"`
	// Total is TtlAmt, signed by its CdtDbtInd (else the entry's), in
	// TotalCurrency (the entry's unless TtlAmt says otherwise); nil when not
	// given.
	Total         *money.Amount `json:"total,omitempty"`
	TotalCurrency string        `json:"total_currency,omitempty"`
}

// Entry is one booked (or pending) movement on the account. A camt <Ntry>
// with several <TxDtls> (a batch booking with details) yields one Entry per
// transaction; a batch without per-transaction details is one Entry whose
// Batch says what it covers.
type Entry struct {
	// EntryRef is the bank's reference: TxDtls/Refs/AcctSvcrRef, else
	// Ntry/AcctSvcrRef, else Ntry/NtryRef; MT940 :61: bank reference; the
	// Reference column for CSV.
	EntryRef string `json:"entry_ref"`
	// BookingDate and ValueDate are calendar dates (midnight UTC of the date
	// the bank reported, in the bank's own zone when it sent a date-time).
	// BookingDate is always set: BookingDateSource says whether it is the
	// bank's booking date or a fallback. ValueDate is zero when absent.
	BookingDate       time.Time `json:"booking_date"`
	BookingDateSource string    `json:"booking_date_source"`
	ValueDate         time.Time `json:"value_date,omitzero"`
	// Amount is signed: credits positive, debits negative, in Currency's
	// ISO 4217 minor units; it may be zero (fees waived, card checks). The
	// sign always follows CdtDbtInd, also for reversals: ISO 20022 defines a
	// CRDT entry with RvslInd=true as the reversal of an earlier debit, so it
	// adds to the balance like any credit; Reversal marks it.
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
	// CounterpartyAccount is its non-IBAN account id when it has no IBAN.
	CounterpartyName    string `json:"counterparty_name"`
	CounterpartyIBAN    string `json:"counterparty_iban"`
	CounterpartyAccount string `json:"counterparty_account,omitempty"`
	CounterpartyBIC     string `json:"counterparty_bic,omitempty"`
	EndToEndID          string `json:"end_to_end_id"` // "" when NOTPROVIDED
	TxID                string `json:"tx_id"`
	InstructionID       string `json:"instruction_id"`
	// PaymentInfoID is TxDtls/Refs/PmtInfId (camt .04 and later).
	PaymentInfoID string `json:"payment_info_id,omitempty"`
	ReturnReason  string `json:"return_reason"` // RtrInf/Rsn/Cd (or Prtry)
	// BankTxCode is Domn/Cd + "/" + Fmly/Cd + "/" + SubFmlyCd, else the
	// proprietary Prtry/Cd; MT940 the ":61:" transaction type (e.g.
	// "NTRF"); Norma 43 the common + own concept codes.
	BankTxCode string `json:"bank_tx_code"`
	// Batch is set when the bank booked this entry as (part of) a batch.
	Batch *BatchInfo `json:"batch,omitempty"`
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
// what a mismatch means (pocketramp imports with a warning).
func (s *Statement) CheckBalances() error {
	var b BalanceCheck
	for _, e := range s.Entries {
		b.Add(e)
	}
	return b.Check(s)
}

// BalanceCheck is CheckBalances for entries that stream by (StreamCAMT): Add each entry of
// the statement in order, then Check the complete statement. Its zero value is ready.
type BalanceCheck struct {
	kinds []bookedKind // the booked entries' currency and scale, in order of first appearance
}

type bookedKind struct {
	currency string
	scale    int
	firstRef string       // EntryRef of the first booked entry of this kind
	sum      money.Amount // the booked entries of this kind
}

// Add counts entry e.
func (b *BalanceCheck) Add(e Entry) {
	if e.Status != StatusBooked {
		return
	}
	for i := range b.kinds {
		if k := &b.kinds[i]; k.currency == e.Currency && k.scale == e.Amount.Scale() {
			k.sum = k.sum.Add(e.Amount)
			return
		}
	}
	b.kinds = append(b.kinds, bookedKind{currency: e.Currency, scale: e.Amount.Scale(), firstRef: e.EntryRef, sum: e.Amount})
}

// Check reports whether the opening balance of s plus the entries added equals its closing
// balance (see CheckBalances).
func (b *BalanceCheck) Check(s *Statement) error {
	if s.OpeningBalance == nil || s.ClosingBalance == nil {
		return fmt.Errorf("statement %s has no opening and closing balance", s.StatementID)
	}
	open, closing := s.OpeningBalance, s.ClosingBalance
	if open.Currency != closing.Currency {
		return fmt.Errorf("statement %s: opening balance in %s, closing balance in %s", s.StatementID, open.Currency, closing.Currency)
	}
	sum := open.Amount
	for _, k := range b.kinds {
		// Kinds are in order of first appearance: the first one unlike the balances names
		// the first entry unlike them.
		if k.currency != open.Currency || k.scale != sum.Scale() {
			return fmt.Errorf("statement %s: entry %s is in %s, the balances in %s", s.StatementID, k.firstRef, k.currency, open.Currency)
		}
		sum = sum.Add(k.sum)
	}
	if !sum.Equal(closing.Amount) {
		return fmt.Errorf("statement %s: opening balance %s plus booked entries is %s, closing balance is %s",
			s.StatementID, open.Amount, sum, closing.Amount)
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
// shorter than s.Entries. seen carries the ordinals across the statements of
// one file (the key includes the account), so identical-looking movements of
// one day split over two pages of a statement stay distinct.
func fingerprint(s *Statement, bankRefs []string, seen map[string]int) {
	for i := range s.Entries {
		ref := ""
		if i < len(bankRefs) {
			ref = bankRefs[i]
		}
		fingerprintEntry(&s.Entries[i], s.AccountID(), ref, seen)
	}
}

// fingerprintEntry fills e.Fingerprint, e being the next entry of account acctID in the file.
func fingerprintEntry(e *Entry, acctID, bankRef string, seen map[string]int) {
	status := ""
	if e.Status != StatusBooked {
		status = e.Status
	}
	if bankRef != "" {
		// A repeated reference is a bank bug, not a reason to lose a
		// movement: repeats get their ordinal.
		key := digest("ref", acctID, bankRef, day(e.BookingDate), e.Amount.String(), e.Currency, status)
		n := seen[key]
		seen[key] = n + 1
		if n > 0 {
			key = digest(key, strconv.Itoa(n))
		}
		e.Fingerprint = "ref:" + key
		return
	}
	key := digest("hash", acctID, day(e.BookingDate), day(e.ValueDate), e.Amount.String(),
		e.Currency, e.EndToEndID, e.Remittance, e.CounterpartyName, e.CounterpartyIBAN, e.EntryRef, status)
	n := seen[key]
	seen[key] = n + 1
	e.Fingerprint = "hash:" + digest(key, strconv.Itoa(n))
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
	var buf [512]byte
	b := buf[:0]
	for _, f := range fields {
		b = strconv.AppendInt(b, int64(len(f)), 10)
		b = append(append(append(b, ':'), f...), ';')
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
