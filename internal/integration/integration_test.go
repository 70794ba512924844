package integration_test

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/secret"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func newService(t *testing.T, db *store.DB) (*integration.Service, *clock) {
	box, _ := secret.NewBox(bytes.Repeat([]byte{1}, 32))
	c := &clock{t: time.Date(2026, 6, 26, 10, 30, 0, 0, time.UTC)}
	return &integration.Service{DB: db, Box: box, Now: c.Now}, c
}

var local = netip.MustParseAddr("127.0.0.1")

func TestAuthenticateAndResolve(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, clk := newService(t, db)
		cred, err := svc.Create(ctx, integration.NewParams{Name: "Acme", Sandbox: true})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(cred.APIKey, integration.SandboxKeyPrefix) || !strings.HasPrefix(cred.APISecret, integration.SandboxSecretPrefix) {
			t.Fatalf("sandbox credentials lack prefixes: %+v", cred)
		}
		live, err := svc.Create(ctx, integration.NewParams{Name: "Live"})
		if err != nil || !strings.HasPrefix(live.APIKey, integration.LiveKeyPrefix) {
			t.Fatalf("live credentials: %+v %v", live, err)
		}
		var stored []byte
		if err := db.QueryRow(ctx, "SELECT secret_enc FROM integrations WHERE id = ?", cred.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(stored, []byte(cred.APISecret)) {
			t.Fatal("api_secret stored in clear")
		}
		if s, err := svc.Secret(ctx, cred.ID); err != nil || s != cred.APISecret {
			t.Fatalf("Secret() = %q, %v", s, err)
		}

		tok, in, err := svc.Authenticate(ctx, cred.APIKey, cred.APISecret, local)
		if err != nil || in.ID != cred.ID {
			t.Fatalf("authenticate: %v", err)
		}
		var n int
		db.QueryRow(ctx, "SELECT COUNT(*) FROM auth_tokens WHERE token_hash = ?", []byte(tok.Token)).Scan(&n)
		if n != 0 {
			t.Fatal("token stored in clear")
		}
		got, err := svc.Resolve(ctx, tok.Token, local)
		if err != nil || got.ID != cred.ID || !got.Sandbox {
			t.Fatalf("resolve: %+v %v", got, err)
		}

		failures := map[string]func() error{
			"wrong secret":  func() error { _, _, err := svc.Authenticate(ctx, cred.APIKey, cred.APISecret+"x", local); return err },
			"unknown key":   func() error { _, _, err := svc.Authenticate(ctx, "pk_sandbox_nope", cred.APISecret, local); return err },
			"other secret":  func() error { _, _, err := svc.Authenticate(ctx, cred.APIKey, live.APISecret, local); return err },
			"unknown token": func() error { _, err := svc.Resolve(ctx, "tok_nope", local); return err },
			"empty token":   func() error { _, err := svc.Resolve(ctx, "", local); return err },
		}
		for name, f := range failures {
			if err := f(); !errors.Is(err, errcode.Unauthorized) {
				t.Errorf("%s: want authorization_incorrect, got %v", name, err)
			}
		}

		clk.t = tok.ExpiresAt
		if _, err := svc.Resolve(ctx, tok.Token, local); !errors.Is(err, errcode.Unauthorized) {
			t.Fatalf("expired token accepted: %v", err)
		}
		clk.t = tok.ExpiresAt.Add(-time.Hour)
		tok2, _, _ := svc.Authenticate(ctx, cred.APIKey, cred.APISecret, local)
		if err := svc.Revoke(ctx, tok2.Token); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Resolve(ctx, tok2.Token, local); !errors.Is(err, errcode.Unauthorized) {
			t.Fatalf("revoked token accepted: %v", err)
		}

		list, _ := integration.ParseAllowList("10.0.0.0/8, 192.168.1.7")
		if err := svc.SetAllowList(ctx, cred.ID, list); err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.Authenticate(ctx, cred.APIKey, cred.APISecret, local); !errors.Is(err, errcode.Unauthorized) {
			t.Fatalf("out-of-allow-list authenticate accepted: %v", err)
		}
		tok3, _, err := svc.Authenticate(ctx, cred.APIKey, cred.APISecret, netip.MustParseAddr("10.1.2.3"))
		if err != nil {
			t.Fatalf("allowed address refused: %v", err)
		}
		if _, err := svc.Resolve(ctx, tok3.Token, netip.MustParseAddr("192.168.1.8")); !errors.Is(err, errcode.Unauthorized) {
			t.Fatal("token used from outside the allow-list")
		}
		if _, err := svc.Resolve(ctx, tok3.Token, netip.MustParseAddr("::ffff:192.168.1.7")); err != nil {
			t.Fatalf("v4-mapped allowed address refused: %v", err)
		}
		if err := svc.RevokeAll(ctx, cred.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Resolve(ctx, tok3.Token, netip.MustParseAddr("10.1.2.3")); !errors.Is(err, errcode.Unauthorized) {
			t.Fatal("RevokeAll left a token alive")
		}
		if n, err := svc.PurgeExpiredTokens(ctx, clk.t.Add(48*time.Hour)); err != nil || n == 0 {
			t.Fatalf("purge: %d %v", n, err)
		}
	})
}

func TestCreateValidates(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		svc, _ := newService(t, db)
		if _, err := svc.Create(context.Background(), integration.NewParams{Name: "  "}); !errcode.IsInvalid(err) {
			t.Fatalf("blank name: %v", err)
		}
		if _, err := svc.Create(context.Background(), integration.NewParams{Name: "x", TokenTTL: time.Second}); !errcode.IsInvalid(err) {
			t.Fatalf("tiny TTL: %v", err)
		}
		if n, _ := svc.Count(context.Background()); n != 0 {
			t.Fatalf("rejected creates wrote %d rows", n)
		}
	})
}

func TestParseAllowList(t *testing.T) {
	for _, bad := range []string{"nope", "10.0.0.0/99", "1.2.3"} {
		if _, err := integration.ParseAllowList(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	l, err := integration.ParseAllowList("")
	if err != nil || l != nil {
		t.Fatalf("empty list: %v %v", l, err)
	}
}

// Resolve serves tokens from an in-process cache; every change this instance makes to a token or
// its integration must be seen by the very next request, not after the cache's TTL.
func TestResolveCacheSeesChangesAtOnce(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, _ := newService(t, db)
		cred, err := svc.Create(ctx, integration.NewParams{Name: "Acme", Sandbox: true})
		if err != nil {
			t.Fatal(err)
		}
		login := func() string {
			tok, _, err := svc.Authenticate(ctx, cred.APIKey, cred.APISecret, local)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Resolve(ctx, tok.Token, local); err != nil { // cached from here on
				t.Fatal(err)
			}
			return tok.Token
		}
		refused := func(what, tok string, from netip.Addr) {
			t.Helper()
			if _, err := svc.Resolve(ctx, tok, from); !errors.Is(err, errcode.Unauthorized) {
				t.Fatalf("%s: the next request was accepted (%v)", what, err)
			}
		}

		a, b := login(), login()
		if err := svc.Revoke(ctx, a); err != nil {
			t.Fatal(err)
		}
		refused("revoked token", a, local)
		if _, err := svc.Resolve(ctx, b, local); err != nil {
			t.Fatalf("revoking one token refused another: %v", err)
		}

		if err := svc.RevokeAll(ctx, cred.ID); err != nil {
			t.Fatal(err)
		}
		refused("token of an integration whose tokens were all revoked (secret rotation)", b, local)

		c := login()
		if err := svc.SetAllowList(ctx, cred.ID, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}); err != nil {
			t.Fatal(err)
		}
		refused("address no longer on the allow-list", c, local)

		if err := svc.SetAllowList(ctx, cred.ID, nil); err != nil {
			t.Fatal(err)
		}
		if err := svc.SetTrustedKYC(ctx, cred.ID, true); err != nil {
			t.Fatal(err)
		}
		if in, err := svc.Resolve(ctx, c, local); err != nil || !in.TrustedKYC {
			t.Fatalf("after SetTrustedKYC the next request saw %+v, %v", in, err)
		}
	})
}

// Rotating the secret: the new one works at once, the old one only until the grace period
// ends; a rotation without grace ends the old secret and its tokens at once.
func TestRotateSecret(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, clk := newService(t, db)
		cred, err := svc.Create(ctx, integration.NewParams{Name: "Acme", Sandbox: true})
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := svc.Authenticate(ctx, cred.APIKey, cred.APISecret, local)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.RotateSecret(ctx, cred.ID, -time.Second); err == nil {
			t.Fatal("negative grace accepted")
		}
		if _, err := svc.RotateSecret(ctx, cred.ID, 31*24*time.Hour); err == nil {
			t.Fatal("31 days of grace accepted")
		}
		next, err := svc.RotateSecret(ctx, cred.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if next.APIKey != cred.APIKey || next.APISecret == cred.APISecret || !strings.HasPrefix(next.APISecret, integration.SandboxSecretPrefix) {
			t.Fatalf("rotated credentials %+v", next)
		}
		if s, _ := svc.Secret(ctx, cred.ID); s != next.APISecret {
			t.Fatal("webhooks would still be signed with the old secret")
		}
		in, _ := svc.Get(ctx, cred.ID)
		if in.SecretRotatedAt == nil || !in.PrevSecretValid(clk.t) || !in.PrevSecretExpiresAt.Equal(clk.t.Add(time.Hour)) {
			t.Fatalf("rotation state %+v", in)
		}
		for _, secret := range []string{cred.APISecret, next.APISecret} {
			if _, _, err := svc.Authenticate(ctx, cred.APIKey, secret, local); err != nil {
				t.Fatalf("within grace: %v", err)
			}
		}
		if _, err := svc.Resolve(ctx, tok.Token, local); err != nil {
			t.Fatalf("a token issued before the rotation: %v", err)
		}
		clk.t = clk.t.Add(time.Hour)
		if _, _, err := svc.Authenticate(ctx, cred.APIKey, cred.APISecret, local); !errors.Is(err, errcode.Unauthorized) {
			t.Fatalf("old secret after the grace period: %v", err)
		}
		if _, _, err := svc.Authenticate(ctx, cred.APIKey, next.APISecret, local); err != nil {
			t.Fatal(err)
		}

		// No grace: the previous secret stops at once and so do the tokens issued so far.
		tok, _, _ = svc.Authenticate(ctx, cred.APIKey, next.APISecret, local)
		third, err := svc.RotateSecret(ctx, cred.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.Authenticate(ctx, cred.APIKey, next.APISecret, local); !errors.Is(err, errcode.Unauthorized) {
			t.Fatalf("secret rotated without grace: %v", err)
		}
		if _, err := svc.Resolve(ctx, tok.Token, local); !errors.Is(err, errcode.Unauthorized) {
			t.Fatalf("token after a rotation without grace: %v", err)
		}
		if _, _, err := svc.Authenticate(ctx, cred.APIKey, third.APISecret, local); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.RotateSecret(ctx, 999, time.Hour); !errors.Is(err, errcode.NotFound) {
			t.Fatalf("unknown integration: %v", err)
		}
	})
}
