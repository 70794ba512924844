package banking

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pocketramp/pocketramp/internal/bankfile"
	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

// camtStmt writes one camt.053.001.02 <Stmt>: account is an IBAN or "othr:<id>"; entries are
// raw <Ntry> elements.
func camtStmt(id string, seq int, account, ccy, opening, closing string, entries ...string) string {
	acct := "<IBAN>" + account + "</IBAN>"
	if other, ok := strings.CutPrefix(account, "othr:"); ok {
		acct = "<Othr><Id>" + other + "</Id><SchmeNm><Prtry>CLABE</Prtry></SchmeNm></Othr>"
	}
	bal := func(tp, amt string) string {
		ind := "CRDT"
		if strings.HasPrefix(amt, "-") {
			ind, amt = "DBIT", amt[1:]
		}
		return fmt.Sprintf(`<Bal><Tp><CdOrPrtry><Cd>%s</Cd></CdOrPrtry></Tp><Amt Ccy="%s">%s</Amt><CdtDbtInd>%s</CdtDbtInd><Dt><Dt>2026-12-04</Dt></Dt></Bal>`, tp, ccy, amt, ind)
	}
	return fmt.Sprintf(`<Stmt><Id>%s</Id><ElctrncSeqNb>%d</ElctrncSeqNb><CreDtTm>2026-12-05T06:00:00</CreDtTm><Acct><Id>%s</Id><Ccy>%s</Ccy></Acct>%s%s%s</Stmt>`,
		id, seq, acct, ccy, bal("OPBD", opening), bal("CLBD", closing), strings.Join(entries, ""))
}

// ntry writes a <Ntry>: amount signed; booked "" leaves BookgDt out; status BOOK/PDNG.
func ntry(ref, ccy, amount, status, booked, remittance string) string {
	ind := "CRDT"
	if strings.HasPrefix(amount, "-") {
		ind, amount = "DBIT", amount[1:]
	}
	bd := ""
	if booked != "" {
		bd = "<BookgDt><Dt>" + booked + "</Dt></BookgDt>"
	}
	return fmt.Sprintf(`<Ntry><Amt Ccy="%s">%s</Amt><CdtDbtInd>%s</CdtDbtInd><Sts>%s</Sts>%s<ValDt><Dt>2026-12-03</Dt></ValDt><AcctSvcrRef>%s</AcctSvcrRef><BkTxCd/><NtryDtls><TxDtls><RmtInf><Ustrd>%s</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>`,
		ccy, amount, ind, status, bd, ref, remittance)
}

func camtFile(stmts ...string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>` +
		`<GrpHdr><MsgId>MSG</MsgId><CreDtTm>2026-12-05T06:00:00</CreDtTm></GrpHdr>` + strings.Join(stmts, "") + `</BkToCstmrStmt></Document>`)
}

// noPayments is an on-ramp without payments.
type noPayments struct{}

func (p noPayments) ByConcepts(ctx context.Context, tx *store.Tx, concepts []string) (map[string]Payable, error) {
	return map[string]Payable{}, nil
}
func (p noPayments) ByID(ctx context.Context, tx *store.Tx, owned func(int64) bool, id string) (Payable, bool, error) {
	return Payable{}, false, nil
}
func (p noPayments) Receive(ctx context.Context, tx *store.Tx, id string, amount money.Amount, holder, fromKey string) error {
	return nil
}
func (p noPayments) ReceiveMany(ctx context.Context, tx *store.Tx, rs []Receipt) error { return nil }

func newImportService(t *testing.T, db *store.DB) (*Service, Account, Account) {
	t.Helper()
	s, eur, _ := newPayoutService(t, db)
	mxn, err := s.Accounts.Register(context.Background(), Account{IBAN: "012180001234567897", Scheme: "CLABE", BIC: "BCMRMXMMXXX",
		HolderName: "Operadora MX", Currency: "MXN"})
	if err != nil {
		t.Fatal(err)
	}
	s.Payments = noPayments{}
	s.ValidReference = func(string) bool { return false }
	s.ReferenceLength = 12
	return s, eur, mxn
}

func count(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A file with statements for two registered accounts (one without IBAN, in MXN) and one
// unknown account: each goes to its account, the unknown one is reported; zero amounts are
// recorded without postings, pending entries stay out, a missing booking date falls back to
// the value date; a balance mismatch and a sequence gap import with warnings.
func TestImportMultiAccountFile(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, eur, mxn := newImportService(t, db)
		file := camtFile(
			camtStmt("EUR-1", 1, eur.IBAN, "EUR", "100.00", "110.00",
				ntry("E1", "EUR", "10.00", "BOOK", "2026-12-04", "hello"),
				ntry("E2", "EUR", "0.00", "BOOK", "2026-12-04", "card check"),
				ntry("E3", "EUR", "99.00", "PDNG", "2026-12-04", "pending")),
			camtStmt("MXN-1", 7, "othr:"+mxn.IBAN, "MXN", "0.00", "999.00",
				ntry("M1", "MXN", "500.50", "BOOK", "", "sin fecha de asiento")),
			camtStmt("XX-1", 1, "DE89370400440532013000", "EUR", "0.00", "1.00", ntry("X1", "EUR", "1.00", "BOOK", "2026-12-04", "x")),
		)
		stmts, err := bankfile.Parse(file, bankfile.ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		before := counterValue(statementWarningsTotal, "balance_mismatch")
		res, err := s.Import(ctx, eur.IBAN, "test", file, stmts)
		if err != nil {
			t.Fatal(err)
		}
		if res.Imported != 2 || res.ZeroAmount != 1 || res.Pending != 1 || len(res.Statements) != 2 ||
			len(res.Skipped) != 1 || res.Skipped[0].Account != "DE89370400440532013000" || res.Skipped[0].Entries != 1 {
			t.Fatalf("result: %+v", res)
		}
		if len(res.Warnings) != 1 || !strings.HasPrefix(res.Warnings[0], "balance_mismatch: account "+mxn.IBAN) {
			t.Fatalf("warnings: %q", res.Warnings)
		}
		if got := counterValue(statementWarningsTotal, "balance_mismatch"); got != before+1 {
			t.Errorf("balance_mismatch metric rose by %v", got-before)
		}
		list, _, _ := s.Transactions(ctx, mxn.IBAN, TxFilter{}, 1, 10)
		if len(list) != 1 || list[0].BookingDate != "2026-12-03" || list[0].Amount.String() != "500.50" || list[0].Currency != "MXN" {
			t.Fatalf("MXN account transactions: %+v", list)
		}
		list, _, _ = s.Transactions(ctx, eur.IBAN, TxFilter{Status: StatusIgnored}, 1, 10)
		if len(list) != 1 || !list[0].Amount.IsZero() {
			t.Fatalf("zero amount entry: %+v", list)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM ledger_transactions WHERE reference = ?", fmt.Sprintf("bank:%d", list[0].ID)); n != 0 {
			t.Fatalf("zero amount entry posted %d transactions", n)
		}
		bank, _ := ledger.AccountByKey(ctx, db, BankKey(false, mxn.IBAN, "MXN"))
		if bank.Balance.String() != "50050" {
			t.Fatalf("MXN bank balance %s", bank.Balance)
		}
		// The next statement of the EUR account skips number 2 and 3.
		next := camtFile(camtStmt("EUR-4", 4, eur.IBAN, "EUR", "110.00", "110.00"))
		stmts, _ = bankfile.Parse(next, bankfile.ParseOptions{})
		res, err = s.Import(ctx, eur.IBAN, "test", next, stmts)
		if err != nil || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "statement 2 to 3 missing") {
			t.Fatalf("sequence gap: %q %v", res.Warnings, err)
		}
		// Importing the first file again adds nothing and warns of nothing new about sequences.
		stmts, _ = bankfile.Parse(file, bankfile.ParseOptions{})
		res, err = s.Import(ctx, eur.IBAN, "test", file, stmts)
		if err != nil || res.Imported != 0 || res.Duplicates != 3 {
			t.Fatalf("re-import: %+v %v", res, err)
		}
		verifyLedger(t, db)
	})
}

// failingPayments fails the lookup of one reference: an import error half-way through a file.
type failingPayments struct{ noPayments }

func (failingPayments) ByConcepts(ctx context.Context, tx *store.Tx, concepts []string) (map[string]Payable, error) {
	if slices.Contains(concepts, "999999999999") {
		return nil, errors.New("database went away")
	}
	return map[string]Payable{}, nil
}

// A file that fails at entry 520 leaves nothing behind: no transaction, no posting, no import.
func TestImportIsAtomic(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, eur, _ := newImportService(t, db)
		s.Payments = failingPayments{}
		s.ValidReference = func(c string) bool { return c == "999999999999" }
		var entries []string
		for i := 1; i <= 600; i++ {
			rem := fmt.Sprintf("transfer %d", i)
			if i == 520 {
				rem = "ref 999999999999"
			}
			entries = append(entries, ntry(fmt.Sprintf("R%d", i), "EUR", "1.00", "BOOK", "2026-12-04", rem))
		}
		file := camtFile(camtStmt("BIG", 1, eur.IBAN, "EUR", "0.00", "600.00", entries...))
		stmts, err := bankfile.Parse(file, bankfile.ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Import(ctx, eur.IBAN, "test", file, stmts); err == nil {
			t.Fatal("import succeeded")
		}
		for _, q := range []string{"SELECT COUNT(*) FROM bank_transactions", "SELECT COUNT(*) FROM bank_imports",
			"SELECT COUNT(*) FROM bank_statements", "SELECT COUNT(*) FROM ledger_transactions WHERE reference LIKE 'bank:%'"} {
			if n := count(t, db, q); n != 0 {
				t.Errorf("%s = %d after a failed import", q, n)
			}
		}
		// Once the cause is gone the same file imports whole.
		s.Payments = noPayments{}
		res, err := s.Import(ctx, eur.IBAN, "test", file, stmts)
		if err != nil || res.Imported != 600 || len(res.Warnings) != 0 {
			t.Fatalf("second attempt: %+v %v", res, err)
		}
		verifyLedger(t, db)
	})
}

// One debit booked for a whole pain.001 batch (NtryDtls/Btch with our PmtInfId, no
// per-payout details) confirms all its 250 payouts.
func TestBatchBookedDebitConfirmsItsPayouts(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, eur, heard := newPayoutService(t, db)
		eur.BatchBooking = true
		if _, err := s.Accounts.Register(ctx, eur); err != nil {
			t.Fatal(err)
		}
		var reqs []PayoutRequest
		for i := 0; i < 250; i++ {
			reqs = append(reqs, PayoutRequest{Reference: fmt.Sprintf("p%d", i), Amount: money.MustParse("100.00", 2),
				CreditorName: "Ana", CreditorIBAN: "ES7921000813610123456789"})
		}
		queue(t, s, eur.IBAN, reqs...)
		b, ok, err := s.ExportBatch(ctx, eur.IBAN)
		if err != nil || !ok || b.Payments != 250 || !strings.Contains(string(b.File), "<BtchBookg>true</BtchBookg>") {
			t.Fatalf("export: %v %v %d", ok, err, b.Payments)
		}
		entry := func(msgID string, n int, total string) string {
			return fmt.Sprintf(`<Ntry><Amt Ccy="EUR">%s</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-12-05</Dt></BookgDt><AcctSvcrRef>B-%s-%d</AcctSvcrRef><BkTxCd/><NtryDtls><Btch><MsgId>%s</MsgId><PmtInfId>%s</PmtInfId><NbOfTxs>%d</NbOfTxs><TtlAmt Ccy="EUR">%s</TtlAmt><CdtDbtInd>DBIT</CdtDbtInd></Btch></NtryDtls></Ntry>`,
				total, msgID, n, msgID, msgID, n, total)
		}
		// A batch debit that does not add up is not ours to confirm.
		file := camtFile(camtStmt("S1", 1, eur.IBAN, "EUR", "30000.00", "5000.00", entry(b.MessageID, 249, "25000.00")))
		stmts, _ := bankfile.Parse(file, bankfile.ParseOptions{})
		res, err := s.Import(ctx, eur.IBAN, "test", file, stmts)
		if err != nil || res.Matched != 0 || res.Exceptions != 1 {
			t.Fatalf("wrong count: %+v %v", res, err)
		}
		file = camtFile(camtStmt("S2", 2, eur.IBAN, "EUR", "5000.00", "-20000.00", entry(b.MessageID, 250, "25000.00")))
		stmts, _ = bankfile.Parse(file, bankfile.ParseOptions{})
		res, err = s.Import(ctx, eur.IBAN, "test", file, stmts)
		if err != nil || res.Matched != 1 || res.Exceptions != 0 {
			t.Fatalf("batch debit: %+v %v", res, err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM bank_payouts WHERE status = 'confirmed'"); n != 250 || len(heard.settled) != 250 {
			t.Fatalf("%d payouts confirmed, owner heard %d", n, len(heard.settled))
		}
		payable, _ := ledger.AccountByKey(ctx, db, PayoutPayableKey(false, "EUR"))
		if payable.Balance.Sign() != 0 {
			t.Fatalf("payout payable %s after the batch debit", payable.Balance)
		}
		verifyLedger(t, db)
	})
}

// Two imports of the same file at once store each entry once: the one that loses the race (on
// PostgreSQL it has read the fingerprints before the other committed) is run again and finds
// every entry a duplicate; the bank account is posted once per entry.
func TestConcurrentImportsOfOneFile(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, eur, _ := newImportService(t, db)
		// an earlier file creates the account's ledger accounts, so the two imports do not
		// queue behind each other's creation of them
		if _, err := s.ImportFile(ctx, eur.IBAN, "test", camtFile(camtStmt("EUR-0", 1, eur.IBAN, "EUR", "0.00", "1.00",
			ntry("W", "EUR", "1.00", "BOOK", "2026-12-04", "first"))), nil); err != nil {
			t.Fatal(err)
		}
		var entries []string
		const n = 2000 // more than a chunk: the race is then likely on PostgreSQL
		for i := range n {
			entries = append(entries, ntry(fmt.Sprintf("C%d", i), "EUR", "1.00", "BOOK", "2026-12-04", "transfer"))
		}
		file := camtFile(camtStmt("EUR-1", 2, eur.IBAN, "EUR", "1.00", "2001.00", entries...))
		results := make(chan ImportResult, 2)
		errs := make(chan error, 2)
		for range 2 {
			go func() {
				res, err := s.ImportFile(ctx, eur.IBAN, "test", file, nil)
				results <- res
				errs <- err
			}()
		}
		imported, duplicates := 0, 0
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
			res := <-results
			imported += res.Imported
			duplicates += res.Duplicates
		}
		if imported != n || duplicates != n {
			t.Fatalf("imported %d, duplicates %d; want %d each", imported, duplicates, n)
		}
		if got := count(t, db, "SELECT COUNT(*) FROM bank_transactions WHERE iban = ?", eur.IBAN); got != n+1 {
			t.Fatalf("%d rows", got)
		}
		if got := count(t, db, "SELECT COUNT(*) FROM ledger_transactions WHERE reference LIKE 'bank:%'"); got != n+1 {
			t.Fatalf("%d bank postings", got)
		}
	})
}

// A chunk's insert that meets an entry another import stored since the fingerprints were read
// (the race above, made certain) fails with store.ErrConflict, which retries the import: on
// PostgreSQL through COPY (a unique violation), on SQLite through ON CONFLICT DO NOTHING.
func TestInsertTransactionsConflict(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, eur, _ := newImportService(t, db)
		if _, err := s.ImportFile(ctx, eur.IBAN, "test", camtFile(camtStmt("EUR-0", 1, eur.IBAN, "EUR", "0.00", "1.00",
			ntry("W", "EUR", "1.00", "BOOK", "2026-12-04", "first"))), nil); err != nil {
			t.Fatal(err)
		}
		var taken string
		var importID int64
		if err := db.QueryRow(ctx, "SELECT fingerprint, import_id FROM bank_transactions WHERE iban = ?", eur.IBAN).Scan(&taken, &importID); err != nil {
			t.Fatal(err)
		}
		n := 2 * store.CopyMinRows
		ts := make([]Transaction, n)
		fps := make([]string, n)
		fresh := make([]bool, n)
		for i := range ts {
			ts[i] = Transaction{IBAN: eur.IBAN, BookingDate: "2026-12-04", Amount: money.MustParse("1.00", 2), Currency: "EUR",
				Direction: bankfile.Credit, Status: StatusUnmatched}
			fps[i], fresh[i] = fmt.Sprintf("fp-%d", i), true
		}
		fps[n/2] = taken
		undo := errors.New("undo")
		var got error
		err := db.Tx(ctx, func(tx *store.Tx) error {
			got = insertTransactions(ctx, tx, ts, fps, fresh, importID)
			return undo
		})
		if !errors.Is(err, undo) {
			t.Fatal(err)
		}
		if !errors.Is(got, store.ErrConflict) {
			t.Fatalf("insert meeting a stored entry: %v, want store.ErrConflict", got)
		}
		if c := count(t, db, "SELECT COUNT(*) FROM bank_transactions WHERE iban = ?", eur.IBAN); c != 1 {
			t.Fatalf("%d rows, want the first file's 1", c)
		}
		// Without the conflict every row is stored with its id.
		fps[n/2] = "fp-free"
		err = db.Tx(ctx, func(tx *store.Tx) error { return insertTransactions(ctx, tx, ts, fps, fresh, importID) })
		if err != nil {
			t.Fatal(err)
		}
		for i, tr := range ts {
			var fp string
			if err := db.QueryRow(ctx, "SELECT fingerprint FROM bank_transactions WHERE id = ?", tr.ID).Scan(&fp); err != nil || fp != fps[i] {
				t.Fatalf("row %d: id %d has fingerprint %q (err %v), want %q", i, tr.ID, fp, err, fps[i])
			}
		}
	})
}
