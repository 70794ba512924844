package banking

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pocketramp/pocketramp/internal/bankfile"
	"github.com/pocketramp/pocketramp/internal/bankfile/bankfiletest"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/secret"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

// Official schemas: the shared sample data, read in place.
const xsdDir = "../../../shared/iso20022-xsd"

// payoutLog records what the payout owner (the off-ramp in production) hears.
type payoutLog struct {
	settled, returned, cancelled []string
}

func (l *payoutLog) PayoutSettled(ctx context.Context, tx *store.Tx, reference string, returned bool) error {
	if returned {
		l.returned = append(l.returned, reference)
	} else {
		l.settled = append(l.settled, reference)
	}
	return nil
}

func (l *payoutLog) PayoutCancelled(ctx context.Context, tx *store.Tx, reference, note string) error {
	l.cancelled = append(l.cancelled, reference)
	return nil
}

// newPayoutService returns a service with one production EUR account.
func newPayoutService(t *testing.T, db *store.DB) (*Service, Account, *payoutLog) {
	t.Helper()
	now := func() time.Time { return time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC) }
	accts := &Accounts{DB: db, Now: now}
	acct, err := accts.Register(context.Background(), Account{IBAN: "ES9121000418450200051332", BIC: "CAIXESBBXXX",
		HolderName: "Pocketramp Operadora S.L. – Cuenta €", BankName: "CaixaBank", Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	log := &payoutLog{}
	key := make([]byte, 32)
	rand.Read(key)
	box, err := secret.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	return &Service{DB: db, Box: box, Accounts: accts, Payouts: log, Now: now}, acct, log
}

func queue(t *testing.T, s *Service, iban string, reqs ...PayoutRequest) []Payout {
	t.Helper()
	var out []Payout
	err := s.DB.Tx(context.Background(), func(tx *store.Tx) error {
		for _, r := range reqs {
			p, err := s.QueuePayoutTx(context.Background(), tx, iban, r, "customer:"+r.Reference+":EUR")
			if err != nil {
				return err
			}
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// bankExecutes books the debits of an exported pain.001 on a statement and imports it.
func bankExecutes(t *testing.T, s *Service, acct Account, file []byte) ImportResult {
	t.Helper()
	batch, err := bankfile.ParsePain001(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	var entries []SandboxEntry
	for _, p := range batch.Payments {
		entries = append(entries, SandboxEntry{Amount: p.Amount.Neg(), Concept: p.Remittance, CounterpartyName: p.CreditorName,
			CounterpartyIBAN: p.CreditorIBAN, EndToEndID: p.EndToEndID})
	}
	raw, err := SandboxNotification(acct, entries, s.Now())
	if err != nil {
		t.Fatal(err)
	}
	stmts, err := bankfile.ParseCAMT(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Import(context.Background(), acct.IBAN, "test", raw, stmts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func payoutStatus(t *testing.T, s *Service, ref string) Payout {
	t.Helper()
	p, err := s.PayoutByReference(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func verifyLedger(t *testing.T, db *store.DB) {
	t.Helper()
	rep, err := ledger.Verify(context.Background(), db)
	if err != nil || !rep.OK() {
		t.Fatalf("ledger: %v\n%s", err, rep)
	}
}

// SEPA-hostile names pay out transliterated in the same pain.001 as a plain customer's payout;
// what cannot be exported is held with its reason and never blocks the others.
func TestHostilePayoutsNeverJamTheAccount(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, acct, heard := newPayoutService(t, db)
		long := strings.Repeat("Maximiliana ", 7)[:80]
		heldBefore := counterValue(payoutsHeldTotal, "name") + counterValue(payoutsHeldTotal, "iban")
		ps := queue(t, s, acct.IBAN,
			PayoutRequest{Reference: "plain", Amount: money.MustParse("100.00", 2), CreditorName: "Ana Garcia", CreditorIBAN: "ES7921000813610123456789", Remittance: "sale 1"},
			PayoutRequest{Reference: "polish", Amount: money.MustParse("50.10", 2), CreditorName: "Łukasz Dvořák Żółć", CreditorIBAN: "PL61 1090 1014 0000 0712 1981 2874",
				Remittance: "pocketramp sale " + strings.Repeat("é", 200)},
			PayoutRequest{Reference: "script", Amount: money.MustParse("7.00", 2), CreditorName: "<script>alert(1)</script>", CreditorIBAN: "DE89370400440532013000"},
			PayoutRequest{Reference: "long", Amount: money.MustParse("0.01", 2), CreditorName: long, CreditorIBAN: "FR1420041010050500013M02606"},
			PayoutRequest{Reference: "cjk", Amount: money.MustParse("20.00", 2), CreditorName: "李小龍", CreditorIBAN: "ES7921000813610123456789"},
			PayoutRequest{Reference: "brazil", Amount: money.MustParse("30.00", 2), CreditorName: "João", CreditorIBAN: "BR9700360305000010009795493P1"},
		)
		if got := ps[1].CreditorName; got != "Lukasz Dvorak Zolc" {
			t.Errorf("Polish name stored as %q", got)
		}
		if r := ps[1].Remittance; len(r) != 140 || !utf8.ValidString(r) || strings.ContainsRune(r, utf8.RuneError) || !strings.HasSuffix(r, "eee") {
			t.Errorf("remittance cut to %q", r)
		}
		if n := ps[3].CreditorName; len(n) > 70 || !strings.HasPrefix(n, "Maximiliana") {
			t.Errorf("80-character name stored as %q", n)
		}
		if ps[4].Status != PayoutHeld || !strings.HasPrefix(ps[4].HoldReason, "name:") || ps[4].OriginalName != "李小龍" {
			t.Errorf("CJK name: %+v", ps[4])
		}
		if ps[5].Status != PayoutHeld || ps[5].HoldReason != "iban: country BR is not in the SEPA area" {
			t.Errorf("non-SEPA IBAN: %+v", ps[5])
		}
		if got := counterValue(payoutsHeldTotal, "name") + counterValue(payoutsHeldTotal, "iban"); got != heldBefore+2 {
			t.Errorf("held metric rose by %v, want 2", got-heldBefore)
		}
		// A payout that went bad after it was queued (data from an older version) is set
		// aside at export and the rest still goes.
		bad := queue(t, s, acct.IBAN, PayoutRequest{Reference: "legacy", Amount: money.MustParse("5.00", 2), CreditorName: "Old Row", CreditorIBAN: "ES7921000813610123456789"})[0]
		if _, err := db.Exec(ctx, "UPDATE bank_payouts SET creditor_name = ? WHERE id = ?", "Zoë Ł <&>", bad.ID); err != nil {
			t.Fatal(err)
		}

		b, ok, err := s.ExportBatch(ctx, acct.IBAN)
		if err != nil || !ok {
			t.Fatalf("export: %v %v", ok, err)
		}
		if b.Payments != 4 || b.Total.String() != "157.11" || len(b.Held) != 1 || b.Held[0].Reference != "legacy" ||
			!strings.HasPrefix(b.Held[0].HoldReason, "name: character '<'") {
			t.Fatalf("batch: %d payments, total %s, held %+v", b.Payments, b.Total, b.Held)
		}
		// Creditors' IBANs are encrypted at rest; the file carries them decrypted.
		rawRows, err := db.Query(ctx, "SELECT creditor_iban FROM bank_payouts")
		if err != nil {
			t.Fatal(err)
		}
		for rawRows.Next() {
			var raw string
			rawRows.Scan(&raw)
			if !strings.HasPrefix(raw, secret.SealedPrefix) || strings.Contains(raw, "ES7921000813610123456789") {
				t.Errorf("creditor_iban stored as %q", raw)
			}
		}
		rawRows.Close()
		for _, want := range []string{"<Nm>Lukasz Dvorak Zolc</Nm>", "<Nm>.script.alert(1)./script.</Nm>", "<Nm>Pocketramp Operadora S.L. - Cuenta EUR</Nm>",
			"<IBAN>ES7921000813610123456789</IBAN>", "<IBAN>PL61109010140000071219812874</IBAN>", "<IBAN>DE89370400440532013000</IBAN>"} {
			if !bytes.Contains(b.File, []byte(want)) {
				t.Errorf("pain.001 lacks %s", want)
			}
		}
		bankfiletest.ValidatePain001(t, xsdDir, b.File, bankfile.Pain001v03)

		res := bankExecutes(t, s, acct, b.File)
		if res.Matched != 4 || res.Exceptions != 0 {
			t.Fatalf("statement: %+v", res)
		}
		for _, ref := range []string{"plain", "polish", "script", "long"} {
			if p := payoutStatus(t, s, ref); p.Status != PayoutConfirmed {
				t.Errorf("%s: %s", ref, p.Status)
			}
		}
		if len(heard.settled) != 4 {
			t.Errorf("owner heard %v", heard.settled)
		}
		verifyLedger(t, db)
	})
}

// The operator corrects a held payout, which is exported next time; cancels another, which
// puts the money back on the customer's account in the ledger; nothing else is allowed.
func TestOperatorCorrectsRetriesAndCancelsPayouts(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, acct, heard := newPayoutService(t, db)
		ps := queue(t, s, acct.IBAN,
			PayoutRequest{Reference: "cjk", Amount: money.MustParse("20.00", 2), CreditorName: "李小龍", CreditorIBAN: "ES7921000813610123456789"},
			PayoutRequest{Reference: "brazil", Amount: money.MustParse("30.00", 2), CreditorName: "João", CreditorIBAN: "BR9700360305000010009795493P1"},
		)
		// Nothing exportable: the export exports nothing and says so.
		if b, ok, err := s.ExportBatch(ctx, acct.IBAN); err != nil || ok || len(b.Held) != 0 {
			t.Fatalf("export of held payouts only: %v %v %+v", ok, err, b)
		}
		held, total, err := s.ListPayouts(ctx, PayoutFilter{Account: acct.IBAN, Status: PayoutHeld}, 1, 20)
		if err != nil || total != 2 || len(held) != 2 {
			t.Fatalf("held queue: %d %v", total, err)
		}
		// Retrying without a fix, or correcting into another bad value, changes nothing.
		var inv *errcode.Invalid
		if _, err := s.RetryPayout(ctx, ps[0].ID, ""); !errors.As(err, &inv) || !inv.Fields.Has("name") {
			t.Fatalf("retry of an unfixed payout: %v", err)
		}
		if _, err := s.CorrectPayout(ctx, ps[1].ID, Beneficiary{IBAN: "ES00 1234"}); !errors.As(err, &inv) || !inv.Fields.Has("iban") {
			t.Fatalf("correction with a bad IBAN: %v", err)
		}
		if _, err := s.CorrectPayout(ctx, ps[1].ID, Beneficiary{IBAN: "US64SVBKUS6S3300958879"}); err == nil {
			t.Fatal("correction to a non-SEPA account accepted")
		}
		p, err := s.CorrectPayout(ctx, ps[0].ID, Beneficiary{Name: "Li Xiaolong", Note: "name from the ID document"})
		if err != nil || p.Status != PayoutPending || p.CreditorName != "Li Xiaolong" || p.HoldReason != "" {
			t.Fatalf("correction: %+v %v", p, err)
		}
		// The operator cancels the Brazilian payout: the customer is owed again.
		cust, _ := ledger.AccountByKey(ctx, db, "customer:brazil:EUR")
		if cust.Balance.Sign() <= 0 {
			t.Fatalf("customer balance after queueing: %s", cust.Balance)
		}
		if _, err := s.CancelPayout(ctx, ps[1].ID, ""); !errors.As(err, &inv) {
			t.Fatalf("cancel without a note: %v", err)
		}
		c, err := s.CancelPayout(ctx, ps[1].ID, "customer has no SEPA account; refund in crypto")
		if err != nil || c.Status != PayoutCancelled {
			t.Fatalf("cancel: %+v %v", c, err)
		}
		cust, _ = ledger.AccountByKey(ctx, db, "customer:brazil:EUR")
		payable, _ := ledger.AccountByKey(ctx, db, PayoutPayableKey(false, "EUR"))
		if cust.Balance.Sign() != 0 || payable.Balance.String() != "-2000" {
			t.Fatalf("after cancel: customer %s, payable %s", cust.Balance, payable.Balance)
		}
		if len(heard.cancelled) != 1 || heard.cancelled[0] != "brazil" {
			t.Errorf("owner heard %v", heard.cancelled)
		}
		if _, err := s.CancelPayout(ctx, ps[1].ID, "again"); !errors.Is(err, ErrPayoutState) {
			t.Fatalf("second cancel: %v", err)
		}
		if _, err := s.CancelPayout(ctx, 999999, "x"); !errors.Is(err, ErrPayoutNotFound) {
			t.Fatalf("unknown payout: %v", err)
		}

		b, ok, err := s.ExportBatch(ctx, acct.IBAN)
		if err != nil || !ok || b.Payments != 1 || !bytes.Contains(b.File, []byte("<Nm>Li Xiaolong</Nm>")) {
			t.Fatalf("re-export: %v %v %+v", ok, err, b)
		}
		bankfiletest.ValidatePain001(t, xsdDir, b.File, bankfile.Pain001v03)
		// Exported: no longer correctable nor cancellable; retry re-queues (a refused file).
		if _, err := s.CancelPayout(ctx, ps[0].ID, "x"); !errors.Is(err, ErrPayoutState) {
			t.Fatalf("cancel of an exported payout: %v", err)
		}
		if _, err := s.CorrectPayout(ctx, ps[0].ID, Beneficiary{Name: "X"}); !errors.Is(err, ErrPayoutState) {
			t.Fatalf("correction of an exported payout: %v", err)
		}
		if p, err := s.RetryPayout(ctx, ps[0].ID, "bank refused the file"); err != nil || p.Status != PayoutPending {
			t.Fatalf("retry of an exported payout: %+v %v", p, err)
		}
		b, ok, err = s.ExportBatch(ctx, acct.IBAN)
		if err != nil || !ok || b.Payments != 1 {
			t.Fatalf("export after retry: %v %v", ok, err)
		}
		if res := bankExecutes(t, s, acct, b.File); res.Matched != 1 {
			t.Fatalf("statement: %+v", res)
		}
		if p := payoutStatus(t, s, "cjk"); p.Status != PayoutConfirmed {
			t.Fatalf("corrected payout: %s", p.Status)
		}
		if _, err := s.RetryPayout(ctx, ps[0].ID, ""); !errors.Is(err, ErrPayoutState) {
			t.Fatalf("retry of a confirmed payout: %v", err)
		}
		verifyLedger(t, db)
	})
}

// An account whose own data cannot be written is a 4xx naming the problem, never a 500.
func TestExportOfABrokenAccountIsAClientError(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, acct, _ := newPayoutService(t, db)
		queue(t, s, acct.IBAN, PayoutRequest{Reference: "a", Amount: money.MustParse("1.00", 2), CreditorName: "Ana", CreditorIBAN: "ES7921000813610123456789"})
		// A test BIC, which pain.001.001.03's BIC pattern refuses.
		if _, err := db.Exec(ctx, "UPDATE bank_accounts SET bic = 'CAIXES01XXX'"); err != nil {
			t.Fatal(err)
		}
		_, _, err := s.ExportBatch(ctx, acct.IBAN)
		var e *errcode.Error
		if !errors.As(err, &e) || e.Kind != errcode.KindInvalid || !strings.Contains(e.Message, "DebtorBIC") {
			t.Fatalf("export: %v", err)
		}
		if p := payoutStatus(t, s, "a"); p.Status != PayoutPending {
			t.Fatalf("payout after a refused export: %s", p.Status)
		}
		if _, _, err := s.ExportBatch(ctx, "ES00NOPE"); !errors.Is(err, ErrAccountNotFound) {
			t.Fatalf("unknown account: %v", err)
		}
	})
}
