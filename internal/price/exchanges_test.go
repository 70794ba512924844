package price

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var fixedNow = time.Date(2026, 6, 26, 10, 30, 0, 0, time.UTC)

func clock() time.Time { return fixedNow }

// replay is one canned exchange answer.
type replay struct {
	status int    // 0 means 200
	file   string // under testdata/
	body   string // used when file is empty
	slow   bool   // never answer; wait for the client to give up
}

// serve starts a server that answers every request with r and returns a
// function listing the request URIs seen so far.
func serve(t *testing.T, r replay) (*httptest.Server, func() []string) {
	t.Helper()
	body := []byte(r.body)
	if r.file != "" {
		b, err := os.ReadFile(filepath.Join("testdata", r.file))
		if err != nil {
			t.Fatal(err)
		}
		body = b
	}
	var (
		mu   sync.Mutex
		seen []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		seen = append(seen, req.URL.RequestURI())
		mu.Unlock()
		if r.slow {
			<-req.Context().Done()
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.status != 0 {
			w.WriteHeader(r.status)
		}
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

type exchangeCase struct {
	name    string
	symbol  string
	fiat    string
	replay  replay
	wantURI string // "" means no request may be made
	price   string
	updated time.Time
	wantErr error
	wantMsg string
}

func runExchangeCases(t *testing.T, newProvider func(base string) Provider, cases []exchangeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, seen := serve(t, tc.replay)
			p := newProvider(srv.URL)
			q, err := p.Price(context.Background(), tc.symbol, tc.fiat)
			got := seen()
			if tc.wantURI != "" {
				if len(got) != 1 || got[0] != tc.wantURI {
					t.Errorf("requests = %v, want [%s]", got, tc.wantURI)
				}
			} else if len(got) != 0 {
				t.Errorf("unexpected requests %v", got)
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Price = %+v, %v; want %v", q, err, tc.wantErr)
				}
				other := ErrUnsupported
				if tc.wantErr == ErrUnsupported {
					other = ErrUnavailable
				}
				if errors.Is(err, other) {
					t.Errorf("error %v is also %v", err, other)
				}
				if !strings.Contains(err.Error(), tc.wantMsg) {
					t.Errorf("message %q does not contain %q", err, tc.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatalf("Price: %v", err)
			}
			if q.Price.String() != tc.price {
				t.Errorf("price = %s, want %s", q.Price, tc.price)
			}
			if !q.UpdatedAt.Equal(tc.updated) {
				t.Errorf("UpdatedAt = %s, want %s", q.UpdatedAt, tc.updated)
			}
			if q.Symbol != strings.ToUpper(tc.symbol) || q.Fiat != strings.ToUpper(tc.fiat) || q.Source != p.Name() {
				t.Errorf("quote = %+v", q)
			}
		})
	}
}

func TestKraken(t *testing.T) {
	runExchangeCases(t, func(base string) Provider {
		k := NewKraken(base, nil)
		k.Now = clock
		return k
	}, []exchangeCase{
		{name: "USDC/EUR", symbol: "USDC", fiat: "EUR", replay: replay{file: "kraken/ticker_usdceur.json"},
			wantURI: "/0/public/Ticker?pair=USDCEUR", price: "0.9201", updated: fixedNow},
		{name: "lower case input", symbol: "usdc", fiat: "eur", replay: replay{file: "kraken/ticker_usdceur.json"},
			wantURI: "/0/public/Ticker?pair=USDCEUR", price: "0.9201", updated: fixedNow},
		{name: "ETH/EUR answers under XETHZEUR", symbol: "ETH", fiat: "EUR", replay: replay{file: "kraken/ticker_etheur.json"},
			wantURI: "/0/public/Ticker?pair=ETHEUR", price: "2301.45", updated: fixedNow},
		{name: "no LATAM market", symbol: "USDC", fiat: "CLP", wantErr: ErrUnsupported, wantMsg: "kraken has no USDC/CLP market"},
		{name: "unknown token", symbol: "DOGE", fiat: "EUR", wantErr: ErrUnsupported, wantMsg: "DOGE/EUR"},
		{name: "invalid code", symbol: "US/DC", fiat: "EUR", wantErr: ErrUnsupported, wantMsg: "invalid pair"},
		{name: "unknown asset pair", symbol: "USDC", fiat: "EUR", replay: replay{file: "kraken/error_unknown_pair.json"},
			wantURI: "/0/public/Ticker?pair=USDCEUR", wantErr: ErrUnsupported, wantMsg: "EQuery:Unknown asset pair"},
		{name: "service unavailable", symbol: "USDC", fiat: "EUR", replay: replay{file: "kraken/error_unavailable.json"},
			wantURI: "/0/public/Ticker?pair=USDCEUR", wantErr: ErrUnavailable, wantMsg: "EService:Unavailable"},
		{name: "HTTP 500", symbol: "USDC", fiat: "EUR", replay: replay{status: 500, body: "internal error"},
			wantURI: "/0/public/Ticker?pair=USDCEUR", wantErr: ErrUnavailable, wantMsg: "HTTP 500"},
		{name: "HTTP 502 html", symbol: "USDC", fiat: "EUR", replay: replay{status: 502, file: "garbage.html"},
			wantURI: "/0/public/Ticker?pair=USDCEUR", wantErr: ErrUnavailable, wantMsg: "HTTP 502"},
		{name: "garbage with 200", symbol: "USDC", fiat: "EUR", replay: replay{file: "garbage.html"},
			wantURI: "/0/public/Ticker?pair=USDCEUR", wantErr: ErrUnavailable, wantMsg: "malformed answer"},
		{name: "empty result", symbol: "USDC", fiat: "EUR", replay: replay{file: "kraken/ticker_empty_result.json"},
			wantURI: "/0/public/Ticker?pair=USDCEUR", wantErr: ErrUnavailable, wantMsg: "got 0"},
		{name: "numeric price refused", symbol: "USDC", fiat: "EUR", replay: replay{file: "kraken/ticker_numeric_price.json"},
			wantURI: "/0/public/Ticker?pair=USDCEUR", wantErr: ErrUnavailable, wantMsg: "malformed answer"},
		{name: "zero price", symbol: "USDC", fiat: "EUR", replay: replay{file: "kraken/ticker_zero_price.json"},
			wantURI: "/0/public/Ticker?pair=USDCEUR", wantErr: ErrUnavailable, wantMsg: "greater than zero"},
		{name: "exponent price", symbol: "USDC", fiat: "EUR", replay: replay{file: "kraken/ticker_exponent_price.json"},
			wantURI: "/0/public/Ticker?pair=USDCEUR", wantErr: ErrUnavailable, wantMsg: "exponent"},
		{name: "two tickers", symbol: "USDC", fiat: "EUR",
			replay:  replay{body: `{"error":[],"result":{"A":{"c":["1","1"]},"B":{"c":["2","1"]}}}`},
			wantURI: "/0/public/Ticker?pair=USDCEUR", wantErr: ErrUnavailable, wantMsg: "got 2"},
		{name: "ticker without c", symbol: "USDC", fiat: "EUR", replay: replay{body: `{"error":[],"result":{"USDCEUR":{}}}`},
			wantURI: "/0/public/Ticker?pair=USDCEUR", wantErr: ErrUnavailable, wantMsg: "no last trade price"},
	})
}

func TestBitstamp(t *testing.T) {
	ts := time.Unix(1700000000, 0).UTC()
	runExchangeCases(t, func(base string) Provider { return NewBitstamp(base, nil) }, []exchangeCase{
		{name: "USDC/EUR", symbol: "USDC", fiat: "EUR", replay: replay{file: "bitstamp/ticker_usdceur.json"},
			wantURI: "/api/v2/ticker/usdceur/", price: "0.9201", updated: ts},
		{name: "ETH/EUR", symbol: "ETH", fiat: "EUR", replay: replay{file: "bitstamp/ticker_etheur.json"},
			wantURI: "/api/v2/ticker/etheur/", price: "2301.5", updated: ts},
		{name: "no market", symbol: "BNB", fiat: "EUR", wantErr: ErrUnsupported, wantMsg: "bitstamp has no BNB/EUR market"},
		{name: "404", symbol: "USDC", fiat: "EUR", replay: replay{status: 404, file: "bitstamp/not_found.html"},
			wantURI: "/api/v2/ticker/usdceur/", wantErr: ErrUnsupported, wantMsg: "HTTP 404"},
		{name: "error body", symbol: "USDC", fiat: "EUR", replay: replay{status: 429, file: "bitstamp/error.json"},
			wantURI: "/api/v2/ticker/usdceur/", wantErr: ErrUnavailable, wantMsg: "Rate limit exceeded"},
		{name: "HTTP 500", symbol: "USDC", fiat: "EUR", replay: replay{status: 500, file: "garbage.html"},
			wantURI: "/api/v2/ticker/usdceur/", wantErr: ErrUnavailable, wantMsg: "HTTP 500"},
		{name: "garbage", symbol: "USDC", fiat: "EUR", replay: replay{body: "not json"},
			wantURI: "/api/v2/ticker/usdceur/", wantErr: ErrUnavailable, wantMsg: "malformed answer"},
		{name: "no timestamp", symbol: "USDC", fiat: "EUR", replay: replay{file: "bitstamp/ticker_no_timestamp.json"},
			wantURI: "/api/v2/ticker/usdceur/", wantErr: ErrUnavailable, wantMsg: "bad timestamp"},
		{name: "no last", symbol: "USDC", fiat: "EUR", replay: replay{body: `{"timestamp":"1700000000"}`},
			wantURI: "/api/v2/ticker/usdceur/", wantErr: ErrUnavailable, wantMsg: "no last price"},
		{name: "NaN last", symbol: "USDC", fiat: "EUR", replay: replay{body: `{"last":"NaN","timestamp":"1700000000"}`},
			wantURI: "/api/v2/ticker/usdceur/", wantErr: ErrUnavailable, wantMsg: "not a number"},
		{name: "negative last", symbol: "USDC", fiat: "EUR", replay: replay{body: `{"last":"-0.92","timestamp":"1700000000"}`},
			wantURI: "/api/v2/ticker/usdceur/", wantErr: ErrUnavailable, wantMsg: "negative"},
	})
}

func TestCoinbase(t *testing.T) {
	runExchangeCases(t, func(base string) Provider {
		c := NewCoinbase(base, nil)
		c.Now = clock
		return c
	}, []exchangeCase{
		{name: "USDC/EUR", symbol: "USDC", fiat: "EUR", replay: replay{file: "coinbase/spot_usdc_eur.json"},
			wantURI: "/v2/prices/USDC-EUR/spot", price: "0.9201", updated: fixedNow},
		{name: "ETH/CLP", symbol: "ETH", fiat: "CLP", replay: replay{file: "coinbase/spot_eth_clp.json"},
			wantURI: "/v2/prices/ETH-CLP/spot", price: "2186432.115", updated: fixedNow},
		{name: "wrong pair in answer", symbol: "ETH", fiat: "USD", replay: replay{file: "coinbase/spot_wrong_pair.json"},
			wantURI: "/v2/prices/ETH-USD/spot", wantErr: ErrUnavailable, wantMsg: "answered BTC-USD"},
		{name: "no market", symbol: "BNB", fiat: "EUR", wantErr: ErrUnsupported, wantMsg: "coinbase has no BNB/EUR market"},
		{name: "404", symbol: "USDC", fiat: "EUR", replay: replay{status: 404, file: "coinbase/error_not_found.json"},
			wantURI: "/v2/prices/USDC-EUR/spot", wantErr: ErrUnsupported, wantMsg: "Invalid currency"},
		{name: "400 with errors", symbol: "USDC", fiat: "EUR", replay: replay{status: 400, file: "coinbase/error_not_found.json"},
			wantURI: "/v2/prices/USDC-EUR/spot", wantErr: ErrUnsupported, wantMsg: "not_found"},
		{name: "500 with errors", symbol: "USDC", fiat: "EUR", replay: replay{status: 500, file: "coinbase/error_internal.json"},
			wantURI: "/v2/prices/USDC-EUR/spot", wantErr: ErrUnavailable, wantMsg: "internal_server_error"},
		{name: "503 html", symbol: "USDC", fiat: "EUR", replay: replay{status: 503, file: "garbage.html"},
			wantURI: "/v2/prices/USDC-EUR/spot", wantErr: ErrUnavailable, wantMsg: "HTTP 503"},
		{name: "garbage", symbol: "USDC", fiat: "EUR", replay: replay{file: "garbage.html"},
			wantURI: "/v2/prices/USDC-EUR/spot", wantErr: ErrUnavailable, wantMsg: "malformed answer"},
		{name: "no data", symbol: "USDC", fiat: "EUR", replay: replay{body: `{}`},
			wantURI: "/v2/prices/USDC-EUR/spot", wantErr: ErrUnavailable, wantMsg: "malformed answer"},
		{name: "numeric amount", symbol: "USDC", fiat: "EUR", replay: replay{body: `{"data":{"amount":0.92}}`},
			wantURI: "/v2/prices/USDC-EUR/spot", wantErr: ErrUnavailable, wantMsg: "malformed answer"},
		{name: "empty amount", symbol: "USDC", fiat: "EUR", replay: replay{body: `{"data":{"amount":"","base":"USDC","currency":"EUR"}}`},
			wantURI: "/v2/prices/USDC-EUR/spot", wantErr: ErrUnavailable, wantMsg: "bad price"},
	})
}

// TestExchangeTransportFailures covers what is common to the three
// adapters: a slow server hits the timeout, a dead server is unavailable, a
// huge body is refused, and the caller's context is honoured.
func TestExchangeTransportFailures(t *testing.T) {
	adapters := map[string]func(base string, timeout time.Duration) Provider{
		"kraken": func(base string, timeout time.Duration) Provider {
			return &Kraken{BaseURL: base, Timeout: timeout}
		},
		"bitstamp": func(base string, timeout time.Duration) Provider {
			return &Bitstamp{BaseURL: base, Timeout: timeout}
		},
		"coinbase": func(base string, timeout time.Duration) Provider {
			return &Coinbase{BaseURL: base, Timeout: timeout}
		},
	}
	for name, newP := range adapters {
		t.Run(name+"/slow", func(t *testing.T) {
			srv, _ := serve(t, replay{slow: true})
			start := time.Now()
			_, err := newP(srv.URL, 50*time.Millisecond).Price(context.Background(), "USDC", "EUR")
			if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want unavailable + deadline exceeded", err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("timeout took %s", d)
			}
		})
		t.Run(name+"/caller context", func(t *testing.T) {
			srv, _ := serve(t, replay{slow: true})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
			defer cancel()
			_, err := newP(srv.URL, 0).Price(ctx, "USDC", "EUR")
			if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v", err)
			}
		})
		t.Run(name+"/dead server", func(t *testing.T) {
			srv := httptest.NewServer(http.NotFoundHandler())
			base := srv.URL
			srv.Close()
			_, err := newP(base, time.Second).Price(context.Background(), "USDC", "EUR")
			if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "request failed") {
				t.Fatalf("err = %v", err)
			}
		})
		t.Run(name+"/huge body", func(t *testing.T) {
			srv, _ := serve(t, replay{body: `{"x":"` + strings.Repeat("a", maxBody) + `"}`})
			_, err := newP(srv.URL, time.Second).Price(context.Background(), "USDC", "EUR")
			if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "larger than") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestExchangeDefaultTimeout(t *testing.T) {
	var k Kraken
	if e := k.ex(); e.baseURL != "https://api.kraken.com" || e.timeout != 0 || len(e.pairs) == 0 {
		t.Fatalf("kraken defaults: %+v", e)
	}
	if DefaultTimeout != 5*time.Second {
		t.Fatalf("DefaultTimeout = %s", DefaultTimeout)
	}
	var b Bitstamp
	if e := b.ex(); e.baseURL != "https://www.bitstamp.net" {
		t.Fatalf("bitstamp base %s", e.baseURL)
	}
	var c Coinbase
	if e := c.ex(); e.baseURL != "https://api.coinbase.com" || e.pairs["USDC/ARS"] != "USDC-ARS" {
		t.Fatalf("coinbase defaults: %+v", e)
	}
}

// Custom pairs replace the defaults, and a base URL with a trailing slash
// still produces clean paths.
func TestExchangeCustomPairs(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != "/api/v2/ticker/poleur/" {
			t.Errorf("path %s", r.URL.Path)
		}
		w.Write([]byte(`{"last":"0.368","timestamp":"1700000000"}`))
	}))
	defer srv.Close()
	b := &Bitstamp{BaseURL: srv.URL + "/", Pairs: map[string]string{"POL/EUR": "poleur"}}
	q, err := b.Price(context.Background(), "POL", "EUR")
	if err != nil || q.Price.String() != "0.368" {
		t.Fatalf("Price = %+v, %v", q, err)
	}
	if _, err := b.Price(context.Background(), "USDC", "EUR"); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("default pair still present: %v", err)
	}
	if hits.Load() != 1 {
		t.Fatalf("hits = %d", hits.Load())
	}
}
