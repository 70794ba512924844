package operator

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/ids"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Login checks an operator's password (and TOTP code when enabled) and opens a session. Failed
// attempts are counted per e-mail and per client address; past MaxFailures within
// FailureWindow, logins from either are refused without checking the password.
func (s *Service) Login(ctx context.Context, email, password, code, ip string) (Session, Operator, error) {
	email = NormalizeEmail(email)
	keys := []string{"email:" + email, "ip:" + ip}
	if s.throttled(ctx, keys) {
		return Session{}, Operator{}, ErrThrottled
	}
	var hash string
	var secret []byte
	var lastStep int64
	o, err := scanOperator(s.DB.QueryRow(ctx, "SELECT "+opColumns+" FROM operators WHERE email = ?", email))
	if err == nil {
		err = s.DB.QueryRow(ctx, "SELECT password_hash, totp_secret, totp_last_step FROM operators WHERE id = ?", o.ID).Scan(&hash, &secret, &lastStep)
	}
	if errors.Is(err, ErrNotFound) {
		customer.CheckPassword(dummyHash(), password) // the same work as for a real account
		return Session{}, Operator{}, s.fail(ctx, keys)
	}
	if err != nil {
		return Session{}, Operator{}, err
	}
	if o.Disabled || hash == "" || !customer.CheckPassword(hash, password) {
		return Session{}, Operator{}, s.fail(ctx, keys)
	}
	if o.TOTPEnabled {
		if code == "" {
			return Session{}, Operator{}, ErrCodeNeeded
		}
		if err := s.useCode(ctx, o.ID, secret, code, lastStep); err != nil {
			if errors.Is(err, ErrCredentials) {
				return Session{}, Operator{}, s.fail(ctx, keys)
			}
			return Session{}, Operator{}, err
		}
	}
	s.DB.Exec(ctx, "DELETE FROM operator_login_failures WHERE key = ?", keys[0])
	sess, err := s.openSession(ctx, o.ID, ip)
	return sess, o, err
}

// dummyHash is checked for unknown e-mails so a login takes as long whether or not the account
// exists; computed on first use, not at every program start.
var dummyHash = sync.OnceValue(func() string { return customer.HashPassword("not a real password, only for timing") })

func (s *Service) throttled(ctx context.Context, keys []string) bool {
	max := s.MaxFailures
	if max <= 0 {
		max = DefaultMaxFailures
	}
	since := store.Micros(s.now().Add(-orDefault(s.FailureWindow, DefaultFailureWindow)))
	for _, k := range keys {
		var n int
		err := s.DB.QueryRow(ctx, "SELECT failures FROM operator_login_failures WHERE key = ? AND window_start > ?", k, since).Scan(&n)
		if err == nil && n >= max {
			return true
		}
	}
	return false
}

// fail counts a failed attempt against every key and returns ErrCredentials.
func (s *Service) fail(ctx context.Context, keys []string) error {
	now := s.now()
	since := store.Micros(now.Add(-orDefault(s.FailureWindow, DefaultFailureWindow)))
	err := s.DB.Tx(ctx, func(tx *store.Tx) error {
		for _, k := range keys {
			var n int
			var start int64
			err := tx.QueryRow(ctx, "SELECT failures, window_start FROM operator_login_failures WHERE key = ?"+tx.ForUpdate(), k).Scan(&n, &start)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				_, err = tx.Exec(ctx, "INSERT INTO operator_login_failures (key, failures, window_start) VALUES (?, 1, ?)", k, store.Micros(now))
			case err != nil:
			case start <= since: // the window passed: start a new one
				_, err = tx.Exec(ctx, "UPDATE operator_login_failures SET failures = 1, window_start = ? WHERE key = ?", store.Micros(now), k)
			default:
				_, err = tx.Exec(ctx, "UPDATE operator_login_failures SET failures = failures + 1 WHERE key = ?", k)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return ErrCredentials
}

// useCode checks a TOTP code and records its step, so the same code cannot be replayed.
func (s *Service) useCode(ctx context.Context, id int64, sealed []byte, code string, lastStep int64) error {
	secret, err := s.Box.Open(sealed)
	if err != nil {
		return err
	}
	step, ok := checkTOTP(secret, code, s.now(), lastStep)
	if !ok {
		return ErrCredentials
	}
	res, err := s.DB.Exec(ctx, "UPDATE operators SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?", step, id, step)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrCredentials // a concurrent login used it first
	}
	return nil
}

func (s *Service) openSession(ctx context.Context, operatorID int64, ip string) (Session, error) {
	now := s.now()
	sess := Session{Token: "ops_" + ids.Token(32), CSRF: ids.Token(32), OperatorID: operatorID, IP: ip, CreatedAt: now, LastSeenAt: now}
	_, err := s.DB.Exec(ctx, "INSERT INTO operator_sessions (token_hash, operator_id, csrf, ip, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)",
		hashToken(sess.Token), operatorID, sess.CSRF, ip, store.Micros(now), store.Micros(now))
	return sess, err
}

// Session returns the live session of a cookie token and its operator, and marks it used. A
// session idle longer than IdleTimeout, older than AbsoluteTimeout, or of a disabled operator
// is ended.
func (s *Service) Session(ctx context.Context, token string) (Session, Operator, error) {
	if token == "" {
		return Session{}, Operator{}, ErrNoSession
	}
	var sess Session
	var created, seen int64
	h := hashToken(token)
	err := s.DB.QueryRow(ctx, "SELECT operator_id, csrf, ip, created_at, last_seen_at FROM operator_sessions WHERE token_hash = ?", h).
		Scan(&sess.OperatorID, &sess.CSRF, &sess.IP, &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, Operator{}, ErrNoSession
	}
	if err != nil {
		return Session{}, Operator{}, err
	}
	sess.CreatedAt, sess.LastSeenAt = store.Time(created), store.Time(seen)
	now := s.now()
	o, err := s.Get(ctx, sess.OperatorID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Session{}, Operator{}, err
	}
	if err != nil || o.Disabled || now.Sub(sess.LastSeenAt) > orDefault(s.IdleTimeout, DefaultIdleTimeout) ||
		now.Sub(sess.CreatedAt) > orDefault(s.AbsoluteTimeout, DefaultAbsoluteTimeout) {
		s.DB.Exec(ctx, "DELETE FROM operator_sessions WHERE token_hash = ?", h)
		return Session{}, Operator{}, ErrNoSession
	}
	// Touch at most once a minute: every page view need not write.
	if now.Sub(sess.LastSeenAt) > time.Minute {
		if _, err := s.DB.Exec(ctx, "UPDATE operator_sessions SET last_seen_at = ? WHERE token_hash = ?", store.Micros(now), h); err != nil {
			return Session{}, Operator{}, err
		}
		sess.LastSeenAt = now
	}
	return sess, o, nil
}

// Logout ends a session.
func (s *Service) Logout(ctx context.Context, token string) error {
	_, err := s.DB.Exec(ctx, "DELETE FROM operator_sessions WHERE token_hash = ?", hashToken(token))
	return err
}

// BeginTOTP creates a new, not yet enabled, TOTP secret for the operator and returns it.
func (s *Service) BeginTOTP(ctx context.Context, id int64) ([]byte, error) {
	secret := NewTOTPSecret()
	if err := s.update(ctx, id, "totp_secret = ?", s.Box.Seal(secret)); err != nil {
		return nil, err
	}
	return secret, nil
}

// PendingTOTP returns the secret BeginTOTP stored, for showing it again.
func (s *Service) PendingTOTP(ctx context.Context, id int64) ([]byte, error) {
	var sealed []byte
	if err := s.DB.QueryRow(ctx, "SELECT totp_secret FROM operators WHERE id = ?", id).Scan(&sealed); err != nil || sealed == nil {
		return nil, err
	}
	return s.Box.Open(sealed)
}

// EnableTOTP turns the second factor on once the operator proves their app has the secret.
func (s *Service) EnableTOTP(ctx context.Context, id int64, code string) error {
	var sealed []byte
	var last int64
	if err := s.DB.QueryRow(ctx, "SELECT totp_secret, totp_last_step FROM operators WHERE id = ?", id).Scan(&sealed, &last); err != nil {
		return err
	}
	if sealed == nil {
		return errcode.Field("code", "Start the authenticator setup first.")
	}
	if err := s.useCode(ctx, id, sealed, code, last); err != nil {
		if errors.Is(err, ErrCredentials) {
			return errcode.Field("code", "The code is not right: check the time of your device and try the next code.")
		}
		return err
	}
	return s.update(ctx, id, "totp_enabled = ?", true)
}

// DisableTOTP turns the second factor off (an admin, for an operator who lost their device).
func (s *Service) DisableTOTP(ctx context.Context, id int64) error {
	return s.update(ctx, id, "totp_enabled = ?, totp_secret = NULL", false)
}

const settingRequireTOTP = "require_totp"

// RequireTOTP reports whether every operator must use a second factor.
func (s *Service) RequireTOTP(ctx context.Context) (bool, error) {
	var v string
	err := s.DB.QueryRow(ctx, "SELECT value FROM operator_settings WHERE key = ?", settingRequireTOTP).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return v == "true", err
}

// SetRequireTOTP sets whether every operator must use a second factor.
func (s *Service) SetRequireTOTP(ctx context.Context, on bool) error {
	return s.DB.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM operator_settings WHERE key = ?", settingRequireTOTP); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO operator_settings (key, value) VALUES (?, ?)", settingRequireTOTP, fmt.Sprint(on))
		return err
	})
}

// Token is a per-operator API token (its secret is shown once, at creation).
type Token struct {
	ID         int64
	OperatorID int64
	Name       string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// CreateToken issues an API token that acts as the operator, with their role.
func (s *Service) CreateToken(ctx context.Context, operatorID int64, name string) (Token, string, error) {
	if len(name) == 0 || len(name) > 100 {
		return Token{}, "", errcode.Field("name", "The name must be between 1 and 100 characters.")
	}
	raw := "opt_" + ids.Token(32)
	now := s.now()
	var id int64
	err := s.DB.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO operator_tokens (operator_id, name, token_hash, created_at) VALUES (?, ?, ?, ?)",
			operatorID, name, hashToken(raw), store.Micros(now)); err != nil {
			return err
		}
		return tx.QueryRow(ctx, "SELECT id FROM operator_tokens WHERE token_hash = ?", hashToken(raw)).Scan(&id)
	})
	return Token{ID: id, OperatorID: operatorID, Name: name, CreatedAt: now}, raw, err
}

// Tokens lists an operator's tokens, newest first.
func (s *Service) Tokens(ctx context.Context, operatorID int64) ([]Token, error) {
	rows, err := s.DB.Query(ctx, "SELECT id, operator_id, name, created_at, last_used_at, revoked_at FROM operator_tokens WHERE operator_id = ? ORDER BY id DESC", operatorID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var t Token
		var created int64
		var used, revoked sql.NullInt64
		if err := rows.Scan(&t.ID, &t.OperatorID, &t.Name, &created, &used, &revoked); err != nil {
			return nil, err
		}
		t.CreatedAt = store.Time(created)
		if used.Valid {
			u := store.Time(used.Int64)
			t.LastUsedAt = &u
		}
		if revoked.Valid {
			r := store.Time(revoked.Int64)
			t.RevokedAt = &r
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes one of an operator's tokens.
func (s *Service) RevokeToken(ctx context.Context, operatorID, id int64) error {
	res, err := s.DB.Exec(ctx, "UPDATE operator_tokens SET revoked_at = ? WHERE id = ? AND operator_id = ? AND revoked_at IS NULL",
		store.Micros(s.now()), id, operatorID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &errcode.Error{Code: "token_not_found", Message: "No live token has this id.", Status: 404}
	}
	return nil
}

// ResolveToken returns the operator an API token acts as; revoked tokens and disabled operators
// are refused.
func (s *Service) ResolveToken(ctx context.Context, raw string) (Operator, error) {
	var id, opID int64
	h := hashToken(raw)
	err := s.DB.QueryRow(ctx, "SELECT id, operator_id FROM operator_tokens WHERE token_hash = ? AND revoked_at IS NULL", h).Scan(&id, &opID)
	if errors.Is(err, sql.ErrNoRows) {
		return Operator{}, ErrNoSession
	}
	if err != nil {
		return Operator{}, err
	}
	o, err := s.Get(ctx, opID)
	if errors.Is(err, ErrNotFound) || (err == nil && o.Disabled) {
		return Operator{}, ErrNoSession
	}
	if err != nil {
		return Operator{}, err
	}
	s.DB.Exec(ctx, "UPDATE operator_tokens SET last_used_at = ? WHERE id = ?", store.Micros(s.now()), id)
	return o, nil
}
