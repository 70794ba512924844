package operator

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/secret"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
	"github.com/pocketramp/pocketramp/internal/testkit"
)

// RFC 6238 appendix B, SHA-1 rows (8 digits).
func TestTOTPVectors(t *testing.T) {
	key := []byte("12345678901234567890")
	for _, v := range []struct {
		unix int64
		want string
	}{{59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"}, {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"}} {
		if got := HOTP(key, uint64(v.unix/30), 8); got != v.want {
			t.Errorf("T=%d: %s, want %s", v.unix, got, v.want)
		}
	}
}

func newService(t *testing.T, db *store.DB) (*Service, *testkit.Clock) {
	box, err := secret.NewBox(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	c := testkit.NewClock(time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC))
	return &Service{DB: db, Box: box, Now: c.Now}, c
}

func TestRoles(t *testing.T) {
	if ReadOnly.CanAct(AreaKYC) || !ReadOnly.CanView(AreaKYC) {
		t.Error("read-only must see but not decide KYC")
	}
	if Finance.CanAct(AreaIntegrations) || !Finance.CanAct(AreaBank) {
		t.Error("finance moves money but does not change integration limits")
	}
	if Compliance.CanView(AreaBank) || !Compliance.CanAct(AreaKYC) {
		t.Error("compliance reviews people and does not see the bank")
	}
	for _, a := range Areas {
		if !Admin.CanAct(a) {
			t.Errorf("admin cannot act on %s", a)
		}
	}
}

func TestAccountsSessionsTokens(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, clk := newService(t, db)
		if _, _, err := s.Create(ctx, "not-an-email", "boss", ""); err == nil {
			t.Fatal("bad email and role accepted")
		}
		o, setup, err := s.Create(ctx, "Ana@Ops.example", Compliance, "")
		if err != nil || setup == "" || o.HasPassword || o.Email != "ana@ops.example" {
			t.Fatalf("create: %+v %q %v", o, setup, err)
		}
		if _, _, err := s.Create(ctx, "ana@ops.example", Admin, ""); err == nil {
			t.Fatal("duplicate email accepted")
		}
		if _, _, err := s.Login(ctx, "ana@ops.example", "", "", "10.0.0.1"); !errors.Is(err, ErrCredentials) {
			t.Fatalf("login without a password set: %v", err)
		}
		if _, err := s.SetPasswordWithToken(ctx, setup, "short"); err == nil {
			t.Fatal("short password accepted")
		}
		if _, err := s.SetPasswordWithToken(ctx, setup, "correct horse battery"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetPasswordWithToken(ctx, setup, "correct horse battery"); !errors.Is(err, ErrSetupLink) {
			t.Fatalf("setup link reused: %v", err)
		}
		sess, _, err := s.Login(ctx, "ANA@ops.example", "correct horse battery", "", "10.0.0.1")
		if err != nil || sess.Token == "" || sess.CSRF == "" {
			t.Fatalf("login: %v", err)
		}
		if _, got, err := s.Session(ctx, sess.Token); err != nil || got.ID != o.ID {
			t.Fatalf("session: %v", err)
		}
		// Idle timeout: 29 minutes keeps it alive, then 31 idle minutes end it.
		clk.Advance(29 * time.Minute)
		if _, _, err := s.Session(ctx, sess.Token); err != nil {
			t.Fatalf("session after 29 min: %v", err)
		}
		clk.Advance(31 * time.Minute)
		if _, _, err := s.Session(ctx, sess.Token); !errors.Is(err, ErrNoSession) {
			t.Fatalf("idle session still valid: %v", err)
		}
		// Absolute timeout: active every 20 minutes, still ended after 12 hours.
		sess, _, _ = s.Login(ctx, "ana@ops.example", "correct horse battery", "", "10.0.0.1")
		for range 40 { // 13 h 20 min in all
			clk.Advance(20 * time.Minute)
			if _, _, err := s.Session(ctx, sess.Token); err != nil {
				break
			}
		}
		if _, _, err := s.Session(ctx, sess.Token); !errors.Is(err, ErrNoSession) {
			t.Fatal("session outlived the absolute timeout")
		}

		// Throttling: 5 failures lock the e-mail out, even with the right password.
		for range 5 {
			if _, _, err := s.Login(ctx, "ana@ops.example", "wrong password!!", "", "10.0.0.2"); !errors.Is(err, ErrCredentials) {
				t.Fatalf("wrong password: %v", err)
			}
		}
		if _, _, err := s.Login(ctx, "ana@ops.example", "correct horse battery", "", "10.0.0.3"); !errors.Is(err, ErrThrottled) {
			t.Fatalf("after 5 failures: %v", err)
		}
		clk.Advance(16 * time.Minute)
		if _, _, err := s.Login(ctx, "ana@ops.example", "correct horse battery", "", "10.0.0.3"); err != nil {
			t.Fatalf("after the window: %v", err)
		}

		// TOTP: enabling needs a valid code; then login needs one, and a code works once.
		secret, err := s.BeginTOTP(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.EnableTOTP(ctx, o.ID, "000000"); err == nil && TOTPCode(secret, clk.Now()) != "000000" {
			t.Fatal("wrong code enabled TOTP")
		}
		if err := s.EnableTOTP(ctx, o.ID, TOTPCode(secret, clk.Now())); err != nil {
			t.Fatal(err)
		}
		clk.Advance(30 * time.Second)
		if _, _, err := s.Login(ctx, "ana@ops.example", "correct horse battery", "", "10.0.0.4"); !errors.Is(err, ErrCodeNeeded) {
			t.Fatalf("login without code: %v", err)
		}
		code := TOTPCode(secret, clk.Now())
		if _, _, err := s.Login(ctx, "ana@ops.example", "correct horse battery", code, "10.0.0.4"); err != nil {
			t.Fatalf("login with code: %v", err)
		}
		if _, _, err := s.Login(ctx, "ana@ops.example", "correct horse battery", code, "10.0.0.4"); !errors.Is(err, ErrCredentials) {
			t.Fatalf("replayed code: %v", err)
		}

		// API tokens act as the operator until revoked or the operator is disabled.
		tok, raw, err := s.CreateToken(ctx, o.ID, "cli")
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.ResolveToken(ctx, raw); err != nil || got.Role != Compliance {
			t.Fatalf("resolve: %+v %v", got, err)
		}
		if err := s.RevokeToken(ctx, o.ID, tok.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ResolveToken(ctx, raw); !errors.Is(err, ErrNoSession) {
			t.Fatalf("revoked token: %v", err)
		}
		_, raw, _ = s.CreateToken(ctx, o.ID, "cli2")
		if err := s.SetDisabled(ctx, o.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ResolveToken(ctx, raw); !errors.Is(err, ErrNoSession) {
			t.Fatalf("disabled operator's token: %v", err)
		}
	})
}
