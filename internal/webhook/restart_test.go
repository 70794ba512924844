package webhook_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
	"github.com/pocketramp/pocketramp/internal/testkit"
)

// buildBinary builds cmd/pocketramp once per test binary run.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "pocketramp-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "pocketramp")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/pocketramp/pocketramp/cmd/pocketramp").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// server is a `pocketramp serve` subprocess.
type server struct {
	t       *testing.T
	bin     string
	dataDir string
	addr    string
	env     []string
	cmd     *exec.Cmd
	stdout  *bytes.Buffer
	logs    *bytes.Buffer
	mu      sync.Mutex
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (s *server) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "serve", "--addr", s.addr, "--data-dir", s.dataDir)
	s.cmd.Env = append(os.Environ(), s.env...)
	s.stdout, s.logs = &bytes.Buffer{}, &bytes.Buffer{}
	s.cmd.Stdout = lockedBuf{&s.mu, s.stdout}
	s.cmd.Stderr = lockedBuf{&s.mu, s.logs}
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	testkit.WaitFor(s.t, 60*time.Second, "pocketramp to answer /readyz", func() bool {
		resp, err := http.Get("http://" + s.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
}

// kill SIGKILLs the server: no graceful shutdown, in-flight jobs and requests are cut.
func (s *server) kill() {
	s.cmd.Process.Signal(syscall.SIGKILL)
	s.cmd.Wait()
}

func (s *server) output() (string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stdout.String(), s.logs.String()
}

type lockedBuf struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (l lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// client calls the partner API of a server.
type client struct {
	t     *testing.T
	base  string
	token string
}

func (c *client) call(method, path string, body any) map[string]any {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("auth", c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil || resp.StatusCode != 200 || out["status"] != "ok" {
		c.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return out
}

var credLine = regexp.MustCompile(`(?m)^\s*(api_key|api_secret):\s+(\S+)`)

// TestDeliveryAcrossKill runs `pocketramp serve` as a subprocess with a short retry base
// (POCKETRAMP_WEBHOOK_RETRY_BASE=100ms). The receiver is down (503) while KYC events are
// recorded, the server is SIGKILLed in the middle of the retries and restarted, more events are
// recorded while the receiver is still down, then the receiver comes back: every event must
// arrive, correctly signed, at least once.
func TestDeliveryAcrossKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			var dbURL string
			if engine == store.Postgres {
				dbURL = storetest.PostgresURL(t)
			}
			testKill(t, dbURL)
		})
	}
}

func testKill(t *testing.T, dbURL string) {
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i + 1)
	}
	srv := &server{t: t, bin: bin, dataDir: t.TempDir(), addr: freeAddr(t), env: []string{
		"POCKETRAMP_DATABASE_URL=" + dbURL,
		"POCKETRAMP_MASTER_KEY=" + base64.StdEncoding.EncodeToString(key),
		"POCKETRAMP_PRICE_SOURCES=sandbox",
		"POCKETRAMP_OPERATOR_TOKEN=op_test_token_123456",
		"POCKETRAMP_WEBHOOK_RETRY_BASE=100ms",
		"POCKETRAMP_LOG_FORMAT=json",
	}}
	srv.start()
	defer func() {
		if srv.cmd.ProcessState == nil {
			srv.cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { srv.cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				srv.kill()
			}
		}
		if t.Failed() {
			_, logs := srv.output()
			if len(logs) > 6000 {
				logs = logs[len(logs)-6000:]
			}
			t.Logf("server log tail:\n%s", logs)
		}
	}()
	stdout, _ := srv.output()
	creds := map[string]string{}
	for _, m := range credLine.FindAllStringSubmatch(stdout, -1) {
		creds[m[1]] = m[2]
	}
	if creds["api_key"] == "" || creds["api_secret"] == "" {
		t.Fatalf("no sandbox credentials in the output:\n%s", stdout)
	}
	c := &client{t: t, base: "http://" + srv.addr}
	login := func() {
		c.token = ""
		c.token = c.call("POST", "/api/authenticate", map[string]string{"api_key": creds["api_key"], "api_secret": creds["api_secret"]})["data"].(map[string]any)["token"].(string)
	}
	login()
	whsec := c.call("GET", "/api/webhooks", nil)["data"].(map[string]any)["signing_secret"].(string)
	rcv := newReceiver(t)
	rcv.setKeys(creds["api_key"], creds["api_secret"], whsec)
	rcv.fail(http.StatusServiceUnavailable) // the receiver is down
	c.call("POST", "/api/subscribeToWebhook", map[string]string{"type": "KYC_STATUS_CHANGED", "url": rcv.URL()})

	var eventIDs []string
	record := func(n int, from int) {
		for i := from; i < from+n; i++ {
			reg := c.call("POST", "/api/registerUser", map[string]any{"name": "Ana", "last_name": "Kill", "email": fmt.Sprintf("kill%d@example.com", i), "country_code": "ESP"})
			uid := fmt.Sprint(int64(reg["data"].(map[string]any)["id"].(float64)))
			c.call("POST", "/api/sandbox/customers/"+uid+"/kyc", map[string]any{"status": "processing"})
			c.call("POST", "/api/sandbox/customers/"+uid+"/kyc", map[string]any{"status": "valid"})
		}
	}
	record(10, 0)
	// Let the retries run for a while, then kill the server in the middle of them.
	testkit.WaitFor(t, 30*time.Second, "failed attempts to pile up", func() bool {
		r := c.call("GET", "/api/webhooks/deliveries?status=retrying&per_page=100", nil)
		return r["data"].(map[string]any)["pagination"].(map[string]any)["total"].(float64) >= 10
	})
	time.Sleep(300 * time.Millisecond)
	srv.kill()
	srv.start()
	login()
	record(10, 10)
	time.Sleep(500 * time.Millisecond)
	rcv.fail(0) // the receiver is back

	feed := c.call("GET", "/api/events?limit=1000", nil)["data"].([]any)
	if len(feed) != 40 {
		t.Fatalf("%d events in the feed, want 40", len(feed))
	}
	for i, item := range feed {
		ev := item.(map[string]any)
		if ev["sequence"].(float64) != float64(i+1) {
			t.Fatalf("feed position %d has sequence %v", i, ev["sequence"])
		}
		eventIDs = append(eventIDs, ev["id"].(string))
	}
	start := time.Now()
	testkit.WaitFor(t, 4*time.Minute, "every event to be delivered", func() bool {
		got := map[string]bool{}
		for _, p := range rcv.received() {
			got[p.ID] = true
		}
		for _, id := range eventIDs {
			if !got[id] {
				return false
			}
		}
		return true
	})
	if rej := rcv.rejections(); len(rej) > 0 {
		t.Fatalf("receiver rejected deliveries: %v", rej[:min(5, len(rej))])
	}
	dup := len(rcv.received()) - len(eventIDs)
	t.Logf("all %d events delivered %v after the receiver came back (%d duplicate deliveries)", len(eventIDs), time.Since(start).Round(time.Millisecond), dup)
	_, logs := srv.output()
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"level":"ERROR"`) && strings.Contains(sc.Text(), "webhook") {
			t.Errorf("unexpected error log: %s", sc.Text())
		}
	}
}
