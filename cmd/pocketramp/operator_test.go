package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pocketramp/pocketramp/internal/store"
)

// TestOperatorCreateAndAuditVerify creates operators from the command line (password from
// standard input, or a set-password link), then tampers with the audit log as someone with
// database access could: `audit verify` exits 1 for an altered and for a removed record.
func TestOperatorCreateAndAuditVerify(t *testing.T) {
	t.Setenv("POCKETRAMP_DATABASE_URL", "")
	t.Setenv("POCKETRAMP_PRICE_SOURCES", "sandbox")
	ctx := context.Background()
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	err := operatorCmd(ctx, []string{"create", "--data-dir", dir, "--email", "Ana@Ops.example", "--role", "admin", "--password-stdin"},
		strings.NewReader("a long enough password\n"), &out, &errOut)
	if err != nil || !strings.Contains(out.String(), "operator ana@ops.example created with role admin") || strings.Contains(out.String(), "/admin/setup/") {
		t.Fatalf("create with password: %v\n%s%s", err, out.String(), errOut.String())
	}
	out.Reset()
	if err := operatorCmd(ctx, []string{"create", "--data-dir", dir, "--email", "luis@ops.example", "--role", "compliance"}, strings.NewReader(""), &out, &errOut); err != nil ||
		!strings.Contains(out.String(), "http://127.0.0.1:8081/admin/setup/") {
		t.Fatalf("create with a link: %v\n%s", err, out.String())
	}
	if err := operatorCmd(ctx, []string{"create", "--data-dir", dir, "--email", "x@ops.example", "--role", "boss"}, strings.NewReader(""), &out, &errOut); !errors.Is(err, exitError(2)) {
		t.Fatalf("unknown role: %v", err)
	}
	verify := func() (string, error) {
		var o bytes.Buffer
		err := run(ctx, []string{"audit", "verify", "--data-dir", dir}, &o, &errOut)
		return o.String(), err
	}
	if got, err := verify(); err != nil || !strings.Contains(got, "2 records checked") || !strings.Contains(got, "intact") {
		t.Fatalf("intact log: %v\n%s", err, got)
	}

	tamper := func(stmts ...string) {
		db, err := store.Open(ctx, store.Config{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, q := range stmts {
			if _, err := db.Exec(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	// The database itself refuses the change while its guard is in place.
	db, _ := store.Open(ctx, store.Config{DataDir: dir})
	if _, err := db.Exec(ctx, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 1"); err == nil {
		t.Fatal("the audit log accepted an update")
	}
	db.Close()
	tamper("DROP TRIGGER audit_log_no_update", "UPDATE audit_log SET actor = 'mallory' WHERE seq = 1")
	got, err := verify()
	if !errors.Is(err, exitError(1)) || !strings.Contains(got, "record 1 was altered") {
		t.Fatalf("altered record: %v\n%s", err, got)
	}
	tamper("UPDATE audit_log SET actor = 'cli' WHERE seq = 1") // put it back
	if _, err := verify(); err != nil {
		t.Fatalf("restored log: %v", err)
	}
	tamper("DROP TRIGGER audit_log_no_delete", "DELETE FROM audit_log WHERE seq = 2")
	got, err = verify()
	if !errors.Is(err, exitError(1)) || !strings.Contains(got, "removed from the end") {
		t.Fatalf("removed record: %v\n%s", err, got)
	}
}
