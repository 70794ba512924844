package price

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Kraken reads the last trade price from Kraken's public Ticker endpoint:
//
//	GET {base}/0/public/Ticker?pair=USDCEUR
//	{"error":[],"result":{"USDCEUR":{"c":["0.92010000","12.3"],...}}}
//
// The result key is Kraken's internal pair name, which may differ from the
// name asked for (ETHEUR answers under XETHZEUR), so the single result entry
// is taken whatever its key. Kraken's ticker has no timestamp: UpdatedAt is
// the time of the answer.
type Kraken struct {
	BaseURL string            // "" means https://api.kraken.com
	Client  *http.Client      // nil means http.DefaultClient
	Timeout time.Duration     // per request; 0 means DefaultTimeout
	Now     func() time.Time  // nil means time.Now
	Pairs   map[string]string // "USDC/EUR" -> "USDCEUR"; nil means KrakenPairs()
}

// KrakenPairs returns the default Kraken markets (there are no LATAM fiat
// markets on Kraken).
func KrakenPairs() map[string]string {
	return map[string]string{
		"USDC/EUR": "USDCEUR", "USDC/USD": "USDCUSD",
		"USDT/EUR": "USDTEUR", "USDT/USD": "USDTUSD",
		"ETH/EUR": "ETHEUR", "ETH/USD": "ETHUSD",
		"POL/EUR": "POLEUR", "POL/USD": "POLUSD",
		"BTC/EUR": "XBTEUR", "BTC/USD": "XBTUSD", // answered under XXBTZEUR, XXBTZUSD
	}
}

// NewKraken returns a Kraken adapter with the default markets.
func NewKraken(baseURL string, client *http.Client) *Kraken {
	return &Kraken{BaseURL: baseURL, Client: client}
}

// Name implements Provider.
func (k *Kraken) Name() string { return "kraken" }

func (k *Kraken) ex() *exchange {
	e := &exchange{name: k.Name(), baseURL: k.BaseURL, client: k.Client, timeout: k.Timeout, now: k.Now, pairs: k.Pairs}
	if e.baseURL == "" {
		e.baseURL = "https://api.kraken.com"
	}
	if e.pairs == nil {
		e.pairs = KrakenPairs()
	}
	return e
}

// Price implements Provider.
func (k *Kraken) Price(ctx context.Context, symbol, fiat string) (Quote, error) {
	e := k.ex()
	sym, f, market, err := e.market(symbol, fiat)
	if err != nil {
		return Quote{}, err
	}
	pair := sym + "/" + f
	u := strings.TrimRight(e.baseURL, "/") + "/0/public/Ticker?pair=" + url.QueryEscape(market)
	status, body, err := e.get(ctx, u, pair)
	if err != nil {
		return Quote{}, err
	}
	var ans struct {
		Error  []string `json:"error"`
		Result map[string]struct {
			C []string `json:"c"` // last trade closed: [price, lot volume]
		} `json:"result"`
	}
	decodeErr := json.Unmarshal(body, &ans)
	if decodeErr == nil && len(ans.Error) > 0 {
		msg := strings.Join(ans.Error, "; ")
		if strings.Contains(msg, "Unknown asset pair") {
			return Quote{}, e.unsupported(pair, msg)
		}
		return Quote{}, e.unavailable(pair, "exchange error: %s", msg)
	}
	if err := httpStatusError(e, pair, status, body); err != nil {
		return Quote{}, err
	}
	if decodeErr != nil {
		return Quote{}, e.unavailable(pair, "malformed answer (%v): %s", decodeErr, snippet(body))
	}
	if len(ans.Result) != 1 {
		return Quote{}, e.unavailable(pair, "expected one ticker in the answer, got %d", len(ans.Result))
	}
	var last string
	for _, t := range ans.Result {
		if len(t.C) == 0 {
			return Quote{}, e.unavailable(pair, "ticker has no last trade price")
		}
		last = t.C[0]
	}
	p, err := e.parsePrice(pair, last)
	if err != nil {
		return Quote{}, err
	}
	return Quote{Symbol: sym, Fiat: f, Price: p, UpdatedAt: e.clock(), Source: e.name}, nil
}

// Bitstamp reads the last price from Bitstamp's public ticker:
//
//	GET {base}/api/v2/ticker/usdceur/
//	{"last":"0.92","timestamp":"1700000000","bid":...,"ask":...}
//
// UpdatedAt is the ticker's own timestamp. An unknown market answers 404.
type Bitstamp struct {
	BaseURL string            // "" means https://www.bitstamp.net
	Client  *http.Client      // nil means http.DefaultClient
	Timeout time.Duration     // per request; 0 means DefaultTimeout
	Pairs   map[string]string // "USDC/EUR" -> "usdceur"; nil means BitstampPairs()
}

// BitstampPairs returns the default Bitstamp markets.
func BitstampPairs() map[string]string {
	return map[string]string{
		"USDC/EUR": "usdceur", "USDC/USD": "usdcusd",
		"USDT/EUR": "usdteur", "USDT/USD": "usdtusd",
		"ETH/EUR": "etheur", "ETH/USD": "ethusd",
		"BTC/EUR": "btceur", "BTC/USD": "btcusd",
	}
}

// NewBitstamp returns a Bitstamp adapter with the default markets.
func NewBitstamp(baseURL string, client *http.Client) *Bitstamp {
	return &Bitstamp{BaseURL: baseURL, Client: client}
}

// Name implements Provider.
func (b *Bitstamp) Name() string { return "bitstamp" }

func (b *Bitstamp) ex() *exchange {
	e := &exchange{name: b.Name(), baseURL: b.BaseURL, client: b.Client, timeout: b.Timeout, pairs: b.Pairs}
	if e.baseURL == "" {
		e.baseURL = "https://www.bitstamp.net"
	}
	if e.pairs == nil {
		e.pairs = BitstampPairs()
	}
	return e
}

// Price implements Provider.
func (b *Bitstamp) Price(ctx context.Context, symbol, fiat string) (Quote, error) {
	e := b.ex()
	sym, f, market, err := e.market(symbol, fiat)
	if err != nil {
		return Quote{}, err
	}
	pair := sym + "/" + f
	u := strings.TrimRight(e.baseURL, "/") + "/api/v2/ticker/" + url.PathEscape(market) + "/"
	status, body, err := e.get(ctx, u, pair)
	if err != nil {
		return Quote{}, err
	}
	if status == http.StatusNotFound {
		return Quote{}, e.unsupported(pair, "market "+market+" not found (HTTP 404)")
	}
	var ans struct {
		Last      string          `json:"last"`
		Timestamp string          `json:"timestamp"`
		Status    string          `json:"status"`
		Reason    json.RawMessage `json:"reason"`
		Code      string          `json:"code"`
	}
	decodeErr := json.Unmarshal(body, &ans)
	if decodeErr == nil && ans.Status == "error" {
		return Quote{}, e.unavailable(pair, "exchange error %s: %s", ans.Code, snippet(ans.Reason))
	}
	if err := httpStatusError(e, pair, status, body); err != nil {
		return Quote{}, err
	}
	if decodeErr != nil {
		return Quote{}, e.unavailable(pair, "malformed answer (%v): %s", decodeErr, snippet(body))
	}
	if ans.Last == "" {
		return Quote{}, e.unavailable(pair, "ticker has no last price: %s", snippet(body))
	}
	p, err := e.parsePrice(pair, ans.Last)
	if err != nil {
		return Quote{}, err
	}
	secs, err := strconv.ParseInt(ans.Timestamp, 10, 64)
	if err != nil || secs <= 0 {
		return Quote{}, e.unavailable(pair, "ticker has a bad timestamp %q", ans.Timestamp)
	}
	return Quote{Symbol: sym, Fiat: f, Price: p, UpdatedAt: time.Unix(secs, 0).UTC(), Source: e.name}, nil
}

// Coinbase reads Coinbase's public spot price, which exists for every fiat
// Coinbase quotes (LATAM currencies included):
//
//	GET {base}/v2/prices/USDC-EUR/spot
//	{"data":{"amount":"0.92","base":"USDC","currency":"EUR"}}
//
// The answer has no timestamp: UpdatedAt is the time of the answer. An
// unknown currency answers 404 (or 400) with {"errors":[{"id":..,"message":..}]}.
type Coinbase struct {
	BaseURL string            // "" means https://api.coinbase.com
	Client  *http.Client      // nil means http.DefaultClient
	Timeout time.Duration     // per request; 0 means DefaultTimeout
	Now     func() time.Time  // nil means time.Now
	Pairs   map[string]string // "USDC/EUR" -> "USDC-EUR"; nil means CoinbasePairs()
}

// CoinbasePairs returns the default Coinbase markets: USDC, USDT, ETH and POL
// against EUR, USD and the LATAM currencies.
func CoinbasePairs() map[string]string {
	m := make(map[string]string)
	for _, s := range []string{"USDC", "USDT", "ETH", "POL", "BTC"} {
		for _, f := range []string{"EUR", "USD", "CLP", "MXN", "COP", "PEN", "ARS"} {
			m[s+"/"+f] = s + "-" + f
		}
	}
	return m
}

// NewCoinbase returns a Coinbase adapter with the default markets.
func NewCoinbase(baseURL string, client *http.Client) *Coinbase {
	return &Coinbase{BaseURL: baseURL, Client: client}
}

// Name implements Provider.
func (c *Coinbase) Name() string { return "coinbase" }

func (c *Coinbase) ex() *exchange {
	e := &exchange{name: c.Name(), baseURL: c.BaseURL, client: c.Client, timeout: c.Timeout, now: c.Now, pairs: c.Pairs}
	if e.baseURL == "" {
		e.baseURL = "https://api.coinbase.com"
	}
	if e.pairs == nil {
		e.pairs = CoinbasePairs()
	}
	return e
}

// Price implements Provider.
func (c *Coinbase) Price(ctx context.Context, symbol, fiat string) (Quote, error) {
	e := c.ex()
	sym, f, market, err := e.market(symbol, fiat)
	if err != nil {
		return Quote{}, err
	}
	pair := sym + "/" + f
	u := strings.TrimRight(e.baseURL, "/") + "/v2/prices/" + url.PathEscape(market) + "/spot"
	status, body, err := e.get(ctx, u, pair)
	if err != nil {
		return Quote{}, err
	}
	var ans struct {
		Data *struct {
			Amount   string `json:"amount"`
			Base     string `json:"base"`
			Currency string `json:"currency"`
		} `json:"data"`
		Errors []struct {
			ID      string `json:"id"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	decodeErr := json.Unmarshal(body, &ans)
	var msgs []string
	for _, er := range ans.Errors {
		msgs = append(msgs, er.ID+": "+er.Message)
	}
	if status == http.StatusNotFound || (status == http.StatusBadRequest && len(msgs) > 0) {
		return Quote{}, e.unsupported(pair, fmt.Sprintf("market %s (HTTP %d) %s", market, status, strings.Join(msgs, "; ")))
	}
	if decodeErr == nil && len(msgs) > 0 {
		return Quote{}, e.unavailable(pair, "exchange error (HTTP %d): %s", status, strings.Join(msgs, "; "))
	}
	if err := httpStatusError(e, pair, status, body); err != nil {
		return Quote{}, err
	}
	if decodeErr != nil || ans.Data == nil {
		return Quote{}, e.unavailable(pair, "malformed answer: %s", snippet(body))
	}
	// Refuse an answer for another pair rather than price with it.
	if (ans.Data.Base != "" && !strings.EqualFold(ans.Data.Base, sym)) ||
		(ans.Data.Currency != "" && !strings.EqualFold(ans.Data.Currency, f)) {
		return Quote{}, e.unavailable(pair, "answered %s-%s", ans.Data.Base, ans.Data.Currency)
	}
	p, err := e.parsePrice(pair, ans.Data.Amount)
	if err != nil {
		return Quote{}, err
	}
	return Quote{Symbol: sym, Fiat: f, Price: p, UpdatedAt: e.clock(), Source: e.name}, nil
}
