package docs_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/docs"
	"github.com/pocketramp/pocketramp/internal/testkit"
	"github.com/pocketramp/pocketramp/internal/webhook"
)

// snippet is a webhook receiver from webhooks.md, tagged "verify" in its fenced block: a
// complete program that listens on $PORT, checks X-Signature with $POCKETRAMP_API_SECRET and
// answers 200 for a valid delivery and 401 otherwise.
type snippet struct {
	lang   string
	interp string // the interpreter that must be on PATH
	file   string
	ci     bool // required when CI=true
	start  func(t *testing.T, dir, file string, port int) *exec.Cmd
}

var snippets = []snippet{
	{lang: "go", interp: "go", file: "main.go", ci: true, start: func(t *testing.T, dir, file string, port int) *exec.Cmd {
		os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module receiver\n\ngo 1.26\n"), 0o644)
		build := exec.Command("go", "build", "-o", "receiver", ".")
		build.Dir = dir
		build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOWORK=off")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("the Go snippet does not compile: %v\n%s", err, out)
		}
		return exec.Command(filepath.Join(dir, "receiver"))
	}},
	{lang: "js", interp: "node", file: "receiver.js", ci: true, start: func(t *testing.T, dir, file string, port int) *exec.Cmd {
		return exec.Command("node", file)
	}},
	{lang: "python", interp: "python3", file: "receiver.py", ci: true, start: func(t *testing.T, dir, file string, port int) *exec.Cmd {
		return exec.Command("python3", file)
	}},
	{lang: "php", interp: "php", file: "receiver.php", start: func(t *testing.T, dir, file string, port int) *exec.Cmd {
		return exec.Command("php", "-S", "127.0.0.1:"+strconv.Itoa(port), file)
	}},
}

// startReceiver starts a snippet on a port it is told ($PORT: the snippets are programs in
// other languages that cannot be handed a listener). A port is picked from a listener the test
// closes, so another process may take it first: the snippet then fails to bind and exits, and
// another port is tried.
func startReceiver(t *testing.T, sn snippet, dir, secret string, out *bytes.Buffer) int {
	t.Helper()
	for range 5 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		out.Reset()
		cmd := sn.start(t, dir, sn.file, port)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "POCKETRAMP_API_SECRET="+secret)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		t.Cleanup(func() { cmd.Process.Kill(); <-exited })
		listening := func() bool {
			c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
			if err == nil {
				c.Close()
			}
			return err == nil
		}
		up := false
		testkit.WaitFor(t, 20*time.Second, "the "+sn.lang+" receiver to listen or exit: "+out.String(), func() bool {
			select {
			case <-exited:
				return true
			default:
				up = listening()
				return up
			}
		})
		if up {
			return port
		}
		t.Logf("the %s receiver exited on port %d (taken?), trying another: %s", sn.lang, port, out.String())
	}
	t.Fatalf("the %s receiver did not start", sn.lang)
	return 0
}

// signedDelivery returns a real delivery pocketramp signed: the freshest one the receiver got,
// after asking for a test delivery so there is one younger than a minute.
func signedDelivery(t *testing.T, e *env) delivery {
	t.Helper()
	tok := e.base["token"].(string)
	post := func(path, form string) {
		req, _ := http.NewRequest("POST", e.url+path, strings.NewReader(form))
		req.Header.Set("auth", tok)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	// Subscribing may already be done by the examples (subscription_already_exists): fine.
	post("/api/subscribeToWebhook", "type=KYC_STATUS_CHANGED&url="+e.base["webhook_url"].(string))
	post("/api/webhooks/test", "type=KYC_STATUS_CHANGED")
	var fresh delivery
	for _, d := range e.hooks.deliveries() {
		if time.Since(d.At) < time.Minute && d.Header.Get("X-Signature") != "" {
			fresh = d
		}
	}
	if fresh.Body == nil {
		t.Fatal("no signed delivery arrived")
	}
	return fresh
}

func testSnippets(t *testing.T, e *env) {
	src, err := docs.Source(docs.Page{File: "webhooks.md"})
	if err != nil {
		t.Fatal(err)
	}
	code := map[string]string{}
	for _, b := range docs.FencedBlocks(src) {
		if _, ok := b.Attrs["verify"]; ok {
			if _, dup := code[b.Lang]; dup {
				t.Fatalf("webhooks.md:%d: two verify snippets in %s", b.Line, b.Lang)
			}
			code[b.Lang] = b.Text
		}
	}
	secret := e.cred.APISecret
	d := signedDelivery(t, e)
	// A PAY_IN or COINS_SENT delivery from the flows, when a recent one arrived, is checked too.
	real := []delivery{d}
	for _, x := range e.hooks.deliveries() {
		if time.Since(x.At) < 4*time.Minute && !bytes.Contains(x.Body, []byte(`"test":true`)) {
			real = append(real, x)
		}
	}
	t.Logf("checking the snippets against %d real deliveries", len(real))
	for _, sn := range snippets {
		t.Run(sn.lang, func(t *testing.T) {
			body, ok := code[sn.lang]
			if !ok {
				t.Fatalf("webhooks.md has no %s block tagged verify", sn.lang)
			}
			if _, err := exec.LookPath(sn.interp); err != nil {
				if os.Getenv("CI") == "true" && sn.ci {
					t.Fatalf("CI=true but %s is not installed", sn.interp)
				}
				t.Skipf("%s is not installed: skipping the %s snippet", sn.interp, sn.lang)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, sn.file), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			port := startReceiver(t, sn, dir, secret, &out)
			url := fmt.Sprintf("http://127.0.0.1:%d/webhooks/pocketramp", port)
			send := func(body []byte, ts, sig string) int {
				req, _ := http.NewRequestWithContext(context.Background(), "POST", url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-API-Key", e.cred.APIKey)
				if ts != "" {
					req.Header.Set("X-Timestamp", ts)
				}
				if sig != "" {
					req.Header.Set("X-Signature", sig)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatalf("%s receiver: %v\n%s", sn.lang, err, out.String())
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			now := time.Now().Unix()
			sign := func(body []byte, ts int64) (string, string) {
				s := strconv.FormatInt(ts, 10)
				return s, webhook.SignCryptoPocket(secret, body, s)
			}
			for i, r := range real {
				if got := send(r.Body, r.Header.Get("X-Timestamp"), r.Header.Get("X-Signature")); got != 200 {
					t.Errorf("real delivery %d (%s): %d, want 200\n%s", i, r.Body, got, out.String())
				}
			}
			tampered := bytes.Replace(d.Body, []byte(`"type"`), []byte(`"tyPe"`), 1)
			ts, sig := sign(d.Body, now)
			cases := []struct {
				name    string
				body    []byte
				ts, sig string
				want    int
			}{
				{"freshly signed", d.Body, ts, sig, 200},
				{"tampered body", tampered, d.Header.Get("X-Timestamp"), d.Header.Get("X-Signature"), 401},
				{"signature of another secret", d.Body, ts, webhook.SignCryptoPocket("sk_sandbox_other", d.Body, ts), 401},
				{"signature without the timestamp", d.Body, ts, webhook.SignCryptoPocket(secret, d.Body, ""), 401},
				{"missing signature", d.Body, ts, "", 401},
				{"missing timestamp", d.Body, "", sig, 401},
				{"not a number", d.Body, "soon", webhook.SignCryptoPocket(secret, d.Body, "soon"), 401},
			}
			old, oldSig := sign(d.Body, now-6*60)
			cases = append(cases, struct {
				name    string
				body    []byte
				ts, sig string
				want    int
			}{"six minutes old", d.Body, old, oldSig, 401})
			future, futureSig := sign(d.Body, now+6*60)
			cases = append(cases, struct {
				name    string
				body    []byte
				ts, sig string
				want    int
			}{"six minutes ahead", d.Body, future, futureSig, 401})
			for _, c := range cases {
				if got := send(c.body, c.ts, c.sig); got != c.want {
					t.Errorf("%s: %d, want %d\n%s", c.name, got, c.want, out.String())
				}
			}
		})
	}
}
