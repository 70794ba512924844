package audit_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/audit"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

// dropGuards removes the append-only triggers, as someone with database access could, so the
// tests can tamper the way such a person would.
func dropGuards(t *testing.T, db *store.DB) {
	t.Helper()
	stmts := []string{"DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"}
	if db.Engine() == store.Postgres {
		stmts = []string{"DROP TRIGGER audit_log_no_change ON audit_log"}
	}
	for _, q := range stmts {
		if _, err := db.Exec(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
}

func TestChain(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := &audit.Log{DB: db, Now: func() time.Time { return time.Date(2026, 12, 5, 9, 0, 0, 123456789, time.UTC) }}
		for i, a := range []string{"customer.decision", "integration.update", "operator.create", "bank.resolve"} {
			if _, err := l.Append(ctx, audit.Record{Actor: "ana@ops.example", Role: "admin", Via: "console", Source: "10.0.0.1",
				Action: a, Target: "customer:" + string(rune('1'+i)), Before: `{"kyc_status":"processing"}`, After: `{"kyc_status":"valid"}`}); err != nil {
				t.Fatal(err)
			}
		}
		rep, err := audit.Verify(ctx, db)
		if err != nil || !rep.OK() || rep.Checked != 4 {
			t.Fatalf("intact chain: %v %s", err, rep)
		}
		list, total, err := l.List(ctx, audit.Filter{Action: "integration."}, 1, 10)
		if err != nil || total != 1 || list[0].Seq != 2 {
			t.Fatalf("list: %v %d %+v", err, total, list)
		}
		// The database refuses changes.
		if _, err := db.Exec(ctx, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2"); err == nil {
			t.Fatal("update allowed")
		}
		if _, err := db.Exec(ctx, "DELETE FROM audit_log WHERE seq = 4"); err == nil {
			t.Fatal("delete allowed")
		}
		dropGuards(t, db)
		if _, err := db.Exec(ctx, "UPDATE audit_log SET after = '{\"kyc_status\":\"fail\"}' WHERE seq = 2"); err != nil {
			t.Fatal(err)
		}
		rep, _ = audit.Verify(ctx, db)
		if rep.OK() || !strings.Contains(rep.String(), "record 2 was altered") {
			t.Fatalf("altered record not detected:\n%s", rep)
		}
	})
}

func TestRemovals(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := &audit.Log{DB: db}
		for range 5 {
			if _, err := l.Append(ctx, audit.Record{Actor: "a", Action: "x", Target: "t"}); err != nil {
				t.Fatal(err)
			}
		}
		dropGuards(t, db)
		db.Exec(ctx, "DELETE FROM audit_log WHERE seq = 3")
		rep, _ := audit.Verify(ctx, db)
		if rep.OK() || !strings.Contains(rep.String(), "records 3 to 3 are missing") {
			t.Fatalf("removed record not detected:\n%s", rep)
		}
		db.Exec(ctx, "DELETE FROM audit_log WHERE seq >= 3")
		rep, _ = audit.Verify(ctx, db)
		if rep.OK() || !strings.Contains(rep.String(), "removed from the end") {
			t.Fatalf("truncation not detected:\n%s", rep)
		}
	})
}
