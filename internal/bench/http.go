package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pocketramp/pocketramp/internal/app"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/onramp"
)

// Result is one HTTP target's figures.
type Result struct {
	Name     string
	Requests int
	Errors   int
	PerSec   float64
	P50, P99 time.Duration
	// CPU is this process's CPU time (user and system) per request during the load: the
	// server's and the load generator's together, which on a machine shared with the database
	// is taken from the database's share.
	CPU time.Duration
}

func (r Result) note() string {
	s := fmt.Sprintf("p50 %.2f ms, p99 %.2f ms", ms(r.P50), ms(r.P99))
	if r.CPU > 0 {
		s += fmt.Sprintf(", process CPU %d µs/req", r.CPU.Microseconds())
	}
	if r.Errors > 0 {
		s += fmt.Sprintf(", %d errors", r.Errors)
	}
	return s
}

// httpBench is pocketramp's public listener and the hello-world server on loopback, with a
// logged-in sandbox integration.
type httpBench struct {
	a         *app.App
	opt       Options
	client    *http.Client
	base      string
	helloURL  string
	token     string
	intID     int64
	stops     []func()
	customers int
	bodies    [][]byte
	nextBuyer atomic.Int64
}

// BenchCustomers is how many KYC-approved customers createPayment cycles through: an operator's
// load comes from many customers, and each customer's payments are serialised by its limit lock.
const BenchCustomers = 64

func newHTTPBench(ctx context.Context, a *app.App, cred integration.Credentials, opt Options) (*httpBench, error) {
	h := &httpBench{a: a, opt: opt, intID: cred.ID, customers: BenchCustomers}
	base, stop, err := listen(a.Handler())
	if err != nil {
		return nil, err
	}
	h.base, h.stops = base, append(h.stops, stop)
	hello, stopHello, err := listen(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"status": "ok", "data": map[string]string{"hello": "world"}})
	}))
	if err != nil {
		h.close()
		return nil, err
	}
	h.helloURL, h.stops = hello, append(h.stops, stopHello)
	h.client = &http.Client{Transport: &http.Transport{MaxIdleConns: opt.Concurrency * 2, MaxIdleConnsPerHost: opt.Concurrency * 2}}
	loginBody, _ := json.Marshal(map[string]string{"api_key": cred.APIKey, "api_secret": cred.APISecret})
	var login struct {
		Data struct{ Token string } `json:"data"`
	}
	resp, err := h.client.Post(base+"/api/authenticate", "application/json", bytes.NewReader(loginBody))
	if err != nil {
		h.close()
		return nil, err
	}
	json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	if login.Data.Token == "" {
		h.close()
		return nil, fmt.Errorf("bench login failed")
	}
	h.token = login.Data.Token
	return h, nil
}

func (h *httpBench) close() {
	for _, s := range h.stops {
		s()
	}
}

// get is a GET of path on pocketramp with the integration's token.
func (h *httpBench) get(path string) func() []byte {
	return always(wireRequest("GET", h.base+path, nil, "auth", h.token))
}

func (h *httpBench) hello() Result {
	return load(hostOf(h.helloURL), "hello-world", always(wireRequest("GET", h.helloURL+"/", nil)), h.opt)
}

func (h *httpBench) tokenPrice() Result {
	return load(hostOf(h.base), "token-price", h.get("/api/token-price?symbol=USDC&fiat_symbol=EUR"), h.opt)
}

func (h *httpBench) quote() Result {
	return load(hostOf(h.base), "quote", h.get("/api/quote?symbol=USDC&chain=polygon&fiat_symbol=EUR&amount=25.00&payment_type=transfer"), h.opt)
}

// createPayment registers the buyers and loads POST /api/createPayment, each request for the
// next customer in turn.
func (h *httpBench) createPayment(ctx context.Context) (Result, error) {
	if err := h.buyers(ctx); err != nil {
		return Result{}, err
	}
	reqs := make([][]byte, len(h.bodies))
	for i, body := range h.bodies {
		reqs[i] = wireRequest("POST", h.base+"/api/createPayment", body, "auth", h.token)
	}
	return load(hostOf(h.base), "createPayment", func() []byte {
		return reqs[int(h.nextBuyer.Add(1))%len(reqs)]
	}, h.opt), nil
}

// buyers registers KYC-approved customers with limits high enough for a benchmark and keeps a
// createPayment body for each.
func (h *httpBench) buyers(ctx context.Context) error {
	if err := onramp.SaveSettings(ctx, h.a.DB, h.intID, onramp.Settings{BasicLimitEUR: "1000000000", ReinforcedLimitEUR: "1000000000"}, time.Now()); err != nil {
		return err
	}
	call := func(method, path string, body any, out any) error {
		buf, _ := json.Marshal(body)
		r, _ := http.NewRequestWithContext(ctx, method, h.base+path, bytes.NewReader(buf))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("auth", h.token)
		resp, err := h.client.Do(r)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		return json.NewDecoder(resp.Body).Decode(out)
	}
	for i := range h.customers {
		var reg struct{ Data struct{ ID int64 } }
		if err := call("POST", "/api/registerUser", map[string]any{"name": "Bench", "email": fmt.Sprintf("bench%d@example.com", i)}, &reg); err != nil || reg.Data.ID == 0 {
			return fmt.Errorf("bench customer: %v", err)
		}
		var kyc map[string]any
		if err := call("POST", fmt.Sprintf("/api/sandbox/customers/%d/kyc", reg.Data.ID), map[string]any{"status": "valid"}, &kyc); err != nil {
			return err
		}
		body, _ := json.Marshal(map[string]any{"user_id": reg.Data.ID, "payment_type": "transfer", "fiat_symbol": "EUR", "fiat_amount": "25.00",
			"coin_symbol": "USDC", "coin_chain": "polygon", "wallet": "0x52908400098527886E0F7030069857D2E4169EE7"})
		h.bodies = append(h.bodies, body)
	}
	return nil
}

// hostOf is the host:port of a base URL such as http://127.0.0.1:8080.
func hostOf(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		panic(err)
	}
	return u.Host
}

func listen(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// load runs a closed loop of opt.Concurrency workers, each on its own keep-alive connection to
// addr, sending the requests next gives for opt.Duration; an answer other than 200 counts as an
// error. One request first, untimed, warms what the target starts lazily (the sandbox chain of
// the first payment or quote).
func load(addr, name string, next func() []byte, opt Options) Result {
	warm := wireConn{addr: addr}
	warm.do(next())
	warm.close()
	ctx, cancel := context.WithTimeout(context.Background(), opt.Duration)
	defer cancel()
	var mu sync.Mutex
	var all []time.Duration
	errors := 0
	var wg sync.WaitGroup
	cpu0 := processCPU()
	start := time.Now()
	for range opt.Concurrency {
		wg.Go(func() {
			var lat []time.Duration
			errs := 0
			conn := wireConn{addr: addr}
			defer conn.close()
			for ctx.Err() == nil {
				t0 := time.Now()
				status, err := conn.do(next())
				if err != nil {
					errs++
					continue
				}
				if status != 200 {
					errs++
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			all = append(all, lat...)
			errors += errs
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0
	slices.Sort(all)
	r := Result{Name: name, Requests: len(all), Errors: errors, PerSec: float64(len(all)-errors) / elapsed.Seconds()}
	if len(all) > 0 && cpu > 0 {
		r.CPU = cpu / time.Duration(len(all))
	}
	if len(all) > 0 {
		r.P50 = all[len(all)*50/100]
		r.P99 = all[len(all)*99/100]
	}
	return r
}
