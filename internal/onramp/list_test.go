package onramp

import (
	"context"
	"strings"
	"testing"

	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

// TestOperatorListIndexed: each filter of the operator's payment list is answered from an index
// (SQLite's query plan names one and never a full scan of payments), so the list and its count
// stay fast at 100,000 payments.
func TestOperatorListIndexed(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	cases := map[string]string{
		"":                                       "payments_created",
		"WHERE status = ?":                       "payments_status_created",
		"WHERE payment_type = ?":                 "payments_type_created",
		"WHERE integration_id = ?":               "payments_integration",
		"WHERE user_id = ?":                      "payments_user",
		"WHERE status = ? AND hold_reason <> ''": "payments_status",
	}
	for where, index := range cases {
		for _, q := range []string{"SELECT id FROM payments " + where + " ORDER BY created_at DESC, id LIMIT 25",
			"SELECT COUNT(*) FROM payments " + where} {
			args := []any{}
			if where != "" {
				args = append(args, "x")
			}
			rows, err := db.Query(ctx, "EXPLAIN QUERY PLAN "+q, args...)
			if err != nil {
				t.Fatal(err)
			}
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			rows.Close()
			text := strings.Join(plan, "; ")
			t.Logf("%s: %s", q, text)
			if !strings.Contains(text, "USING") || strings.Contains(text, "SCAN payments;") || text == "SCAN payments" {
				t.Errorf("%s: plan %q uses no index", q, text)
			}
			if strings.HasPrefix(q, "SELECT id") && !strings.Contains(text, index) {
				t.Errorf("%s: plan %q, want index %s", q, text, index)
			}
		}
	}
}
