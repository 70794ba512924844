package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/pocketramp/pocketramp/internal/bankfile"
	"github.com/pocketramp/pocketramp/internal/banking"
	"github.com/pocketramp/pocketramp/internal/event"
	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/money"
)

// A statement is imported a chunk of entries at a time; with chunks of 4 entries its matches
// span four chunks, one payment is paid twice within a chunk and another again in a later
// chunk, and exceptions and a debit (matched one by one) sit between them. The outcome is the
// entry-by-entry import's: each payment received once, its PAY_IN event and webhook delivery in
// the file's order with gapless sequences, one chain payout each, the same report and
// exception queue; importing the file again adds nothing; an entry twice in one statement and
// a statement twice in one file are imported once; the ledger verifies.
func TestStatementImportAcrossChunks(t *testing.T) {
	t.Parallel()
	defer func(n int) { banking.ChunkSize = n }(banking.ChunkSize)
	banking.ChunkSize = 4
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		defer hook.Close()
		if r := e.do("POST", "/api/subscribeToWebhook", map[string]any{"type": "PAY_IN", "url": hook.URL + "/hook"}, nil, ""); r.path("data") != "subscription_created" {
			t.Fatalf("subscribe: %s", r.body)
		}
		uid := e.verifiedCustomer("chunks@example.com", "reinforced")
		var ids, concepts []string
		var iban string
		for i := range 12 {
			id, concept, ib := e.transferPayment(uid, 50+i)
			ids, concepts, iban = append(ids, id), append(concepts, concept), ib
		}
		acct, err := e.app.Accounts.Get(ctx, e.cred.ID, iban)
		if err != nil {
			t.Fatal(err)
		}
		pay := func(i int, amount string) banking.SandboxEntry {
			if amount == "" {
				amount = fmt.Sprintf("%d.00", 50+i)
			}
			return banking.SandboxEntry{Amount: money.MustParse(amount, 2), Concept: "TRANSF " + concepts[i], CounterpartyName: fmt.Sprintf("Payer %d", i)}
		}
		other := func(amount, concept string) banking.SandboxEntry {
			return banking.SandboxEntry{Amount: money.MustParse(amount, 2), Concept: concept, EndToEndID: "NOTOURS"}
		}
		entries := []banking.SandboxEntry{
			pay(0, ""), pay(1, ""), pay(1, ""), pay(2, ""), // payment 1 twice in one chunk
			other("-5.00", "comision"), pay(3, ""), pay(0, ""), pay(4, "53.99"), // payment 0 again in a later chunk; an underpayment
			pay(5, ""), other("10.00", "regalo"), other("10.00", "Ref 100000000190"), pay(6, ""),
			pay(7, ""), pay(8, ""),
		}
		file, err := banking.SandboxNotification(acct, entries, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.app.Banking.ImportFile(ctx, iban, "test", file, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Entries != 14 || res.Imported != 14 || res.Duplicates != 0 || res.Matched != 8 || res.Exceptions != 6 {
			t.Fatalf("import: %+v", res)
		}
		wantExceptions := map[string]int{banking.ExceptionDuplicate: 2, banking.ExceptionUnknownDebit: 1, banking.ExceptionUnderpayment: 1,
			banking.ExceptionNoReference: 1, banking.ExceptionUnknownReference: 1}
		rows, err := e.app.DB.Query(ctx, "SELECT exception, COUNT(*) FROM bank_transactions WHERE status = 'unmatched' GROUP BY exception")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for rows.Next() {
			var kind string
			var n int
			rows.Scan(&kind, &n)
			got[kind] = n
		}
		rows.Close()
		if fmt.Sprint(got) != fmt.Sprint(wantExceptions) {
			t.Fatalf("exception queue %v, want %v", got, wantExceptions)
		}
		var duplicateOf []string
		rows, _ = e.app.DB.Query(ctx, "SELECT payment_id FROM bank_transactions WHERE exception = ? ORDER BY id", banking.ExceptionDuplicate)
		for rows.Next() {
			var id string
			rows.Scan(&id)
			duplicateOf = append(duplicateOf, id)
		}
		rows.Close()
		if !slices.Equal(duplicateOf, []string{ids[1], ids[0]}) {
			t.Fatalf("duplicates name payments %v, want %v", duplicateOf, []string{ids[1], ids[0]})
		}
		paid := []string{ids[0], ids[1], ids[2], ids[3], ids[5], ids[6], ids[7], ids[8]}
		checkReceived := func(paid []string) {
			t.Helper()
			evs, err := event.List(ctx, e.app.DB, e.cred.ID, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			var payIns []string
			for i, ev := range evs {
				if ev.Sequence != int64(i+1) {
					t.Fatalf("event %d has sequence %d", i, ev.Sequence)
				}
				if ev.Type == event.PayIn {
					payIns = append(payIns, ev.ObjectID)
				}
			}
			if !slices.Equal(payIns, paid) {
				t.Fatalf("PAY_IN events for %v, want %v (the file's order)", payIns, paid)
			}
			var deliveries, payouts, distinct int
			e.app.DB.QueryRow(ctx, `SELECT COUNT(*) FROM webhook_deliveries d JOIN events v ON v.id = d.event_id
				WHERE d.type = 'PAY_IN' AND d.seq = v.seq`).Scan(&deliveries)
			e.app.DB.QueryRow(ctx, "SELECT COUNT(*), COUNT(DISTINCT idempotency_key) FROM chain_payouts WHERE idempotency_key LIKE 'onramp:%'").Scan(&payouts, &distinct)
			if deliveries != len(paid) || payouts != len(paid) || distinct != len(paid) {
				t.Fatalf("%d PAY_IN deliveries, %d chain payouts (%d keys) for %d payments", deliveries, payouts, distinct, len(paid))
			}
			for _, id := range paid {
				if r := e.do("GET", "/api/payment/"+id, nil, nil, ""); r.path("data.status") == "started" || r.path("data.status") == "pending_bank" {
					t.Fatalf("payment %s: %s", id, r.body)
				}
			}
		}
		checkReceived(paid)
		if r := e.do("GET", "/api/payment/"+ids[4], nil, nil, ""); r.path("data.status") != "started" {
			t.Fatalf("underpaid payment: %s", r.body)
		}

		// Again: nothing new.
		res, err = e.app.Banking.ImportFile(ctx, iban, "test", file, nil)
		if err != nil || res.Imported != 0 || res.Duplicates != 14 || res.Matched != 0 || res.Exceptions != 0 {
			t.Fatalf("re-import: %+v %v", res, err)
		}
		checkReceived(paid)

		// An entry twice in one statement (deduplicated within a chunk) and the statement twice in
		// the file (deduplicated against the rows the first copy inserted).
		file, err = banking.SandboxNotification(acct, []banking.SandboxEntry{pay(9, ""), pay(10, ""), pay(11, "")}, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		stmts, err := bankfile.Parse(file, bankfile.ParseOptions{})
		if err != nil || len(stmts) != 1 {
			t.Fatalf("parse: %v", err)
		}
		stmts[0].Entries = append(stmts[0].Entries, stmts[0].Entries[0])
		res, err = e.app.Banking.Import(ctx, iban, "twice", file, []*bankfile.Statement{stmts[0], stmts[0]})
		if err != nil || res.Entries != 8 || res.Imported != 3 || res.Duplicates != 5 || res.Matched != 3 || res.Exceptions != 0 {
			t.Fatalf("statement twice: %+v %v", res, err)
		}
		checkReceived(append(paid, ids[9], ids[10], ids[11]))
		rep, err := ledger.Verify(ctx, e.app.DB)
		if err != nil || !rep.OK() {
			t.Fatalf("ledger: %v\n%s", err, rep)
		}
	})
}
