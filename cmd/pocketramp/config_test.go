package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// config check prints the effective configuration with its sources and no secret, checks that
// serve could start with it, and lists what live integrations still need; creating a live
// integration says the same for it.
func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pocketramp.toml")
	os.WriteFile(file, []byte("data_dir = \""+filepath.Join(dir, "data")+"\"\nprice_sources = [\"sandbox\"]\nwebhook_retry_base = \"10s\"\n"), 0o600)
	t.Setenv("POCKETRAMP_CONFIG", file)
	t.Setenv("POCKETRAMP_OPERATOR_TOKEN", "op_secret_from_env")
	t.Setenv("POCKETRAMP_WEBHOOK_RETRY_BASE", "2s")
	ctx := context.Background()
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"config", "check"}, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s%s", err, out.String(), errOut.String())
	}
	s := out.String()
	for _, want := range []string{"configuration file: " + file, `webhook_retry_base      = "2s"`, "env POCKETRAMP_WEBHOOK_RETRY_BASE",
		`operator_token          = "(set, redacted)"`, "start check: ok", "no live chain", "no live integration yet"} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %q in:\n%s", want, s)
		}
	}
	if strings.Contains(s, "op_secret_from_env") {
		t.Fatalf("secret printed:\n%s", s)
	}
	out.Reset()
	errOut.Reset()
	if err := run(ctx, []string{"integration", "create", "--name", "Acme"}, &out, &errOut); err != nil {
		t.Fatal(err, errOut.String())
	}
	if !strings.Contains(errOut.String(), "has no receiving EUR bank account") || !strings.Contains(errOut.String(), "/admin/api/bank-accounts") {
		t.Fatalf("live integration create must say what it still needs:\n%s", errOut.String())
	}
}

// An invalid value stops every command, naming the key and its source; it is not ignored.
func TestInvalidConfigStopsStart(t *testing.T) {
	t.Setenv("POCKETRAMP_WEBHOOK_DISABLE_AFTER", "3 days")
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "webhook_disable_after (from env POCKETRAMP_WEBHOOK_DISABLE_AFTER)") {
		t.Fatalf("serve with an invalid duration: %v", err)
	}
	err = run(context.Background(), []string{"config", "check", "--config", filepath.Join(t.TempDir(), "missing.toml")}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "missing.toml") {
		t.Fatalf("missing file: %v", err)
	}
}
