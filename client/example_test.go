package client_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/client"
	"github.com/pocketramp/pocketramp/internal/app"
	"github.com/pocketramp/pocketramp/internal/integration"
)

// The examples run against a real pocketramp in sandbox mode, started once for the test binary.
// In an integration, the base URL and key pair come from configuration instead:
//
//	c := client.New("https://ramp.example.com", os.Getenv("RAMP_API_KEY"), os.Getenv("RAMP_API_SECRET"))
var example struct {
	once    sync.Once
	stop    func()
	baseURL string
	key     string
	secret  string
}

// sandbox returns the base URL and a fresh sandbox key pair of the examples' server.
func sandbox() (baseURL, apiKey, apiSecret string) {
	example.once.Do(func() {
		dir, err := os.MkdirTemp("", "pocketramp-example-")
		if err != nil {
			log.Fatal(err)
		}
		a, err := app.New(context.Background(), app.Config{DataDir: dir, PriceSources: "sandbox", SandboxBlockInterval: 100 * time.Millisecond,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			log.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		a.StartBackground(ctx)
		if err := a.Start(ctx); err != nil {
			log.Fatal(err)
		}
		srv := httptest.NewServer(a.Handler())
		example.baseURL = srv.URL
		example.stop = func() {
			srv.Close()
			a.Stop(context.Background())
			cancel()
			a.WaitBackground()
			a.Close()
			os.RemoveAll(dir)
		}
		cred, err := a.Integrations.Create(ctx, integration.NewParams{Name: "Examples", Sandbox: true})
		if err != nil {
			log.Fatal(err)
		}
		example.key, example.secret = cred.APIKey, cred.APISecret
	})
	return example.baseURL, example.key, example.secret
}

func TestMain(m *testing.M) {
	code := m.Run()
	if example.stop != nil {
		example.stop()
	}
	os.Exit(code)
}

// Log in and price a token. The client logs in by itself on the first call; Authenticate only
// checks the credentials early.
func ExampleClient_TokenPrice() {
	baseURL, apiKey, apiSecret := sandbox()
	c := client.New(baseURL, apiKey, apiSecret)
	ctx := context.Background()

	tok, err := c.Authenticate(ctx)
	if err != nil {
		log.Fatal(err) // errors.Is(err, client.ErrAuthorizationIncorrect) for a wrong key pair
	}
	fmt.Println("token valid for", time.Duration(tok.ExpiresIn)*time.Second)

	price, err := c.TokenPrice(ctx, client.TokenPriceRequest{Symbol: "USDC", FiatSymbol: "EUR"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("1", price.Symbol, "in", price.FiatSymbol, "is a decimal string:", price.Price != "")

	_, err = c.TokenPrice(ctx, client.TokenPriceRequest{Symbol: "DOGE"})
	fmt.Println(errors.Is(err, client.ErrCoinNotSupported))
	// Output:
	// token valid for 1h0m0s
	// 1 USDC in EUR is a decimal string: true
	// true
}

// Register a customer, then check its KYC: until the customer completes the hosted KYC form
// (kyc_form_url), payments answer require_kyc.
func ExampleClient_RegisterUser() {
	baseURL, apiKey, apiSecret := sandbox()
	c := client.New(baseURL, apiKey, apiSecret)
	ctx := context.Background()

	u, err := c.RegisterUser(ctx, client.RegisterUserRequest{
		Name: "Lucía", LastName: "García", Email: "lucia.register@example.com",
		CountryCode: "ESP", IdentificationType: "GOVERNMENT_ID", IdentificationNumber: "12345678Z",
		Phone: "+34612345678", IBAN: "ES9121000418450200051332",
	})
	if errors.Is(err, client.ErrUserAlreadyExists) {
		log.Fatal("this e-mail is already registered")
	}
	var invalid *client.Error
	if errors.Is(err, client.ErrValidation) && errors.As(err, &invalid) {
		log.Fatalf("fix the form: %v", invalid.Fields)
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("registered; KYC valid:", u.KYCValid)

	k, err := c.KYCCheck(ctx, u.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(k.KYCStatus, k.KYCLevel, k.KYCFormURL == u.KYCFormURL)

	_, err = c.CreatePayment(ctx, client.CreatePaymentRequest{UserID: u.ID, FiatSymbol: "EUR", FiatAmount: "100",
		CoinSymbol: "USDC", CoinChain: "polygon", Wallet: "0x52908400098527886E0F7030069857D2E4169EE7"})
	if errors.Is(err, client.ErrRequireKYC) {
		fmt.Println("send the customer to the KYC form:", client.KYCURL(err) != "")
	}
	// Output:
	// registered; KYC valid: false
	// unused basic true
	// send the customer to the KYC form: true
}

// Buy crypto with a bank transfer: quote, create the payment, show the transfer details to the
// customer, and follow the payment until the crypto is delivered. In the sandbox, SandboxPay
// stands in for the customer's bank.
func ExampleClient_CreatePayment() {
	baseURL, apiKey, apiSecret := sandbox()
	c := client.New(baseURL, apiKey, apiSecret)
	ctx := context.Background()

	u, err := c.RegisterUser(ctx, client.RegisterUserRequest{Name: "Ana", Email: "ana.buyer@example.com", Country: "España"})
	if err != nil {
		log.Fatal(err)
	}
	// Sandbox only: approve the KYC the customer would complete on the hosted form.
	if _, err := c.SandboxSetKYC(ctx, u.ID, client.SandboxKYCRequest{Status: client.KYCValid}); err != nil {
		log.Fatal(err)
	}

	q, err := c.Quote(ctx, client.QuoteRequest{Amount: "240", Symbol: "USDC", Chain: "polygon", PaymentType: client.PaymentTransfer})
	if err != nil {
		log.Fatal(err)
	}
	// The same Idempotency-Key makes a retried call (e.g. after a timeout) return the first
	// answer instead of creating a second payment.
	ictx := client.WithIdempotencyKey(ctx, "order-1001")
	p, err := c.CreatePayment(ictx, client.CreatePaymentRequest{
		UserID: u.ID, ExternalID: "order-1001", PaymentType: client.PaymentTransfer,
		FiatSymbol: "EUR", FiatAmount: "240", CoinSymbol: "USDC", CoinChain: "polygon",
		Wallet: "0x52908400098527886E0F7030069857D2E4169EE7", QuoteID: q.QuoteID,
	})
	switch {
	case errors.Is(err, client.ErrMinPurchase), errors.Is(err, client.ErrLimitExceded), errors.Is(err, client.ErrKYCReinforcedRequired):
		log.Fatal(err)
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println(p.Message, "by transfer:", p.IsTransfer())
	fmt.Println("the customer transfers 240 EUR to the IBAN with the concept:", p.IBAN != "" && p.Concept != "")

	// Sandbox only: the transfer arrives.
	if _, err := c.SandboxPay(ctx, p.PaymentID, client.SandboxPayRequest{PayerName: "Ana"}); err != nil {
		log.Fatal(err)
	}
	// Webhooks (PAY_IN, COINS_SENT) tell when to look; polling works too.
	for {
		got, err := c.GetPayment(ctx, p.PaymentID)
		if err != nil {
			log.Fatal(err)
		}
		if got.Status == client.PaymentCoinsSent {
			fmt.Println(got.Status, "cents:", got.FiatAmount, "coins:", got.CoinAmount.String() != "", "txid:", got.TxID != "")
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Output:
	// payment_created by transfer: true
	// the customer transfers 240 EUR to the IBAN with the concept: true
	// coins_sent cents: 24000 coins: true txid: true
}

// Sell crypto: the customer sends the tokens to the operation's deposit address and is paid
// out to the registered IBAN. In the sandbox, SandboxDeposit makes the token transfer.
func ExampleClient_CreateRampoff() {
	baseURL, apiKey, apiSecret := sandbox()
	c := client.New(baseURL, apiKey, apiSecret)
	ctx := context.Background()

	u, err := c.RegisterUser(ctx, client.RegisterUserRequest{Name: "Pau", Email: "pau.seller@example.com", CountryCode: "ESP",
		IBAN: "ES9121000418450200051332"})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.SandboxSetKYC(ctx, u.ID, client.SandboxKYCRequest{Status: client.KYCValid}); err != nil {
		log.Fatal(err)
	}

	q, err := c.RampoffQuote(ctx, client.RampoffQuoteRequest{Amount: "150.5", Symbol: "USDC", Blockchain: "polygon"})
	if err != nil {
		log.Fatal(err)
	}
	r, err := c.CreateRampoff(ctx, client.CreateRampoffRequest{UserID: u.ID, Amount: "150.5", Symbol: "USDC",
		Blockchain: "polygon", ExternalID: "sale-77", QuoteID: q.QuoteID})
	if errors.Is(err, client.ErrMinSale) {
		log.Fatal(err) // the message holds the minimum
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Rampoff, "- deposit address is an EVM address:", len(r.Wallet) == 42)

	// Sandbox only: the customer's wallet sends the tokens.
	if _, err := c.SandboxDeposit(ctx, r.ID, client.SandboxDepositRequest{}); err != nil {
		log.Fatal(err)
	}
	for {
		got, err := c.GetRampoff(ctx, r.ID)
		if err != nil {
			log.Fatal(err)
		}
		if got.Status == client.RampoffFinished || got.Status == client.RampoffFailed {
			fmt.Println(got.Status, got.Amount, "base units with", got.Decimals, "decimals, paid", got.FiatAmount == q.FiatAmount)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Output:
	// payment created - deposit address is an EVM address: true
	// finished 150500000 base units with 6 decimals, paid true
}

// Receive webhooks: verify the signature over the exact body bytes before trusting them.
func ExampleVerifyWebhook() {
	const apiKey, apiSecret = "pk_example", "sk_example"
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		if err := client.VerifyWebhook(body, r.Header, apiKey, apiSecret, time.Now()); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		ev, err := client.ParseWebhook(body)
		if err != nil {
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		switch ev.Type {
		case client.EventCoinsSent:
			p, err := ev.Payment()
			if err != nil {
				http.Error(w, "bad payment", http.StatusBadRequest)
				return
			}
			fmt.Println("event", ev.Sequence, ev.Type, "payment", p.ID, "tx", p.TxID)
		case client.EventTransferRampoffFinished:
			// ev.Rampoff() ...
		}
		w.WriteHeader(http.StatusNoContent) // any 2xx; anything else is retried
	})

	// What pocketramp sends: the body, signed with the integration's api_secret.
	body := []byte(`{"id":"evt_4fK2pQ8sLm3nV6xT1yZ0aB7c","type":"COINS_SENT","created_at":"2026-06-26T10:30:00.000000Z","sequence":7,` +
		`"data":{"id":"Fx1ZjLOkQGdPHr1u8Rsy9JvTh","status":"coins_sent","fiat_amount":24000,"coin_amount":259.82,"txid":"0xabc"}}`)
	send := func(body []byte, secret string) int {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		mac.Write([]byte(ts))
		req := httptest.NewRequest(http.MethodPost, "/webhooks/pocketramp", bytes.NewReader(body))
		req.Header.Set("X-API-Key", apiKey)
		req.Header.Set("X-Timestamp", ts)
		req.Header.Set("X-Signature", hex.EncodeToString(mac.Sum(nil)))
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		return rec.Code
	}
	fmt.Println(send(body, apiSecret))
	fmt.Println(send(body, "forged"))
	// Output:
	// event 7 COINS_SENT payment Fx1ZjLOkQGdPHr1u8Rsy9JvTh tx 0xabc
	// 204
	// 401
}

// The Standard Webhooks signature uses the whsec_ secret that GET /webhooks shows
// (client.Webhooks).
func ExampleVerifyStandardWebhook() {
	baseURL, apiKey, apiSecret := sandbox()
	c := client.New(baseURL, apiKey, apiSecret)
	settings, err := c.Webhooks(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	whsec := settings.SigningSecret

	http.HandleFunc("/webhooks/standard", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err := client.VerifyStandardWebhook(body, r.Header, whsec, time.Now()); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		// webhook-id is the event id: use it to drop duplicates.
		w.WriteHeader(http.StatusNoContent)
	})
}

// Subscribe to webhooks and read the event log: a consumer that pages by the last sequence it
// saw never misses an event, even when deliveries fail.
func ExampleClient_Events() {
	baseURL, apiKey, apiSecret := sandbox()
	c := client.New(baseURL, apiKey, apiSecret)
	ctx := context.Background()
	if err := c.SubscribeToWebhook(ctx, client.EventCoinsSent, "https://partner.example/webhooks/pocketramp"); err != nil &&
		!errors.Is(err, client.ErrSubscriptionAlreadyExists) {
		log.Fatal(err)
	}
	var last int64 // persist it between runs
	for {
		evs, err := c.Events(ctx, last, 100)
		if err != nil {
			log.Fatal(err)
		}
		for _, ev := range evs {
			// handle ev.Type / ev.Data
			last = ev.Sequence
		}
		if len(evs) < 100 {
			break
		}
	}
}
