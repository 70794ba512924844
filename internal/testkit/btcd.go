package testkit

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// StartBtcd runs btcd --regtest (found by GoBinary: skipped when absent, failing under CI=true)
// in a temporary directory, mining to miningAddr, and returns its JSON-RPC URL (with
// credentials, plain HTTP) once it answers. It is killed when the test ends; its output is
// logged when the test failed.
func StartBtcd(t testing.TB, miningAddr string) string {
	t.Helper()
	bin := GoBinary(t, "btcd", "github.com/btcsuite/btcd@v0.24.2")
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	if err := os.WriteFile(filepath.Join(dir, "btcd.conf"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--regtest", "--datadir="+filepath.Join(dir, "data"), "--logdir="+filepath.Join(dir, "logs"),
		"--rpcuser=pr", "--rpcpass=pr-secret", fmt.Sprintf("--rpclisten=127.0.0.1:%d", port), "--notls", "--nolisten",
		"--miningaddr="+miningAddr, "--debuglevel=warn", "--configfile="+filepath.Join(dir, "btcd.conf"))
	StartProcess(t, "btcd", dir, cmd)
	url := fmt.Sprintf("http://pr:pr-secret@127.0.0.1:%d", port)
	client := &http.Client{Timeout: 2 * time.Second}
	WaitFor(t, 60*time.Second, "btcd answering", func() bool {
		req, _ := http.NewRequest("POST", fmt.Sprintf("http://127.0.0.1:%d", port),
			strings.NewReader(`{"jsonrpc":"1.0","id":1,"method":"getblockcount","params":[]}`))
		req.SetBasicAuth("pr", "pr-secret")
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return url
}
