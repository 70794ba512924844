package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"testing"

	"github.com/pocketramp/pocketramp/client"
)

// instance is a `pocketramp serve` process started by a test.
type instance struct {
	cmd         *exec.Cmd
	base, admin string // public and operator listener URLs
	key, secret string // the sandbox integration's, when this start created it
	opToken     string // printed when the start created the integration
	stderr      *syncBuffer
	done        chan struct{}
}

// syncBuffer is a buffer the process writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

var (
	rePublic = regexp.MustCompile(`Public listener:\s+(http://\S+)`)
	reOpLn   = regexp.MustCompile(`Operator listener: (http://\S+)`)
	reOpTok  = regexp.MustCompile(`Operator API token \(Authorization: Bearer\): (\S+)`)
	reAPIKey = regexp.MustCompile(`api_key:\s+(\S+)`)
	reAPISec = regexp.MustCompile(`api_secret:\s+(\S+)`)
)

// startInstance runs `serve` on loopback ports with env and waits until it listens (and, with
// creds, until it printed the sandbox integration it created).
func startInstance(t *testing.T, bin string, env []string, creds bool, args ...string) *instance {
	t.Helper()
	in := &instance{stderr: &syncBuffer{}, done: make(chan struct{})}
	in.cmd = exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}, args...)...)
	in.cmd.Env = append(os.Environ(), env...)
	stdout, _ := in.cmd.StdoutPipe()
	in.cmd.Stderr = in.stderr
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.kill() })
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		for re, dst := range map[*regexp.Regexp]*string{rePublic: &in.base, reOpLn: &in.admin, reOpTok: &in.opToken, reAPIKey: &in.key, reAPISec: &in.secret} {
			if m := re.FindStringSubmatch(line); m != nil {
				*dst = m[1]
			}
		}
		if in.admin != "" && (!creds || in.secret != "") {
			break
		}
	}
	go func() { io.Copy(io.Discard, stdout); in.cmd.Wait(); close(in.done) }()
	if in.base == "" || in.admin == "" {
		in.kill()
		t.Fatalf("serve did not start:\n%s", in.stderr.String())
	}
	return in
}

// kill ends the process with SIGKILL and waits for it.
func (in *instance) kill() {
	in.cmd.Process.Kill()
	<-in.done
}

// rpc calls a sandbox chain's JSON-RPC through the operator API and decodes the result.
func (in *instance) rpc(t *testing.T, token, chain, method string, params []any, result any) error {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	req, _ := http.NewRequest("POST", in.admin+"/admin/api/sandbox/chains/"+chain+"/rpc", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out struct {
		Result json.RawMessage
		Error  *struct {
			Code    int
			Message string
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return fmt.Errorf("%s: HTTP %d: %v", method, resp.StatusCode, err)
	}
	if out.Error != nil {
		return fmt.Errorf("%s: %d %s", method, out.Error.Code, out.Error.Message)
	}
	return json.Unmarshal(out.Result, result)
}

// verifiedCustomer registers a customer with an IBAN and approves its KYC (sandbox).
func verifiedCustomer(ctx context.Context, c *client.Client, email string) (int64, error) {
	u, err := c.RegisterUser(ctx, client.RegisterUserRequest{Name: "Test", LastName: "Customer", Email: email, CountryCode: "ESP",
		IBAN: "ES9121000418450200051332"})
	if err != nil {
		return 0, fmt.Errorf("register %s: %w", email, err)
	}
	if _, err := c.SandboxSetKYC(ctx, u.ID, client.SandboxKYCRequest{Status: client.KYCValid}); err != nil {
		return 0, fmt.Errorf("kyc %s: %w", email, err)
	}
	return u.ID, nil
}
