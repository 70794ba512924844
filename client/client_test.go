package client_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/client"
	"github.com/pocketramp/pocketramp/internal/testkit"
)

// TestClient drives every client method against the real server.
func TestClient(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *server) {
		ctx := context.Background()
		c := s.c

		t.Run("common", func(t *testing.T) {
			tok, err := c.Authenticate(ctx)
			if err != nil || !strings.HasPrefix(tok.Token, "tok_") || tok.ExpiresIn != 3600 || time.Until(tok.ExpiresAt) < 59*time.Minute {
				t.Fatalf("authenticate: %+v %v", tok, err)
			}
			if again, err := c.Token(ctx); err != nil || again.Token != tok.Token {
				t.Fatalf("the token was not cached: %+v %v", again, err)
			}
			p, err := c.TokenPrice(ctx, client.TokenPriceRequest{Symbol: "USDC"})
			if err != nil || p.Symbol != "USDC" || p.FiatSymbol != "EUR" || p.Price == "" || p.UpdatedAt.IsZero() || p.Source == "" {
				t.Fatalf("token price: %+v %v", p, err)
			}
			if _, err := c.TokenPrice(ctx, client.TokenPriceRequest{Symbol: "DOGE"}); !errors.Is(err, client.ErrCoinNotSupported) {
				t.Fatalf("unknown coin: %v", err)
			}
			assets, err := c.AvailableAssets(ctx)
			if err != nil || len(assets) == 0 {
				t.Fatalf("assets: %v %v", assets, err)
			}
			native, token := false, false
			for _, a := range assets {
				native = native || (a.Contract == "" && a.Decimals == 18)
				token = token || (a.Symbol == "USDC" && a.Chain == "polygon" && a.Contract != "" && a.OnRamp)
			}
			if !native || !token {
				t.Fatalf("assets lack a native coin or USDC on polygon: %+v", assets)
			}
			methods, err := c.PaymentMethods(ctx, "EUR")
			if err != nil || len(methods) < 3 {
				t.Fatalf("methods: %+v %v", methods, err)
			}
			if _, err := c.PaymentMethods(ctx, "XYZ"); !errors.Is(err, client.ErrValidation) {
				t.Fatalf("bad fiat: %v", err)
			}
		})

		t.Run("bad credentials", func(t *testing.T) {
			bad := client.New(s.url+"/api/", s.cred.APIKey, "wrong")
			_, err := bad.TokenPrice(ctx, client.TokenPriceRequest{Symbol: "USDC"})
			var e *client.Error
			if !errors.Is(err, client.ErrAuthorizationIncorrect) || !errors.As(err, &e) || e.HTTPStatus != 200 || e.RequestID == "" {
				t.Fatalf("wrong secret: %#v", err)
			}
		})

		var uid int64
		t.Run("users", func(t *testing.T) {
			req := person("lucia@example.com")
			u, err := c.RegisterUser(ctx, req)
			if err != nil || u.ID == 0 || u.Email != req.Email || u.KYCValid || !strings.Contains(u.KYCFormURL, "/kyc/") ||
				u.IdentificationNumber != req.IdentificationNumber {
				t.Fatalf("register: %+v %v", u, err)
			}
			uid = u.ID
			if _, err := c.RegisterUser(ctx, req); !errors.Is(err, client.ErrUserAlreadyExists) {
				t.Fatalf("duplicate: %v", err)
			}
			_, err = c.RegisterUser(ctx, client.RegisterUserRequest{Name: "No mail"})
			var e *client.Error
			if !errors.Is(err, client.ErrValidation) || !errors.As(err, &e) || e.HTTPStatus != 422 || len(e.Field("email")) == 0 || e.Code != "" {
				t.Fatalf("missing email: %#v", err)
			}
			if errors.Is(err, client.ErrUserNotFound) {
				t.Fatal("a validation error matched user_not_found")
			}
			if !strings.Contains(err.Error(), "email") {
				t.Fatalf("error text %q", err)
			}

			del, err := c.RegisterUserKYCDelegated(ctx, client.RegisterUserKYCDelegatedRequest{RegisterUserRequest: person("delegated@example.com"),
				DocumentFront: pngData, DocumentBack: pngData, Selfie: pngData, KYCReference: "ext-1"})
			if err != nil || del.ID == 0 || del.KYCValid {
				t.Fatalf("delegated: %+v %v", del, err)
			}
			if _, err := c.RegisterUserKYCDelegated(ctx, client.RegisterUserKYCDelegatedRequest{RegisterUserRequest: person("nodocs@example.com")}); !errors.Is(err, client.ErrValidation) {
				t.Fatalf("delegated without documents: %v", err)
			}

			co, err := c.RegisterCompany(ctx, client.RegisterCompanyRequest{Email: "acme@example.com", CompanyName: "Acme SL"})
			if err != nil || co.ID == 0 || co.UUID == "" || co.KYBLink == "" || len(co.Password) != 12 {
				t.Fatalf("company: %+v %v", co, err)
			}

			k, err := c.KYCCheck(ctx, uid)
			if err != nil || k.UserID != uid || k.KYCStatus != client.KYCUnused || k.KYCLevel != client.KYCLevelBasic || k.Type != "individual" || k.KYCFormURL == "" {
				t.Fatalf("kyc check: %+v %v", k, err)
			}
			if _, err := c.KYCCheck(ctx, 999999); !errors.Is(err, client.ErrUserNotFound) {
				t.Fatalf("kyc check unknown: %v", err)
			}
			link, err := c.OnboardingForm(ctx, uid)
			if err != nil || link.OnboardingLink == "" || !link.ExpiresAt.After(time.Now()) {
				t.Fatalf("onboarding: %+v %v", link, err)
			}
			doc, err := c.UploadDocument(ctx, uid, client.DocPayslip, pdfData)
			if err != nil || doc == 0 {
				t.Fatalf("upload: %d %v", doc, err)
			}
			_, err = c.UploadDocument(ctx, 999999, client.DocPayslip, pdfData)
			if !errors.Is(err, client.ErrUserNotFound) || !errors.As(err, &e) || e.HTTPStatus != 404 {
				t.Fatalf("upload unknown user: %#v", err)
			}
			_, err = c.UploadDocument(ctx, uid, client.DocInvoice, "data:application/pdf;base64,")
			if !errors.Is(err, client.ErrInvalidFile) || !errors.Is(err, client.ErrValidation) || !errors.As(err, &e) || len(e.Field("file")) == 0 {
				t.Fatalf("upload empty file: %#v", err)
			}

			page, err := c.ListCustomers(ctx, client.CustomerFilter{PerPage: 2})
			if err != nil || len(page.Items) != 2 || page.Pagination.Total != 3 || page.Pagination.LastPage != 2 || !page.HasMore() {
				t.Fatalf("list: %+v %v", page, err)
			}
			page, err = c.ListCustomers(ctx, client.CustomerFilter{Type: "company"})
			if err != nil || len(page.Items) != 1 || page.Items[0].CompanyName != "Acme SL" || page.HasMore() {
				t.Fatalf("list companies: %+v %v", page, err)
			}
			found, err := c.FindCustomer(ctx, client.CustomerQuery{Email: "lucia@example.com"})
			if err != nil || found.ID != uid || found.UUID == "" || found.CountryCode != "ESP" || found.KYCStatus != client.KYCUnused || found.CreatedAt.IsZero() {
				t.Fatalf("find: %+v %v", found, err)
			}
			if found, err := c.FindCustomer(ctx, client.CustomerQuery{ID: uid}); err != nil || found.Email != "lucia@example.com" {
				t.Fatalf("find by id: %+v %v", found, err)
			}
			if found, err := c.FindCustomer(ctx, client.CustomerQuery{IdentificationNumber: req.IdentificationNumber}); err != nil || found.ID != uid {
				t.Fatalf("find by identification: %+v %v", found, err)
			}
			_, err = c.FindCustomer(ctx, client.CustomerQuery{Email: "nobody@example.com"})
			if !errors.Is(err, client.ErrUserNotFound) || !errors.As(err, &e) || e.HTTPStatus != 404 {
				t.Fatalf("find unknown: %#v", err)
			}
		})

		t.Run("require KYC", func(t *testing.T) {
			_, err := c.CreatePayment(ctx, client.CreatePaymentRequest{UserID: uid, FiatSymbol: "EUR", FiatAmount: "100",
				CoinSymbol: "USDC", CoinChain: "polygon", Wallet: wallet})
			if !errors.Is(err, client.ErrRequireKYC) || !strings.Contains(client.KYCURL(err), "/kyc/") {
				t.Fatalf("require_kyc: %v (url %q)", err, client.KYCURL(err))
			}
			if client.KYCURL(errors.New("other")) != "" {
				t.Fatal("KYCURL of another error")
			}
			k, err := c.SandboxSetKYC(ctx, uid, client.SandboxKYCRequest{Status: client.KYCValid, Level: client.KYCLevelReinforced})
			if err != nil || k.KYCStatus != client.KYCValid || k.KYCLevel != client.KYCLevelReinforced {
				t.Fatalf("sandbox kyc: %+v %v", k, err)
			}
		})

		rcv := newReceiver(t, s.cred)
		t.Run("subscribe", func(t *testing.T) {
			w, err := c.Webhooks(ctx)
			if err != nil || !strings.HasPrefix(w.SigningSecret, "whsec_") || len(w.Events) != 7 {
				t.Fatalf("webhooks: %+v %v", w, err)
			}
			rcv.setSecret(w.SigningSecret)
			for _, typ := range []string{client.EventPayIn, client.EventCoinsSent, client.EventPaymentFailed} {
				if err := c.SubscribeToWebhook(ctx, typ, rcv.srv.URL+"/wrong"); err != nil {
					t.Fatalf("subscribe %s: %v", typ, err)
				}
				if err := c.UpdateWebhookSubscription(ctx, typ, rcv.srv.URL+"/hook"); err != nil {
					t.Fatalf("update %s: %v", typ, err)
				}
			}
			if err := c.SubscribeToWebhook(ctx, client.EventPayIn, rcv.srv.URL); !errors.Is(err, client.ErrSubscriptionAlreadyExists) {
				t.Fatalf("twice: %v", err)
			}
			if err := c.SubscribeToWebhook(ctx, "NOPE", rcv.srv.URL); !errors.Is(err, client.ErrInvalidEventType) {
				t.Fatalf("bad type: %v", err)
			}
			if err := c.SubscribeToWebhook(ctx, client.EventKYCStatusChanged, "not a url"); !errors.Is(err, client.ErrInvalidURL) {
				t.Fatalf("bad url: %v", err)
			}
			if err := c.UpdateWebhookSubscription(ctx, client.EventRampoffFailed, rcv.srv.URL); !errors.Is(err, client.ErrSubscriptionNotFound) {
				t.Fatalf("update missing: %v", err)
			}
			if err := c.SubscribeToWebhook(ctx, client.EventRampoffFinished, rcv.srv.URL+"/hook"); err != nil {
				t.Fatalf("subscribe with the old name: %v", err)
			}
			w, _ = c.Webhooks(ctx)
			for _, ev := range w.Events {
				if ev.Type == client.EventTransferRampoffFinished && (!ev.Enabled || ev.URL != rcv.srv.URL+"/hook") {
					t.Fatalf("RAMPOFF_FINISHED did not subscribe TRANSFER_RAMPOFF_FINISHED: %+v", ev)
				}
			}
			if err := c.UnsubscribeFromWebhook(ctx, client.EventRampoffFinished); err != nil {
				t.Fatalf("unsubscribe: %v", err)
			}
			if err := c.UnsubscribeFromWebhook(ctx, client.EventRampoffFinished); !errors.Is(err, client.ErrSubscriptionNotFound) {
				t.Fatalf("unsubscribe twice: %v", err)
			}
			res, err := c.TestWebhook(ctx, client.EventPayIn)
			if err != nil || !res.Success || res.StatusCode != 200 || res.DeliveryID == "" || res.ResponseExcerpt != "" { // a loopback receiver: no body kept
				t.Fatalf("test delivery: %+v %v", res, err)
			}
		})

		var transferID string
		t.Run("buy with a bank transfer", func(t *testing.T) {
			q, err := c.Quote(ctx, client.QuoteRequest{Amount: "250", Symbol: "USDC", PaymentType: "TRANSFER"})
			if err != nil || !strings.HasPrefix(q.QuoteID, "q_") || q.Chain != "polygon" || q.FiatAmount != "250.00" || q.CoinAmount == "" || q.Fees.Total == "" || q.ExpiresAt.IsZero() {
				t.Fatalf("quote: %+v %v", q, err)
			}
			var info client.ResponseInfo
			p, err := c.CreatePayment(client.WithResponseInfo(ctx, &info), client.CreatePaymentRequest{UserID: uid, ExternalID: "order-1",
				PaymentType: client.PaymentTransfer, FiatSymbol: "EUR", FiatAmount: "250.00", CoinSymbol: "USDC", CoinChain: "polygon",
				Wallet: wallet, QuoteID: q.QuoteID})
			if err != nil || p.Message != "payment_created" || !p.IsTransfer() || len(p.PaymentID) != 25 || p.IBAN == "" || p.BIC == "" ||
				p.Concept == "" || p.DestinationName == "" || p.URLPayment != "" {
				t.Fatalf("transfer payment: %+v %v", p, err)
			}
			if _, err := p.Concept.Int64(); err != nil {
				t.Fatalf("concept %q is not an integer", p.Concept)
			}
			if info.HTTPStatus != 200 || info.RequestID == "" || info.Replayed {
				t.Fatalf("response info: %+v", info)
			}
			transferID = p.PaymentID
			got, err := c.GetPayment(ctx, transferID)
			if err != nil || got.Status != client.PaymentStarted || got.FiatAmount != 25000 || got.UserID != strconv.FormatInt(uid, 10) ||
				got.ExternalID != "order-1" || got.Holder != "" || got.CoinAmount.String() == "" || got.PaymentType != "transfer" || got.Wallet != wallet {
				t.Fatalf("get: %+v %v", got, err)
			}
			paid, err := c.SandboxPay(ctx, transferID, client.SandboxPayRequest{PayerName: "Lucía García"})
			if err != nil || paid.ID != transferID {
				t.Fatalf("sandbox pay: %+v %v", paid, err)
			}
			done := s.waitPayment(ctx, transferID, client.PaymentCoinsSent)
			if done.TxID == "" || done.Holder != "Lucía García" || strings.TrimRight(strings.TrimRight(q.CoinAmount, "0"), ".") != done.CoinAmount.String() {
				t.Fatalf("delivered: %+v (quoted %s)", done, q.CoinAmount)
			}
			if _, err := c.CreatePayment(ctx, client.CreatePaymentRequest{UserID: uid, ExternalID: "order-1", FiatSymbol: "EUR", FiatAmount: "20",
				CoinSymbol: "USDC", CoinChain: "polygon", Wallet: wallet}); !errors.Is(err, client.ErrExternalIDAlreadyUsed) {
				t.Fatalf("external id reused: %v", err)
			}
			if _, err := c.GetPayment(ctx, "Fx1ZjLOkQGdPHr1u8Rsy9JvTh"); !errors.Is(err, client.ErrPaymentNotFound) {
				t.Fatalf("unknown payment: %v", err)
			}
		})

		t.Run("card, guided, failure", func(t *testing.T) {
			p, err := c.CreatePayment(ctx, client.CreatePaymentRequest{UserID: uid, PaymentType: "card", FiatSymbol: "EUR", FiatAmount: "40",
				CoinSymbol: "USDT", CoinChain: "bsc", Wallet: wallet})
			if err != nil || p.IsTransfer() || !strings.Contains(p.URLPayment, "/checkout/") {
				t.Fatalf("card: %+v %v", p, err)
			}
			failed, err := c.SandboxFail(ctx, p.PaymentID, "card declined")
			if err != nil || failed.Status != client.PaymentFailed || failed.FailureReason != "card declined" {
				t.Fatalf("fail: %+v %v", failed, err)
			}
			if _, err := c.SandboxPay(ctx, p.PaymentID, client.SandboxPayRequest{}); err == nil {
				t.Fatal("a failed payment was paid")
			}
			g, err := c.CreateGuidedPayment(ctx, client.CreatePaymentRequest{UserID: uid, FiatSymbol: "EUR", FiatAmount: "30",
				CoinSymbol: "USDC", CoinChain: "polygon", ExternalID: "guided-1", Wallet: "ignored"})
			if err != nil || g.Message != "guided_payment_created" || g.PaymentID == "" || g.GatewayURL == "" || g.ExternalID != "guided-1" {
				t.Fatalf("guided: %+v %v", g, err)
			}
			if _, err := c.CreateGuidedPayment(ctx, client.CreatePaymentRequest{UserID: uid, FiatSymbol: "CLP", FiatAmount: "50000",
				CoinSymbol: "USDC", CoinChain: "polygon"}); !errors.Is(err, client.ErrGuidedPaymentEUROnly) {
				t.Fatalf("guided CLP: %v", err)
			}
		})

		t.Run("payment errors", func(t *testing.T) {
			base := client.CreatePaymentRequest{UserID: uid, FiatSymbol: "EUR", FiatAmount: "100", CoinSymbol: "USDC", CoinChain: "polygon", Wallet: wallet}
			cases := []struct {
				name   string
				change func(r *client.CreatePaymentRequest)
				want   error
			}{
				{"no user", func(r *client.CreatePaymentRequest) { r.UserID = 0 }, client.ErrFailMandatoryField},
				{"unknown user", func(r *client.CreatePaymentRequest) { r.UserID = 999999 }, client.ErrUserNotFound},
				{"below minimum", func(r *client.CreatePaymentRequest) { r.FiatAmount = "9.99" }, client.ErrMinPurchase},
				{"card quarter", func(r *client.CreatePaymentRequest) { r.PaymentType, r.FiatAmount = "card", "5000.01" }, client.ErrLimitExceded},
				{"coin", func(r *client.CreatePaymentRequest) { r.CoinSymbol, r.CoinChain = "USDT", "base" }, client.ErrCoinNotSupported},
				{"bad wallet", func(r *client.CreatePaymentRequest) { r.Wallet = "nope" }, client.ErrValidation},
				{"negative", func(r *client.CreatePaymentRequest) { r.FiatAmount = "-5" }, client.ErrValidation},
			}
			for _, tc := range cases {
				r := base
				tc.change(&r)
				_, err := c.CreatePayment(ctx, r)
				if !errors.Is(err, tc.want) {
					t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
				}
			}
			_, err := c.CreatePayment(ctx, client.CreatePaymentRequest{UserID: uid, FiatSymbol: "EUR", FiatAmount: "9.99", CoinSymbol: "USDC", CoinChain: "polygon", Wallet: wallet})
			var e *client.Error
			if !errors.As(err, &e) || !strings.Contains(e.Message, "10.00") {
				t.Fatalf("min_purchase message: %#v", err)
			}
			basic := s.verified(ctx, "basic@example.com", client.KYCLevelBasic)
			r := base
			r.UserID, r.FiatAmount = basic, "1000.01"
			if _, err := c.CreatePayment(ctx, r); !errors.Is(err, client.ErrKYCReinforcedRequired) {
				t.Fatalf("basic limit: %v", err)
			}
		})

		t.Run("list payments", func(t *testing.T) {
			all, err := c.ListPayments(ctx, client.PaymentFilter{})
			if err != nil || all.Pagination.Total != 3 || len(all.Items) != 3 {
				t.Fatalf("list: %+v %v", all, err)
			}
			page, err := c.ListPayments(ctx, client.PaymentFilter{Status: client.PaymentCoinsSent, UserID: uid, ExternalID: "order-1",
				From: time.Now().UTC().Format("2006-01-02"), To: time.Now().UTC().Format("2006-01-02"), Page: 1, PerPage: 10})
			if err != nil || len(page.Items) != 1 || page.Items[0].ID != transferID || page.Items[0].TxID == "" || page.Pagination.PerPage != 10 {
				t.Fatalf("filtered: %+v %v", page, err)
			}
			if _, err := c.ListPayments(ctx, client.PaymentFilter{Status: "paid"}); !errors.Is(err, client.ErrValidation) {
				t.Fatalf("bad status: %v", err)
			}
		})

		t.Run("banking", func(t *testing.T) {
			accts, err := c.BankAccounts(ctx)
			if err != nil || len(accts) == 0 || accts[0].Currency != "EUR" || accts[0].Status != "active" {
				t.Fatalf("accounts: %+v %v", accts, err)
			}
			iban := accts[0].IBAN
			p, err := c.CreatePayment(ctx, client.CreatePaymentRequest{UserID: uid, FiatSymbol: "EUR", FiatAmount: "80", CoinSymbol: "USDC",
				CoinChain: "polygon", Wallet: wallet})
			if err != nil {
				t.Fatal(err)
			}
			tx, err := c.SandboxBankTransaction(ctx, client.SandboxBankTransactionRequest{IBAN: iban, Amount: "80.00", Currency: "EUR",
				Concept: "sin referencia", CounterpartyName: "Payer SL", CounterpartyIBAN: "ES9121000418450200051332"})
			if err != nil || tx.Status != "unmatched" || tx.Direction != "credit" || tx.Amount != "80.00" || tx.ID == "" {
				t.Fatalf("sandbox transfer: %+v %v", tx, err)
			}
			list, err := c.BankTransactions(ctx, iban, client.BankTransactionFilter{Status: "unmatched"})
			if err != nil || list.Pagination.Total != 1 || list.Items[0].ID != tx.ID || list.Items[0].CounterpartyName != "Payer SL" {
				t.Fatalf("transactions: %+v %v", list, err)
			}
			if _, err := c.BankTransactions(ctx, "ES9121000418450200051332", client.BankTransactionFilter{}); !errors.Is(err, client.ErrBankAccountNotFound) {
				t.Fatalf("foreign account: %v", err)
			}
			if _, err := c.Reconcile(ctx, transferID, tx.ID); !errors.Is(err, client.ErrPaymentNotReconcilable) {
				t.Fatalf("reconcile a delivered payment: %v", err)
			}
			if _, err := c.Reconcile(ctx, p.PaymentID, "999999"); !errors.Is(err, client.ErrTransactionNotFound) {
				t.Fatalf("reconcile unknown transaction: %v", err)
			}
			rec, err := c.Reconcile(ctx, p.PaymentID, tx.ID)
			if err != nil || rec.PaymentStatus != client.PaymentReceived || rec.TransactionID != tx.ID {
				t.Fatalf("reconcile: %+v %v", rec, err)
			}
			if _, err := c.Reconcile(ctx, p.PaymentID, tx.ID); !errors.Is(err, client.ErrTransactionAlreadyReconciled) && !errors.Is(err, client.ErrPaymentNotReconcilable) {
				t.Fatalf("reconcile twice: %v", err)
			}
			s.waitPayment(ctx, p.PaymentID, client.PaymentCoinsSent)
		})

		t.Run("idempotency", func(t *testing.T) {
			req := client.CreatePaymentRequest{UserID: uid, FiatSymbol: "EUR", FiatAmount: "15", CoinSymbol: "USDC", CoinChain: "polygon", Wallet: wallet}
			kctx := client.WithIdempotencyKey(ctx, "key-1")
			var first, second client.ResponseInfo
			a, err := c.CreatePayment(client.WithResponseInfo(kctx, &first), req)
			if err != nil {
				t.Fatal(err)
			}
			b, err := c.CreatePayment(client.WithResponseInfo(kctx, &second), req)
			if err != nil || b.PaymentID != a.PaymentID || first.Replayed || !second.Replayed {
				t.Fatalf("replay: %+v %+v %v (first %+v, second %+v)", a, b, err, first, second)
			}
			req.FiatAmount = "16"
			_, err = c.CreatePayment(kctx, req)
			var e *client.Error
			if !errors.Is(err, client.ErrIdempotencyKeyReused) || !errors.As(err, &e) || e.HTTPStatus != http.StatusConflict {
				t.Fatalf("key reused: %#v", err)
			}
			// A 422 is a final answer: replayed too.
			bad := client.WithIdempotencyKey(ctx, "key-2")
			for i := range 2 {
				var info client.ResponseInfo
				_, err := c.CreatePayment(client.WithResponseInfo(bad, &info), client.CreatePaymentRequest{UserID: uid, FiatSymbol: "EUR"})
				if !errors.Is(err, client.ErrValidation) || info.Replayed != (i == 1) {
					t.Fatalf("422 replay %d: %v %+v", i, err, info)
				}
			}
		})

		t.Run("token refresh", func(t *testing.T) {
			before, err := c.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.app.Integrations.Revoke(ctx, before.Token); err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetPayment(ctx, transferID); err != nil {
				t.Fatalf("after revocation: %v", err)
			}
			after, _ := c.Token(ctx)
			if after.Token == before.Token {
				t.Fatal("the client did not log in again")
			}
			// Concurrent callers after a revocation: every call succeeds.
			s.app.Integrations.Revoke(ctx, after.Token)
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for range 8 {
				wg.Go(func() {
					_, err := c.KYCCheck(ctx, uid)
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("concurrent call after revocation: %v", err)
				}
			}
			// A POST with an idempotency key survives a revocation too (the rejected attempt
			// stored nothing).
			tok, _ := c.Token(ctx)
			s.app.Integrations.Revoke(ctx, tok.Token)
			var info client.ResponseInfo
			if _, err := c.OnboardingForm(client.WithResponseInfo(client.WithIdempotencyKey(ctx, "after-revoke"), &info), uid); err != nil || info.Replayed {
				t.Fatalf("POST after revocation: %v %+v", err, info)
			}
		})

		t.Run("events and deliveries", func(t *testing.T) {
			testkit.WaitFor(t, 30*time.Second, "webhooks delivered", func() bool {
				evs, _ := rcv.got()
				n := 0
				for _, ev := range evs {
					if ev.Type == client.EventCoinsSent {
						n++
					}
				}
				return n >= 2
			})
			got, bad := rcv.got()
			if len(bad) > 0 {
				t.Fatalf("deliveries failed verification: %v", bad)
			}
			for _, ev := range got {
				if ev.Type != client.EventCoinsSent {
					continue
				}
				p, err := ev.Payment()
				if err != nil || p.ID == "" || p.TxID == "" || p.Status != client.PaymentCoinsSent {
					t.Fatalf("COINS_SENT data: %+v %v", p, err)
				}
			}
			evs, err := c.Events(ctx, 0, 0)
			if err != nil || len(evs) == 0 {
				t.Fatalf("events: %v %v", evs, err)
			}
			for i, ev := range evs {
				if ev.Sequence != int64(i+1) || !strings.HasPrefix(ev.ID, "evt_") || ev.CreatedAt.IsZero() || len(ev.Data) == 0 {
					t.Fatalf("event %d: %+v", i, ev)
				}
			}
			if evs[0].Type != client.EventKYCStatusChanged {
				t.Fatalf("first event %s", evs[0].Type)
			}
			if k, err := evs[0].KYC(); err != nil || k.UserID == 0 {
				t.Fatalf("KYC event data: %+v %v", k, err)
			}
			more, err := c.Events(ctx, evs[0].Sequence, 2)
			if err != nil || len(more) != min(2, len(evs)-1) || (len(more) > 0 && more[0].Sequence != 2) {
				t.Fatalf("events after 1: %+v %v", more, err)
			}
			if _, err := c.Events(ctx, 0, 5000); !errors.Is(err, client.ErrValidation) {
				t.Fatalf("bad limit: %v", err)
			}
			dl, err := c.WebhookDeliveries(ctx, client.DeliveryFilter{Type: client.EventCoinsSent, Status: "succeeded", PerPage: 50})
			if err != nil || len(dl.Items) < 2 || dl.Items[0].Attempts < 1 || dl.Items[0].DeliveredAt.IsZero() || len(dl.Items[0].AttemptLog) == 0 {
				t.Fatalf("deliveries: %+v %v", dl, err)
			}
			retried, err := c.RetryWebhookDelivery(ctx, dl.Items[0].ID)
			if err != nil || retried.ID != dl.Items[0].ID {
				t.Fatalf("retry: %+v %v", retried, err)
			}
			if _, err := c.RetryWebhookDelivery(ctx, "nope"); !errors.Is(err, client.ErrDeliveryNotFound) {
				t.Fatalf("retry unknown: %v", err)
			}
			n, err := c.ReplayWebhooks(ctx, time.Now().Add(-time.Hour), client.EventPayIn)
			if err != nil || n < 1 {
				t.Fatalf("replay: %d %v", n, err)
			}
			if _, err := c.ReplayWebhooks(ctx, time.Now(), "NOPE"); !errors.Is(err, client.ErrInvalidEventType) {
				t.Fatalf("replay bad type: %v", err)
			}
		})

		t.Run("off-ramp", func(t *testing.T) {
			if !s.hasRoute("POST", "/api/createRampoff") {
				t.Skip("the server has no /api/createRampoff yet")
			}
			testOfframp(t, s, uid)
		})
	})
}

// testOfframp is the sell flow: quote, create, deposit on the sandbox chain, payout.
func testOfframp(t *testing.T, s *server, uid int64) {
	ctx := context.Background()
	c := s.c
	q, err := c.RampoffQuote(ctx, client.RampoffQuoteRequest{Amount: "150.5", Symbol: "USDC", Blockchain: "polygon"})
	if err != nil || q.QuoteID == "" || q.CoinAmount == "" || q.FiatAmount == "" || q.Price == "" || q.ExpiresAt.IsZero() {
		t.Fatalf("rampoff quote: %+v %v", q, err)
	}
	r, err := c.CreateRampoff(ctx, client.CreateRampoffRequest{UserID: uid, Amount: "150.5", Blockchain: "polygon", Symbol: "USDC",
		ExternalID: "sell-1", QuoteID: q.QuoteID})
	if err != nil || r.Rampoff != "payment created" || !strings.HasPrefix(r.Wallet, "0x") || len(r.ID) != 25 || r.Amount != "150500000" ||
		r.Decimals != 6 || r.FiatAmount != q.FiatAmount || r.ExpiresAt.IsZero() {
		t.Fatalf("create rampoff: %+v %v", r, err)
	}
	got, err := c.GetRampoff(ctx, r.ID)
	if err != nil || got.ID != r.ID || got.Status != client.RampoffPending || got.Amount != "150500000" || got.Decimals != 6 ||
		got.Crypto != "USDC" || got.Blockchain != "polygon" || got.FiatAmount == "" || got.ExternalID != "sell-1" || got.Wallet != r.Wallet {
		t.Fatalf("get rampoff: %+v %v", got, err)
	}
	if _, err := c.CreateRampoff(ctx, client.CreateRampoffRequest{UserID: uid, Amount: "50", Blockchain: "polygon", Symbol: "USDC",
		ExternalID: "sell-1"}); !errors.Is(err, client.ErrExternalIDAlreadyUsed) {
		t.Fatalf("external id reused: %v", err)
	}
	if _, err := c.CreateRampoff(ctx, client.CreateRampoffRequest{UserID: 999999, Amount: "10", Blockchain: "polygon", Symbol: "USDC"}); !errors.Is(err, client.ErrUserNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	if _, err := c.CreateRampoff(ctx, client.CreateRampoffRequest{Amount: "10", Blockchain: "polygon", Symbol: "USDC"}); !errors.Is(err, client.ErrFailMandatoryField) {
		t.Fatalf("no user: %v", err)
	}
	if _, err := c.CreateRampoff(ctx, client.CreateRampoffRequest{UserID: uid, Amount: "0.000001", Blockchain: "polygon", Symbol: "USDC"}); !errors.Is(err, client.ErrMinSale) {
		t.Fatalf("below minimum: %v", err)
	}
	if _, err := c.GetRampoff(ctx, "Fx1ZjLOkQGdPHr1u8Rsy9JvTh"); !errors.Is(err, client.ErrRampoffNotFound) {
		t.Fatalf("unknown rampoff: %v", err)
	}
	dep, err := c.SandboxDeposit(ctx, r.ID, client.SandboxDepositRequest{})
	if err != nil || dep.ID != r.ID {
		t.Fatalf("sandbox deposit: %+v %v", dep, err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err = c.GetRampoff(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == client.RampoffFinished {
			break
		}
		if time.Now().After(deadline) || got.Status == client.RampoffFailed || got.Status == client.RampoffExpired {
			t.Fatalf("rampoff stayed %+v", got)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got.DepositTxID == "" {
		t.Fatalf("finished without a deposit txid: %+v", got)
	}
	page, err := c.ListRampoffs(ctx, client.RampoffFilter{Status: client.RampoffFinished, UserID: uid, ExternalID: "sell-1", PerPage: 5})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != r.ID {
		t.Fatalf("list rampoffs: %+v %v", page, err)
	}
	evs, err := c.Events(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ev := range evs {
		if ev.Type == client.EventCryptoReceived || ev.Type == client.EventTransferRampoffFinished {
			ro, err := ev.Rampoff()
			if err != nil || ro.ID != r.ID {
				t.Fatalf("%s data: %+v %v", ev.Type, ro, err)
			}
			seen[ev.Type] = true
		}
	}
	if !seen[client.EventCryptoReceived] || !seen[client.EventTransferRampoffFinished] {
		t.Fatalf("off-ramp events missing: %v", seen)
	}
}
