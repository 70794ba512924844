package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/client"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
	"github.com/pocketramp/pocketramp/internal/testkit"
)

// Three `serve` processes on one PostgreSQL database and one shared data dir, buy and sell load
// spread over them through the partner API, and the leader (the instance running the chain
// passes, the sandbox chain, expiry and the sandbox bank) killed with SIGKILL mid-load. Shown:
// nothing lost (every payment and sale created reaches its final status), no payout sent twice
// (the hot wallet's transactions on the chain, counted per recipient), every webhook delivered
// (counted by event id at the receiver), and `ledger verify` clean.
//
// The test stops sending requests to the victim just before killing it: it is the server's
// background work (payouts signed or broadcast, deposits being scanned, blocks being mined,
// webhooks being delivered) that the kill interrupts, not a client's request in flight.
func TestThreeInstancesOnePostgres(t *testing.T) {
	t.Parallel()
	if os.Getenv("TEST_DATABASE_URL") == "" {
		t.Skip("TEST_DATABASE_URL not set: the multi-instance test needs PostgreSQL")
	}
	bin := binary(t)
	dbURL := storetest.PostgresURL(t)
	dir := t.TempDir()
	key := make([]byte, 32)
	rand.Read(key)
	env := []string{"POCKETRAMP_DATABASE_URL=" + dbURL, "POCKETRAMP_PRICE_SOURCES=sandbox", "POCKETRAMP_SANDBOX_BLOCK_INTERVAL=500ms",
		"POCKETRAMP_MASTER_KEY=" + base64.StdEncoding.EncodeToString(key), "POCKETRAMP_OPERATOR_TOKEN=op_" + hex.EncodeToString(key[:16]),
		"POCKETRAMP_WEBHOOK_RETRY_BASE=1s"}
	opToken := "op_" + hex.EncodeToString(key[:16])
	ctx := context.Background()

	insts := []*instance{startInstance(t, bin, env, true, "--data-dir", dir)}
	for range 2 {
		insts = append(insts, startInstance(t, bin, env, false, "--data-dir", dir))
	}
	apiKey, apiSecret := insts[0].key, insts[0].secret
	if apiKey == "" {
		t.Fatalf("no sandbox integration printed:\n%s", insts[0].stderr.String())
	}
	t.Cleanup(func() {
		if t.Failed() {
			for i, in := range insts {
				t.Logf("instance %d (pid %d) log:\n%s", i, in.cmd.Process.Pid, lastLines(withoutRequests(in.stderr.String()), 80))
			}
		}
	})
	clients := make([]*client.Client, len(insts))
	for i, in := range insts {
		clients[i] = client.New(in.base, apiKey, apiSecret)
	}

	// The webhook receiver counts deliveries by event id.
	var hookMu sync.Mutex
	received := map[string]int{}
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := client.VerifyWebhook(body, r.Header, apiKey, apiSecret, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		ev, err := client.ParseWebhook(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		hookMu.Lock()
		received[ev.ID]++
		hookMu.Unlock()
	}))
	defer hooks.Close()
	for _, typ := range []string{client.EventPayIn, client.EventCoinsSent, client.EventCryptoReceived, client.EventTransferRampoffFinished,
		client.EventKYCStatusChanged, client.EventPaymentFailed, client.EventRampoffFailed} {
		if err := clients[0].SubscribeToWebhook(ctx, typ, hooks.URL+"/hook"); err != nil {
			t.Fatal(err)
		}
	}

	// Requests go round-robin to the live instances; the killer takes gate exclusively, so no
	// request is in flight to the victim when it dies.
	var (
		gate    sync.RWMutex
		aliveMu sync.Mutex
		alive   = []int{0, 1, 2}
		next    atomic.Int64
	)
	pick := func() *client.Client {
		aliveMu.Lock()
		defer aliveMu.Unlock()
		return clients[alive[int(next.Add(1))%len(alive)]]
	}
	call := func(f func(c *client.Client) error) error {
		gate.RLock()
		defer gate.RUnlock()
		return f(pick())
	}

	const buys, sells = 12, 12
	type op struct {
		buy    bool
		id     string
		wallet string
	}
	ops := make([]op, buys+sells)
	var created atomic.Int64
	killAt := int64((buys + sells) / 2)
	killed := make(chan int, 1)
	kill := func() {
		gate.Lock()
		defer gate.Unlock()
		db, err := sql.Open("pgx", dbURL)
		if err != nil {
			t.Error(err)
			return
		}
		defer db.Close()
		var holder string
		if err := db.QueryRow(`SELECT holder FROM leader WHERE name = 'background'`).Scan(&holder); err != nil {
			t.Errorf("leader row: %v", err)
			return
		}
		pid, _ := strconv.Atoi(holder[strings.LastIndex(holder, ":")+1:])
		for i, in := range insts {
			if in.cmd.Process.Pid == pid {
				aliveMu.Lock()
				alive = append(alive[:0:0], without(alive, i)...)
				aliveMu.Unlock()
				in.kill()
				killed <- i
				return
			}
		}
		t.Errorf("the leader %s is none of the instances", holder)
	}

	var wg sync.WaitGroup
	errs := make(chan error, len(ops))
	work := make(chan int)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := runOp(ctx, call, &ops[i].id, &ops[i].wallet, i, i < buys); err != nil {
					errs <- fmt.Errorf("operation %d: %w", i, err)
				}
				ops[i].buy = i < buys
				if created.Add(1) == killAt {
					go kill()
				}
			}
		}()
	}
	for i := range ops {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	var victim int
	select {
	case victim = <-killed:
	case <-time.After(time.Minute):
		t.Fatal("the leader was not killed")
	}
	t.Logf("killed instance %d (the leader) after %d of %d operations", victim, killAt, len(ops))
	survivor := insts[without([]int{0, 1, 2}, victim)[0]]
	c := client.New(survivor.base, apiKey, apiSecret)

	// Nothing lost: every operation reaches its final status.
	for _, o := range ops {
		o := o
		testkit.WaitUntil(t, 4*time.Minute, "operation "+o.id+" final", func() (bool, error) {
			if o.buy {
				p, err := c.GetPayment(ctx, o.id)
				if err == nil && p.Status == client.PaymentFailed {
					return false, fmt.Errorf("payment failed: %s", p.FailureReason)
				}
				if err == nil && p.Status != client.PaymentCoinsSent {
					err = fmt.Errorf("payment status %s %s", p.Status, p.HoldReason)
				}
				return err == nil, err
			}
			r, err := c.GetRampoff(ctx, o.id)
			if err == nil && r.Status == client.RampoffFailed {
				return false, fmt.Errorf("sale failed: %s", r.FailureReason)
			}
			if err == nil && r.Status != client.RampoffFinished {
				err = fmt.Errorf("sale status %s %s", r.Status, r.HoldReason)
			}
			return err == nil, err
		})
	}

	// No payout sent twice: the hot wallet's token transfers on the chain, per recipient.
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var hot string
	var payouts int
	if err := db.QueryRow(`SELECT MIN(from_address), COUNT(*) FROM chain_payouts WHERE chain = 'sandbox:polygon'`).Scan(&hot, &payouts); err != nil {
		t.Fatal(err)
	}
	var dupKeys int
	db.QueryRow(`SELECT COUNT(*) FROM (SELECT key FROM chain_payouts GROUP BY key HAVING COUNT(*) > 1) d`).Scan(&dupKeys)
	sent := hotWalletTransfers(t, survivor, opToken, hot)
	dups := 0
	for _, o := range ops {
		if o.buy && sent[strings.ToLower(o.wallet)] != 1 {
			t.Errorf("payment %s: %d transfers to %s on the chain, want 1", o.id, sent[strings.ToLower(o.wallet)], o.wallet)
		}
	}
	for _, n := range sent {
		if n > 1 {
			dups += n - 1
		}
	}
	if dups > 0 || dupKeys > 0 {
		t.Errorf("payouts sent twice: %d duplicate transfers, %d duplicate payout keys", dups, dupKeys)
	}

	// Every webhook delivered: every event of the integration reached the receiver.
	var events []client.Event
	for after := int64(0); ; {
		page, err := c.Events(ctx, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		events = append(events, page...)
		after = page[len(page)-1].Sequence
	}
	testkit.WaitUntil(t, 3*time.Minute, "every webhook delivered", func() (bool, error) {
		hookMu.Lock()
		defer hookMu.Unlock()
		for _, ev := range events {
			if received[ev.ID] == 0 {
				return false, fmt.Errorf("%s %s not delivered yet", ev.Type, ev.ID)
			}
		}
		return true, nil
	})
	hookMu.Lock()
	redelivered := 0
	for _, n := range received {
		redelivered += n - 1
	}
	hookMu.Unlock()

	ledger := exec.Command(bin, "ledger", "verify", "--data-dir", dir)
	ledger.Env = append(os.Environ(), env...)
	if out, err := ledger.CombinedOutput(); err != nil || !strings.Contains(string(out), "ledger OK") {
		t.Fatalf("ledger verify: %v\n%s", err, out)
	}
	t.Logf("%d purchases and %d sales over 3 instances, leader killed mid-load: all final; %d chain payouts, %d on-chain transfers from the hot wallet, %d duplicates; %d events, all delivered (%d redeliveries); ledger OK",
		buys, sells, payouts, sentTotal(sent), dups, len(events), redelivered)
}

func sentTotal(m map[string]int) int {
	total := 0
	for _, n := range m {
		total += n
	}
	return total
}

// runOp runs one purchase (paid by bank transfer in the sandbox) or one sale (deposit sent on
// the sandbox chain), each step through call.
func runOp(ctx context.Context, call func(func(c *client.Client) error) error, id, wallet *string, i int, buy bool) error {
	email := fmt.Sprintf("customer%d@example.com", i)
	var uid int64
	if err := call(func(c *client.Client) (err error) { uid, err = verifiedCustomer(ctx, c, email); return err }); err != nil {
		return err
	}
	if buy {
		w := make([]byte, 20)
		rand.Read(w)
		*wallet = "0x" + hex.EncodeToString(w)
		var p *client.CreatedPayment
		if err := call(func(c *client.Client) (err error) {
			p, err = c.CreatePayment(ctx, client.CreatePaymentRequest{UserID: uid, PaymentType: client.PaymentTransfer, FiatSymbol: "EUR",
				FiatAmount: json.Number(strconv.Itoa(50 + i)), CoinSymbol: "USDC", CoinChain: "polygon", Wallet: *wallet, ExternalID: fmt.Sprint("buy-", i)})
			return err
		}); err != nil {
			return err
		}
		*id = p.PaymentID
		return call(func(c *client.Client) error {
			_, err := c.SandboxPay(ctx, p.PaymentID, client.SandboxPayRequest{PayerName: "Test"})
			return err
		})
	}
	var r *client.CreatedRampoff
	if err := call(func(c *client.Client) (err error) {
		r, err = c.CreateRampoff(ctx, client.CreateRampoffRequest{UserID: uid, Amount: json.Number(strconv.Itoa(40 + i)), Symbol: "USDC", Blockchain: "polygon",
			ExternalID: fmt.Sprint("sell-", i)})
		return err
	}); err != nil {
		return err
	}
	*id = r.ID
	return call(func(c *client.Client) error {
		_, err := c.SandboxDeposit(ctx, r.ID, client.SandboxDepositRequest{})
		return err
	})
}

// hotWalletTransfers counts, per recipient, the ERC-20 transfers the hot wallet sent on the
// sandbox polygon chain, reading every block through the operator API's JSON-RPC.
func hotWalletTransfers(t *testing.T, in *instance, token, hot string) map[string]int {
	t.Helper()
	var headHex string
	if err := in.rpc(t, token, "polygon", "eth_blockNumber", nil, &headHex); err != nil {
		t.Fatal(err)
	}
	head, _ := new(big.Int).SetString(strings.TrimPrefix(headHex, "0x"), 16)
	out := map[string]int{}
	for n := int64(1); n <= head.Int64(); n++ {
		var block struct {
			Transactions []struct {
				From  string
				Input string
			}
		}
		if err := in.rpc(t, token, "polygon", "eth_getBlockByNumber", []any{fmt.Sprintf("0x%x", n), true}, &block); err != nil {
			t.Fatal(err)
		}
		for _, tx := range block.Transactions {
			// transfer(address,uint256): selector a9059cbb, then the recipient in the last 20 bytes of word 1.
			if strings.EqualFold(tx.From, hot) && strings.HasPrefix(tx.Input, "0xa9059cbb") && len(tx.Input) >= 10+128 {
				out["0x"+strings.ToLower(tx.Input[10+24:10+64])]++
			}
		}
	}
	return out
}

func without(xs []int, x int) []int {
	var out []int
	for _, v := range xs {
		if v != x {
			out = append(out, v)
		}
	}
	return out
}

func withoutRequests(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.Contains(l, "msg=request ") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
