// Package operator holds the people who run pocketramp: operator accounts with roles, their
// console sessions (idle and absolute timeouts, a CSRF token each), login throttling, an
// optional TOTP second factor an admin can require, and per-operator API tokens. Passwords are
// argon2id hashes; session and API tokens are stored only as SHA-256 hashes.
package operator

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/ids"
	"github.com/pocketramp/pocketramp/internal/secret"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Role is what an operator may see and do.
type Role string

const (
	Admin      Role = "admin"
	Compliance Role = "compliance"
	Finance    Role = "finance"
	ReadOnly   Role = "read-only"
)

// Roles lists every role.
var Roles = []Role{Admin, Compliance, Finance, ReadOnly}

// Area is a part of the console and of the operator API.
type Area string

const (
	AreaKYC          Area = "kyc"          // review queue, decisions, bans
	AreaCustomers    Area = "customers"    // customer search and pages
	AreaPayments     Area = "payments"     // on-ramp payments, off-ramps, holds
	AreaBank         Area = "bank"         // accounts, statements, exceptions, payouts
	AreaChains       Area = "chains"       // hot wallets, waiting payouts, sweeps
	AreaIntegrations Area = "integrations" // keys, allow-lists, limits, fees, webhooks
	AreaLedger       Area = "ledger"       // balances, history, verify
	AreaAudit        Area = "audit"        // the audit log
	AreaOperators    Area = "operators"    // accounts, roles, the TOTP requirement
)

// Areas in the console's navigation order.
var Areas = []Area{AreaKYC, AreaCustomers, AreaPayments, AreaBank, AreaChains, AreaIntegrations, AreaLedger, AreaAudit, AreaOperators}

// view and act are each role's part. Admins see and do everything; compliance reviews people;
// finance moves money; read-only sees everything but operators and changes nothing.
var (
	view = map[Role][]Area{
		Compliance: {AreaKYC, AreaCustomers, AreaPayments, AreaAudit},
		Finance:    {AreaCustomers, AreaPayments, AreaBank, AreaChains, AreaIntegrations, AreaLedger},
		ReadOnly:   {AreaKYC, AreaCustomers, AreaPayments, AreaBank, AreaChains, AreaIntegrations, AreaLedger, AreaAudit},
	}
	act = map[Role][]Area{
		Compliance: {AreaKYC},
		Finance:    {AreaPayments, AreaBank, AreaChains},
	}
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// CanView reports whether the role sees area a.
func (r Role) CanView(a Area) bool { return r == Admin || slices.Contains(view[r], a) }

// CanAct reports whether the role may change things in area a.
func (r Role) CanAct(a Area) bool { return r == Admin || slices.Contains(act[r], a) }

// Operator is an operator account.
type Operator struct {
	ID          int64
	Email       string
	Role        Role
	HasPassword bool
	TOTPEnabled bool
	Disabled    bool
	CreatedAt   time.Time
}

// Session is a console login.
type Session struct {
	Token      string // only set when created
	CSRF       string
	OperatorID int64
	IP         string
	CreatedAt  time.Time
	LastSeenAt time.Time
}

// Defaults of the Service's limits.
const (
	DefaultIdleTimeout     = 30 * time.Minute
	DefaultAbsoluteTimeout = 12 * time.Hour
	DefaultMaxFailures     = 5
	DefaultFailureWindow   = 15 * time.Minute
	SetupLinkTTL           = 72 * time.Hour
	MinPasswordLength      = 12
)

// Errors of logins and sessions.
var (
	ErrCredentials = errors.New("wrong e-mail, password or code")
	ErrThrottled   = errors.New("too many failed logins: try again later")
	ErrCodeNeeded  = errors.New("the authenticator code is required")
	ErrNoSession   = errors.New("no valid session")
	ErrNotFound    = &errcode.Error{Code: "operator_not_found", Message: "No operator has this id.", Status: 404}
	ErrSetupLink   = errors.New("the set-password link is unknown, used or expired")
)

// Service manages operators.
type Service struct {
	DB              *store.DB
	Box             *secret.Box
	Now             func() time.Time
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	MaxFailures     int
	FailureWindow   time.Duration
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func hashToken(t string) []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}

// NormalizeEmail lower-cases and trims an address.
func NormalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

func checkPassword(pw string) error {
	if len([]rune(pw)) < MinPasswordLength {
		return errcode.Field("password", "The password must be at least %d characters.", MinPasswordLength)
	}
	if len(pw) > 256 {
		return errcode.Field("password", "The password must not be greater than 256 characters.")
	}
	return nil
}

const opColumns = "id, email, role, password_hash <> '', totp_enabled, disabled, created_at"

func scanOperator(sc store.Scanner) (Operator, error) {
	var o Operator
	var created int64
	err := sc.Scan(&o.ID, &o.Email, &o.Role, &o.HasPassword, &o.TOTPEnabled, &o.Disabled, &created)
	o.CreatedAt = store.Time(created)
	if errors.Is(err, sql.ErrNoRows) {
		return o, ErrNotFound
	}
	return o, err
}

// Create adds an operator. With a password the account is ready; without one, the returned
// one-time setup token (valid SetupLinkTTL) lets the operator choose it.
func (s *Service) Create(ctx context.Context, email string, role Role, password string) (Operator, string, error) {
	email = NormalizeEmail(email)
	f := errcode.Fields{}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		f.Add("email", "The email must be a valid email address.")
	}
	if !role.Valid() {
		f.Add("role", "The role must be one of admin, compliance, finance, read-only.")
	}
	if password != "" {
		if err := checkPassword(password); err != nil {
			return Operator{}, "", err
		}
	}
	if err := f.Err(); err != nil {
		return Operator{}, "", err
	}
	now := store.Micros(s.now())
	hash, setup, expires := "", "", int64(0)
	var setupHash any // NULL: the column is unique
	if password != "" {
		hash = customer.HashPassword(password)
	} else {
		setup = ids.Token(32)
		setupHash, expires = hashToken(setup), store.Micros(s.now().Add(SetupLinkTTL))
	}
	_, err := s.DB.Exec(ctx, `INSERT INTO operators (email, role, password_hash, setup_token_hash, setup_expires_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, email, role, hash, setupHash, expires, now, now)
	if store.IsUniqueViolation(err) {
		return Operator{}, "", errcode.Field("email", "An operator with this email already exists.")
	}
	if err != nil {
		return Operator{}, "", err
	}
	o, err := s.ByEmail(ctx, email)
	return o, setup, err
}

// Get returns an operator by id.
func (s *Service) Get(ctx context.Context, id int64) (Operator, error) {
	return scanOperator(s.DB.QueryRow(ctx, "SELECT "+opColumns+" FROM operators WHERE id = ?", id))
}

// ByEmail returns an operator by e-mail.
func (s *Service) ByEmail(ctx context.Context, email string) (Operator, error) {
	return scanOperator(s.DB.QueryRow(ctx, "SELECT "+opColumns+" FROM operators WHERE email = ?", NormalizeEmail(email)))
}

// List returns every operator (a handful), by e-mail.
func (s *Service) List(ctx context.Context) ([]Operator, error) {
	rows, err := s.DB.Query(ctx, "SELECT "+opColumns+" FROM operators ORDER BY email")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Operator
	for rows.Next() {
		o, err := scanOperator(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// SetupEmail returns the e-mail of the operator a live setup token belongs to.
func (s *Service) SetupEmail(ctx context.Context, token string) (string, error) {
	var email string
	err := s.DB.QueryRow(ctx, "SELECT email FROM operators WHERE setup_token_hash = ? AND setup_expires_at > ?",
		hashToken(token), store.Micros(s.now())).Scan(&email)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrSetupLink
	}
	return email, err
}

// SetPasswordWithToken sets the password through a one-time setup link, which it consumes.
func (s *Service) SetPasswordWithToken(ctx context.Context, token, password string) (Operator, error) {
	if err := checkPassword(password); err != nil {
		return Operator{}, err
	}
	hash := customer.HashPassword(password)
	var id int64
	err := s.DB.Tx(ctx, func(tx *store.Tx) error {
		err := tx.QueryRow(ctx, "SELECT id FROM operators WHERE setup_token_hash = ? AND setup_expires_at > ?"+tx.ForUpdate(),
			hashToken(token), store.Micros(s.now())).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrSetupLink
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE operators SET password_hash = ?, setup_token_hash = NULL, setup_expires_at = 0, updated_at = ? WHERE id = ?",
			hash, store.Micros(s.now()), id)
		return err
	})
	if err != nil {
		return Operator{}, err
	}
	return s.Get(ctx, id)
}

// ResetLink replaces an operator's password with a new one-time setup link and ends their
// sessions (an admin helping someone who forgot it).
func (s *Service) ResetLink(ctx context.Context, id int64) (string, error) {
	setup := ids.Token(32)
	err := s.DB.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, "UPDATE operators SET password_hash = '', setup_token_hash = ?, setup_expires_at = ?, updated_at = ? WHERE id = ?",
			hashToken(setup), store.Micros(s.now().Add(SetupLinkTTL)), store.Micros(s.now()), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		_, err = tx.Exec(ctx, "DELETE FROM operator_sessions WHERE operator_id = ?", id)
		return err
	})
	return setup, err
}

// SetRole changes an operator's role.
func (s *Service) SetRole(ctx context.Context, id int64, role Role) error {
	if !role.Valid() {
		return errcode.Field("role", "The role must be one of admin, compliance, finance, read-only.")
	}
	return s.update(ctx, id, "role = ?", role)
}

// SetDisabled blocks or unblocks an operator; blocking ends their sessions and refuses their
// API tokens.
func (s *Service) SetDisabled(ctx context.Context, id int64, disabled bool) error {
	if err := s.update(ctx, id, "disabled = ?", disabled); err != nil {
		return err
	}
	if disabled {
		_, err := s.DB.Exec(ctx, "DELETE FROM operator_sessions WHERE operator_id = ?", id)
		return err
	}
	return nil
}

func (s *Service) update(ctx context.Context, id int64, set string, arg any) error {
	res, err := s.DB.Exec(ctx, "UPDATE operators SET "+set+", updated_at = ? WHERE id = ?", arg, store.Micros(s.now()), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
