package admin_test

import (
	"os"
	"strings"
	"testing"

	"github.com/pocketramp/pocketramp/internal/store"
)

// TestAPIDocumented: every operator API route appears in docs/operator.md.
func TestAPIDocumented(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/operator.md")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, store.SQLite)
	routes := e.app.Admin.APIRoutes()
	if len(routes) < 30 {
		t.Fatalf("only %d routes registered", len(routes))
	}
	for _, r := range routes {
		if !strings.Contains(string(doc), "`"+r+"`") {
			t.Errorf("docs/operator.md does not document %s", r)
		}
	}
}
