// Package integration holds the partners that call the API: their credentials (the secret
// encrypted at rest, because webhooks are signed with it), settings, and the opaque tokens that
// POST /api/authenticate issues (stored only as SHA-256 hashes).
package integration

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/pocketramp/pocketramp/internal/cache"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/ids"
	"github.com/pocketramp/pocketramp/internal/secret"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/throttle"
)

// Key prefixes tell sandbox and production credentials apart at a glance.
const (
	SandboxKeyPrefix    = "pk_sandbox_"
	LiveKeyPrefix       = "pk_live_"
	SandboxSecretPrefix = "sk_sandbox_"
	LiveSecretPrefix    = "sk_live_"
	// DefaultTokenTTL is the lifetime of a token for a new integration.
	DefaultTokenTTL = time.Hour
)

// Integration is a partner.
type Integration struct {
	ID          int64
	Name        string
	Sandbox     bool
	APIKey      string
	IPAllowList []netip.Prefix // empty: any address
	TokenTTL    time.Duration
	Disabled    bool
	// TrustedKYC marks an integration the operator relies on for KYC: its delegated customers
	// are valid at once.
	TrustedKYC bool
	CreatedAt  time.Time
	// Rate is the integration's request rate on the partner API (token bucket; PerSecond 0:
	// unlimited). New integrations get DefaultRate.
	Rate throttle.Rate
	// SecretRotatedAt is when the api_secret was last replaced (nil: never); the previous
	// secret still authenticates until PrevSecretExpiresAt.
	SecretRotatedAt     *time.Time
	PrevSecretExpiresAt *time.Time
}

// PrevSecretValid reports whether the previous api_secret still authenticates at now.
func (in Integration) PrevSecretValid(now time.Time) bool {
	return in.PrevSecretExpiresAt != nil && now.Before(*in.PrevSecretExpiresAt)
}

// DefaultRate is the request rate of a new integration (the migration's column defaults).
var DefaultRate = throttle.Rate{PerSecond: 50, Burst: 100}

// Credentials are what a new integration receives once; the secret is never shown again.
type Credentials struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Sandbox   bool   `json:"sandbox"`
	APIKey    string `json:"api_key"`
	APISecret string `json:"api_secret"`
}

// Token is an issued access token.
type Token struct {
	Token     string
	ExpiresAt time.Time
}

// Service manages integrations and their tokens.
type Service struct {
	DB  *store.DB
	Box *secret.Box
	Now func() time.Time

	// tokens caches Resolve's row per token hash for TokenCacheTTL: every partner request
	// resolves its token, and this saves the join. Revoke, RevokeAll and every setting change
	// drop the affected entries, so this instance refuses a revoked token on the next request;
	// another instance sharing the database may accept it for up to TokenCacheTTL.
	tokens     cache.Map[[sha256.Size]byte, resolved]
	tokensOnce sync.Once
}

// TokenCacheTTL bounds how long a token's integration, expiry and revocation are served from
// memory: the longest another instance may honour a token revoked (or a setting changed) here.
const TokenCacheTTL = 5 * time.Second

// resolved is the cached outcome of looking a token up.
type resolved struct {
	in      Integration
	expires time.Time
	revoked bool
}

func (s *Service) tokenCache() *cache.Map[[sha256.Size]byte, resolved] {
	s.tokensOnce.Do(func() { s.tokens.TTL = TokenCacheTTL })
	return &s.tokens
}

// forget drops the cached tokens of integration id after a change to it or its tokens.
func (s *Service) forget(id int64) {
	s.tokenCache().DeleteFunc(func(_ [sha256.Size]byte, r resolved) bool { return r.in.ID == id })
}

// NewParams are the settings of a new integration.
type NewParams struct {
	Name        string
	Sandbox     bool
	IPAllowList []netip.Prefix
	TokenTTL    time.Duration // zero: DefaultTokenTTL
}

// Create makes an integration and returns its credentials.
func (s *Service) Create(ctx context.Context, p NewParams) (Credentials, error) {
	var cred Credentials
	err := s.DB.Tx(ctx, func(tx *store.Tx) error {
		var err error
		cred, err = s.CreateTx(ctx, tx, p)
		return err
	})
	return cred, err
}

// CreateTx is Create inside the caller's transaction.
func (s *Service) CreateTx(ctx context.Context, tx *store.Tx, p NewParams) (Credentials, error) {
	name := strings.TrimSpace(p.Name)
	if name == "" || len(name) > 200 {
		return Credentials{}, errcode.Field("name", "The name field is required (at most 200 characters).")
	}
	ttl := p.TokenTTL
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	if err := validTTL(ttl); err != nil {
		return Credentials{}, err
	}
	keyPrefix, secretPrefix := LiveKeyPrefix, LiveSecretPrefix
	if p.Sandbox {
		keyPrefix, secretPrefix = SandboxKeyPrefix, SandboxSecretPrefix
	}
	cred := Credentials{Name: name, Sandbox: p.Sandbox, APIKey: keyPrefix + ids.Token(24), APISecret: secretPrefix + ids.Token(32)}
	err := tx.QueryRow(ctx, `INSERT INTO integrations (name, sandbox, api_key, secret_enc, ip_allowlist, token_ttl_s, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		name, p.Sandbox, cred.APIKey, s.Box.Seal([]byte(cred.APISecret)), formatAllowList(p.IPAllowList),
		int64(ttl/time.Second), store.Micros(s.Now())).Scan(&cred.ID)
	if err != nil {
		return Credentials{}, fmt.Errorf("insert integration: %w", err)
	}
	return cred, nil
}

// Count returns how many integrations exist.
func (s *Service) Count(ctx context.Context) (int, error) {
	var n int
	err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM integrations").Scan(&n)
	return n, err
}

const columns = "id, name, sandbox, api_key, ip_allowlist, token_ttl_s, disabled, trusted_kyc, created_at, rate_per_second, rate_burst, secret_rotated_at, prev_secret_expires_at"

// prefixed is columns qualified with the integrations table's alias i.
var prefixed = "i." + strings.ReplaceAll(columns, ", ", ", i.")

func optTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := store.Time(v.Int64)
	return &t
}

func scan(row interface{ Scan(...any) error }) (Integration, error) {
	var (
		in       Integration
		allow    string
		ttl, cAt int64
		rotated  sql.NullInt64
		prevExp  sql.NullInt64
	)
	if err := row.Scan(&in.ID, &in.Name, &in.Sandbox, &in.APIKey, &allow, &ttl, &in.Disabled, &in.TrustedKYC, &cAt,
		&in.Rate.PerSecond, &in.Rate.Burst, &rotated, &prevExp); err != nil {
		return Integration{}, err
	}
	in.SecretRotatedAt, in.PrevSecretExpiresAt = optTime(rotated), optTime(prevExp)
	in.TokenTTL = time.Duration(ttl) * time.Second
	in.CreatedAt = store.Time(cAt)
	var err error
	in.IPAllowList, err = ParseAllowList(allow)
	return in, err
}

// Get returns one integration.
func (s *Service) Get(ctx context.Context, id int64) (Integration, error) {
	in, err := scan(s.DB.QueryRow(ctx, "SELECT "+columns+" FROM integrations WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Integration{}, errcode.NotFound
	}
	return in, err
}

// Secret returns the decrypted api_secret of an integration (for signing webhooks).
func (s *Service) Secret(ctx context.Context, id int64) (string, error) {
	var sealed []byte
	if err := s.DB.QueryRow(ctx, "SELECT secret_enc FROM integrations WHERE id = ?", id).Scan(&sealed); err != nil {
		return "", err
	}
	plain, err := s.Box.Open(sealed)
	return string(plain), err
}

// Authenticate checks a key pair and the caller's address and issues a token. Every failure is
// errcode.Unauthorized, so callers learn nothing about which part was wrong.
func (s *Service) Authenticate(ctx context.Context, apiKey, apiSecret string, remote netip.Addr) (Token, Integration, error) {
	var sealed, prevHash []byte
	row := s.DB.QueryRow(ctx, "SELECT "+columns+", secret_enc, prev_secret_hash FROM integrations WHERE api_key = ?", apiKey)
	in, err := scan(scannerFunc(func(dest ...any) error { return row.Scan(append(dest, &sealed, &prevHash)...) }))
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, Integration{}, errcode.Unauthorized
	}
	if err != nil {
		return Token{}, Integration{}, err
	}
	plain, err := s.Box.Open(sealed)
	if err != nil {
		return Token{}, Integration{}, err
	}
	now := s.Now()
	current := subtle.ConstantTimeCompare(plain, []byte(apiSecret)) == 1
	previous := len(prevHash) > 0 && in.PrevSecretValid(now) && subtle.ConstantTimeCompare(prevHash, hashToken(apiSecret)) == 1
	if !(current || previous) || in.Disabled || !in.Allows(remote) {
		return Token{}, Integration{}, errcode.Unauthorized
	}
	raw := "tok_" + ids.Token(32)
	tok := Token{Token: raw, ExpiresAt: now.Add(in.TokenTTL)}
	_, err = s.DB.Exec(ctx, "INSERT INTO auth_tokens (token_hash, integration_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
		hashToken(raw), in.ID, store.Micros(now), store.Micros(tok.ExpiresAt))
	if err != nil {
		return Token{}, Integration{}, fmt.Errorf("store token: %w", err)
	}
	return tok, in, nil
}

type scannerFunc func(dest ...any) error

func (f scannerFunc) Scan(dest ...any) error { return f(dest...) }

// Resolve returns the integration a token belongs to, if the token is live and the caller's
// address is allowed. The token's row is cached (see TokenCacheTTL); expiry, revocation, the
// disabled flag and the allow-list are checked on every call.
func (s *Service) Resolve(ctx context.Context, token string, remote netip.Addr) (Integration, error) {
	if token == "" || len(token) > 200 {
		return Integration{}, errcode.Unauthorized
	}
	hash := sha256.Sum256([]byte(token))
	r, err := s.tokenCache().Load(ctx, hash, func(ctx context.Context) (resolved, error) {
		var expires int64
		var revoked sql.NullInt64
		row := s.DB.QueryRow(ctx, "SELECT "+prefixed+`, t.expires_at, t.revoked_at
		FROM auth_tokens t JOIN integrations i ON i.id = t.integration_id WHERE t.token_hash = ?`, hash[:])
		in, err := scan(scannerFunc(func(dest ...any) error { return row.Scan(append(dest, &expires, &revoked)...) }))
		return resolved{in: in, expires: store.Time(expires), revoked: revoked.Valid}, err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return Integration{}, errcode.Unauthorized
	}
	if err != nil {
		return Integration{}, err
	}
	if r.revoked || !s.Now().Before(r.expires) || r.in.Disabled || !r.in.Allows(remote) {
		return Integration{}, errcode.Unauthorized
	}
	return r.in, nil
}

// Revoke ends a token before its expiry.
func (s *Service) Revoke(ctx context.Context, token string) error {
	_, err := s.DB.Exec(ctx, "UPDATE auth_tokens SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL", store.Micros(s.Now()), hashToken(token))
	s.tokenCache().Delete(sha256.Sum256([]byte(token)))
	return err
}

// RevokeAll ends every token of an integration (e.g. after rotating its secret).
func (s *Service) RevokeAll(ctx context.Context, id int64) error {
	_, err := s.DB.Exec(ctx, "UPDATE auth_tokens SET revoked_at = ? WHERE integration_id = ? AND revoked_at IS NULL", store.Micros(s.Now()), id)
	s.forget(id)
	return err
}

// MaxRotationGrace bounds how long a replaced api_secret keeps working.
const MaxRotationGrace = 30 * 24 * time.Hour

// RotateSecret issues a new api_secret (the api_key stays: it names the integration). The
// previous secret keeps authenticating for grace, so the partner can deploy the new one without
// downtime; a grace of 0 ends it at once and revokes every token issued so far (a leaked
// secret). Tokens already issued otherwise live until their expiry. The answer carries the new
// secret, shown once.
func (s *Service) RotateSecret(ctx context.Context, id int64, grace time.Duration) (Credentials, error) {
	if grace < 0 || grace > MaxRotationGrace {
		return Credentials{}, errcode.Field("grace_seconds", "The grace period must be between 0 and 2592000 seconds (30 days).")
	}
	in, err := s.Get(ctx, id)
	if err != nil {
		return Credentials{}, err
	}
	prefix := LiveSecretPrefix
	if in.Sandbox {
		prefix = SandboxSecretPrefix
	}
	cred := Credentials{ID: in.ID, Name: in.Name, Sandbox: in.Sandbox, APIKey: in.APIKey, APISecret: prefix + ids.Token(32)}
	err = s.DB.Tx(ctx, func(tx *store.Tx) error {
		var sealed []byte
		if err := tx.QueryRow(ctx, "SELECT secret_enc FROM integrations WHERE id = ?"+tx.ForUpdate(), id).Scan(&sealed); err != nil {
			return err
		}
		old, err := s.Box.Open(sealed)
		if err != nil {
			return err
		}
		now := s.Now()
		var prevHash []byte
		var prevExp *int64
		if grace > 0 {
			prevHash = hashToken(string(old))
			exp := store.Micros(now.Add(grace))
			prevExp = &exp
		}
		if _, err := tx.Exec(ctx, `UPDATE integrations SET secret_enc = ?, prev_secret_hash = ?, prev_secret_expires_at = ?, secret_rotated_at = ?
			WHERE id = ?`, s.Box.Seal([]byte(cred.APISecret)), prevHash, prevExp, store.Micros(now), id); err != nil {
			return err
		}
		if grace == 0 {
			_, err = tx.Exec(ctx, "UPDATE auth_tokens SET revoked_at = ? WHERE integration_id = ? AND revoked_at IS NULL", store.Micros(now), id)
		}
		return err
	})
	s.forget(id) // cached tokens must not outlive a zero-grace rotation
	if err != nil {
		return Credentials{}, err
	}
	return cred, nil
}

// SetAllowList replaces the IP allow-list of an integration (nil: any address).
func (s *Service) SetAllowList(ctx context.Context, id int64, list []netip.Prefix) error {
	_, err := s.DB.Exec(ctx, "UPDATE integrations SET ip_allowlist = ? WHERE id = ?", formatAllowList(list), id)
	s.forget(id)
	return err
}

func validTTL(ttl time.Duration) error {
	if ttl < time.Minute || ttl > 30*24*time.Hour {
		return errcode.Field("token_ttl", "The token ttl field must be between 60 and 2592000 seconds (1 minute to 30 days).")
	}
	return nil
}

// SetTokenTTL sets the lifetime of the integration's next tokens; tokens already issued keep
// their expiry.
func (s *Service) SetTokenTTL(ctx context.Context, id int64, ttl time.Duration) error {
	if err := validTTL(ttl); err != nil {
		return err
	}
	_, err := s.DB.Exec(ctx, "UPDATE integrations SET token_ttl_s = ? WHERE id = ?", int64(ttl/time.Second), id)
	s.forget(id)
	return err
}

// SetTrustedKYC marks whether the operator relies on the integration's own KYC.
func (s *Service) SetTrustedKYC(ctx context.Context, id int64, trusted bool) error {
	_, err := s.DB.Exec(ctx, "UPDATE integrations SET trusted_kyc = ? WHERE id = ?", trusted, id)
	s.forget(id)
	return err
}

// SetRate sets the integration's request rate (PerSecond 0: unlimited).
func (s *Service) SetRate(ctx context.Context, id int64, r throttle.Rate) error {
	if err := CheckRate(r); err != nil {
		return err
	}
	_, err := s.DB.Exec(ctx, "UPDATE integrations SET rate_per_second = ?, rate_burst = ? WHERE id = ?", r.PerSecond, r.Burst, id)
	s.forget(id)
	return err
}

// CheckRate validates a request rate setting (422 naming rate_per_second or rate_burst).
func CheckRate(r throttle.Rate) error {
	f := errcode.Fields{}
	if r.PerSecond < 0 || r.PerSecond > 100_000 {
		f.Add("rate_per_second", "The rate per second must be between 0 (unlimited) and 100000.")
	}
	if r.Burst < 1 || r.Burst > 100_000 {
		f.Add("rate_burst", "The rate burst must be between 1 and 100000.")
	}
	return f.Err()
}

// PurgeExpiredTokens deletes tokens that expired before cutoff.
func (s *Service) PurgeExpiredTokens(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.DB.Exec(ctx, "DELETE FROM auth_tokens WHERE expires_at < ?", store.Micros(cutoff))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Allows reports whether addr may use this integration.
func (in Integration) Allows(addr netip.Addr) bool {
	if len(in.IPAllowList) == 0 {
		return true
	}
	addr = addr.Unmap()
	for _, p := range in.IPAllowList {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// ParseAllowList reads a comma-separated list of addresses and CIDR prefixes.
func ParseAllowList(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			a, err := netip.ParseAddr(part)
			if err != nil {
				return nil, fmt.Errorf("bad IP %q in allow-list", part)
			}
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("bad prefix %q in allow-list", part)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func formatAllowList(list []netip.Prefix) string {
	parts := make([]string, len(list))
	for i, p := range list {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
