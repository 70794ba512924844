package bench

import (
	"context"
	"io"
	"testing"

	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

// The statement benchmark imports and matches every line, and its floor replays exactly the
// rows the import wrote: per matched line a statement row, two ledger transactions with four
// postings, a PAY_IN event, a chain payout and the payment's update, plus the ledger balances.
func TestStatementBenchAndFloor(t *testing.T) {
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			url := ""
			if engine == store.Postgres {
				url = storetest.PostgresURL(t)
			}
			const lines = 300
			res, err := RunStatement(context.Background(), StatementOptions{DatabaseURL: url, Lines: lines, JSON: true}, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if res.Engine != string(engine) || res.Matched != lines {
				t.Fatalf("engine %s matched %d of %d lines", res.Engine, res.Matched, lines)
			}
			// 100 customers' ledger accounts and the bank account and its suspense changed balance.
			if want := int64(10*lines + 100 + 2); res.FloorRows != want {
				t.Errorf("floor wrote %d rows, want %d", res.FloorRows, want)
			}
			if res.FloorSeconds <= 0 || res.Seconds <= 0 {
				t.Errorf("import %v s, floor %v s", res.Seconds, res.FloorSeconds)
			}
		})
	}
}
