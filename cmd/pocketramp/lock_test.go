package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// startServe starts `pocketramp serve` on loopback ports and waits until it listens.
func startServe(t *testing.T, bin string, env []string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "Public listener:") {
			go func() {
				for sc.Scan() {
				}
			}()
			return cmd, &stderr
		}
	}
	t.Fatalf("serve did not start: %s", stderr.String())
	return nil, nil
}

// A second server on the same SQLite data dir refuses to start, saying why and what to do; once
// the first is gone (even killed), the data dir can be served again.
func TestSQLiteDataDirLock(t *testing.T) {
	t.Parallel()
	bin := binary(t)
	dir := t.TempDir()
	env := []string{"POCKETRAMP_DATABASE_URL=", "POCKETRAMP_PRICE_SOURCES=sandbox"}
	first, _ := startServe(t, bin, env, "--data-dir", dir)

	second := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--data-dir", dir)
	second.Env = append(os.Environ(), env...)
	out, err := second.CombinedOutput()
	if err == nil {
		t.Fatalf("a second server on the same data dir started:\n%s", out)
	}
	if msg := string(out); !strings.Contains(msg, "another pocketramp server") || !strings.Contains(msg, "PostgreSQL") ||
		!strings.Contains(msg, "pid ") {
		t.Fatalf("unclear refusal:\n%s", msg)
	}

	first.Process.Kill() // SIGKILL: the kernel releases the lock with the process
	first.Wait()
	startServe(t, bin, env, "--data-dir", dir) // fails the test unless it starts
}
