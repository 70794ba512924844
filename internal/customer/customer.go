// Package customer holds an integration's end customers (individuals and companies), their
// identity data and documents, and the KYC/KYB state machine: hosted-form links, delegated KYC,
// operator review and bans. Personal identifiers, dates of birth, addresses and documents are
// encrypted at rest with the operator master key; identification numbers stay searchable through
// a keyed hash.
package customer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pocketramp/pocketramp/internal/document"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/event"
	"github.com/pocketramp/pocketramp/internal/nationalid"
	"github.com/pocketramp/pocketramp/internal/secret"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/throttle"
)

// Customer types.
const (
	Individual = "individual"
	Company    = "company"
)

// KYC statuses (REFERENCE §3.4) and levels.
const (
	StatusUnused     = "unused"
	StatusProcessing = "processing"
	StatusValid      = "valid"
	StatusFail       = "fail"

	LevelBasic      = "basic"
	LevelReinforced = "reinforced"
)

// Onboarding (enhanced verification) statuses.
const (
	OnboardingNone      = "none"
	OnboardingSubmitted = "submitted"
	OnboardingApproved  = "approved"
	OnboardingRejected  = "rejected"
)

// Transitions is the KYC state machine: from → allowed targets. Operators may also revoke a
// valid customer (valid → fail) and customers may resubmit after a failure.
var Transitions = map[string][]string{
	StatusUnused:     {StatusProcessing, StatusValid, StatusFail},
	StatusProcessing: {StatusValid, StatusFail},
	StatusValid:      {StatusFail},
	StatusFail:       {StatusProcessing, StatusValid},
}

// CanTransition reports whether a KYC status may change from one value to another.
func CanTransition(from, to string) bool { return slices.Contains(Transitions[from], to) }

// Errors of the contract.
var (
	ErrNotFound        = errcode.UserNotFound
	ErrAlreadyExists   = errcode.New("user_already_exists", "A customer with this e-mail already exists in this integration.")
	ErrEmailNotAllowed = errcode.New("email_not_allowed", "Disposable e-mail addresses are not accepted.")
	ErrBanned          = errcode.UserBanned
	// ErrLink is a hosted-form link that is unknown, expired or already used.
	ErrLink = errors.New("this link is invalid or has expired")
	// ErrTransition is a KYC change the state machine does not allow.
	ErrTransition = errcode.New("invalid_kyc_transition", "")
)

// Customer is one end customer of an integration.
type Customer struct {
	ID                   int64
	UUID                 string
	IntegrationID        int64
	Type                 string
	Email                string
	Name                 string
	LastName             string
	LastName2            string
	CompanyName          string
	Phone                string
	Country              string
	CountryCode          string
	City                 string
	AddressState         string
	Zipcode              string
	ProfessionalActivity string
	IdentificationType   string
	PII                  PII
	IBAN                 string
	BankName             string
	CallbackURL          string
	KYCStatus            string
	KYCLevel             string
	KYCReason            string
	KYCReference         string
	OnboardingStatus     string
	Banned               bool
	BanReason            string
	CreatedAt, UpdatedAt time.Time
}

// PII is the encrypted part of a customer.
type PII struct {
	Address              string `json:"address,omitempty"`
	DOB                  string `json:"dob,omitempty"`
	IdentificationNumber string `json:"identification_number,omitempty"`
}

// Service manages customers.
type Service struct {
	DB        *store.DB
	Box       *secret.Box
	Files     *document.Loader
	Blobs     document.BlobStore // encrypted at rest by the caller's wrapping (document.Sealed)
	Now       func() time.Time
	PublicURL string // base of hosted-form links
	Events    *event.Log

	kybOnce  sync.Once
	kybLocks *throttle.Backoff // per-link KYB password lockout (kybGuard)
}

const columns = `id, uuid, integration_id, type, email, name, last_name, last_name2, company_name, phone, country,
	country_code, city, address_state, zipcode, professional_activity, identification_type, pii_enc, iban, bank_name,
	callback_url, kyc_status, kyc_level, kyc_reason, kyc_reference, onboarding_status, banned, ban_reason, created_at, updated_at`

func (s *Service) scan(row store.Scanner) (Customer, error) {
	var c Customer
	var pii []byte
	var created, updated int64
	err := row.Scan(&c.ID, &c.UUID, &c.IntegrationID, &c.Type, &c.Email, &c.Name, &c.LastName, &c.LastName2, &c.CompanyName,
		&c.Phone, &c.Country, &c.CountryCode, &c.City, &c.AddressState, &c.Zipcode, &c.ProfessionalActivity, &c.IdentificationType,
		&pii, &c.IBAN, &c.BankName, &c.CallbackURL, &c.KYCStatus, &c.KYCLevel, &c.KYCReason, &c.KYCReference, &c.OnboardingStatus,
		&c.Banned, &c.BanReason, &created, &updated)
	if err != nil {
		return Customer{}, err
	}
	c.CreatedAt, c.UpdatedAt = store.Time(created), store.Time(updated)
	if c.IBAN, err = s.Box.OpenText(c.IBAN); err != nil {
		return Customer{}, fmt.Errorf("customer %d iban: %w", c.ID, err)
	}
	if len(pii) > 0 {
		plain, err := s.Box.Open(pii)
		if err != nil {
			return Customer{}, fmt.Errorf("customer %d: %w", c.ID, err)
		}
		if err := json.Unmarshal(plain, &c.PII); err != nil {
			return Customer{}, fmt.Errorf("customer %d pii: %w", c.ID, err)
		}
	}
	return c, nil
}

func (s *Service) sealPII(p PII) []byte {
	raw, _ := json.Marshal(p)
	return s.Box.Seal(raw)
}

func (s *Service) idHash(number string) []byte {
	if number == "" {
		return nil
	}
	return s.Box.LookupHash("identification", number)
}

// AccountHash is the lookup hash of a customer's bank account (IBAN, CLABE, CBU …), which is
// stored encrypted: the console finds a customer by it. nil for no account.
func AccountHash(box *secret.Box, account string) []byte {
	account = strings.ToUpper(strings.Join(strings.Fields(account), ""))
	if account == "" {
		return nil
	}
	return box.LookupHash("bank-account", account)
}

// Get returns a customer of integrationID; another integration's customer is ErrNotFound.
func (s *Service) Get(ctx context.Context, integrationID, id int64) (_ Customer, err error) {
	defer errcode.Op("customer.Get", &err)
	c, err := s.scan(s.DB.QueryRow(ctx, "SELECT "+columns+" FROM customers WHERE id = ? AND integration_id = ?", id, integrationID))
	if errors.Is(err, sql.ErrNoRows) {
		return Customer{}, ErrNotFound
	}
	return c, err
}

// GetAny returns a customer whatever its integration (operator use).
func (s *Service) GetAny(ctx context.Context, id int64) (_ Customer, err error) {
	defer errcode.Op("customer.GetAny", &err)
	c, err := s.scan(s.DB.QueryRow(ctx, "SELECT "+columns+" FROM customers WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Customer{}, ErrNotFound
	}
	return c, err
}

// LockTx takes the row lock of integrationID's customer id for the rest of tx, as ramp.Lock
// does (FOR NO KEY UPDATE on PostgreSQL, which leaves foreign-key checks of rows referencing
// the customer free; SQLite's write transactions already run one at a time), and returns what
// deciding whether they may buy or sell needs: id, integration, KYC status and level, ban. The
// other fields stay empty (no personal data is read or decrypted while the lock is held).
func (s *Service) LockTx(ctx context.Context, tx *store.Tx, integrationID, id int64) (_ Customer, err error) {
	defer errcode.Op("customer.LockTx", &err)
	suffix := ""
	if tx.Engine() == store.Postgres {
		suffix = " FOR NO KEY UPDATE"
	}
	var c Customer
	err = tx.QueryRow(ctx, "SELECT id, integration_id, kyc_status, kyc_level, banned FROM customers WHERE id = ? AND integration_id = ?"+suffix,
		id, integrationID).Scan(&c.ID, &c.IntegrationID, &c.KYCStatus, &c.KYCLevel, &c.Banned)
	if errors.Is(err, sql.ErrNoRows) {
		return Customer{}, ErrNotFound
	}
	return c, err
}

func (s *Service) getTx(ctx context.Context, tx *store.Tx, id int64) (Customer, error) {
	c, err := s.scan(tx.QueryRow(ctx, "SELECT "+columns+" FROM customers WHERE id = ?"+tx.ForUpdate(), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Customer{}, ErrNotFound
	}
	return c, err
}

// Check is the answer of GET /kyc/check, also the data of KYC_STATUS_CHANGED events.
type Check struct {
	UserID     int64  `json:"user_id"`
	KYCStatus  string `json:"kyc_status"`
	KYCLevel   string `json:"kyc_level"`
	Type       string `json:"type"`
	KYCFormURL string `json:"kyc_form_url,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// Check returns the KYC status of a customer of integrationID. While the customer is not valid it
// carries the hosted form's URL, issuing a fresh link when the previous one expired.
func (s *Service) Check(ctx context.Context, integrationID, id int64) (_ Check, err error) {
	defer errcode.Op("customer.Check", &err)
	var out Check
	err = s.DB.Tx(ctx, func(tx *store.Tx) error {
		c, err := s.getTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if c.IntegrationID != integrationID {
			return ErrNotFound
		}
		out, err = s.check(ctx, tx, c)
		return err
	})
	return out, err
}

func (s *Service) check(ctx context.Context, tx *store.Tx, c Customer) (Check, error) {
	out := Check{UserID: c.ID, KYCStatus: c.KYCStatus, KYCLevel: c.KYCLevel, Type: c.Type}
	if c.KYCStatus == StatusFail {
		out.Reason = c.KYCReason
	}
	if c.KYCStatus != StatusValid {
		purpose := PurposeKYC
		if c.Type == Company {
			purpose = PurposeKYB
		}
		url, err := s.formURL(ctx, tx, c.ID, purpose)
		if err != nil {
			return Check{}, err
		}
		out.KYCFormURL = url
	}
	return out, nil
}

// setStatus moves a customer's KYC status through the state machine and records the
// KYC_STATUS_CHANGED event in the same transaction. A change to the same status is a no-op.
func (s *Service) setStatus(ctx context.Context, tx *store.Tx, c *Customer, status, level, reason, actor string) error {
	return s.changeStatus(ctx, tx, c, status, level, reason, actor, true)
}

// changeStatus is setStatus; only the sandbox skips the state machine, to reach any status.
func (s *Service) changeStatus(ctx context.Context, tx *store.Tx, c *Customer, status, level, reason, actor string, checked bool) error {
	if level == "" {
		level = c.KYCLevel
	}
	if status == c.KYCStatus && level == c.KYCLevel && reason == c.KYCReason {
		return nil
	}
	if checked && status != c.KYCStatus && !CanTransition(c.KYCStatus, status) {
		return ErrTransition.With(fmt.Sprintf("KYC status cannot change from %s to %s", c.KYCStatus, status), nil)
	}
	if status != StatusFail {
		reason = ""
	}
	now := s.Now()
	if _, err := tx.Exec(ctx, "UPDATE customers SET kyc_status = ?, kyc_level = ?, kyc_reason = ?, updated_at = ? WHERE id = ?",
		status, level, reason, store.Micros(now), c.ID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "INSERT INTO customer_reviews (customer_id, action, reason, actor, created_at) VALUES (?, ?, ?, ?, ?)",
		c.ID, "kyc:"+status+":"+level, reason, actor, store.Micros(now)); err != nil {
		return err
	}
	c.KYCStatus, c.KYCLevel, c.KYCReason, c.UpdatedAt = status, level, reason, now
	chk, err := s.check(ctx, tx, *c)
	if err != nil {
		return err
	}
	_, err = s.Events.Record(ctx, tx, now, c.IntegrationID, event.KYCStatusChanged, "customer", fmt.Sprint(c.ID), chk)
	return err
}

// Filter narrows List.
type Filter struct {
	KYCStatus string
	Email     string
	Type      string
}

// List returns one page of an integration's customers, newest first, and the total.
func (s *Service) List(ctx context.Context, integrationID int64, f Filter, page, perPage int) (_ []Customer, _ int, err error) {
	defer errcode.Op("customer.List", &err)
	var w store.Where
	w.Add("integration_id = ?", integrationID)
	w.AddIf(f.KYCStatus != "", "kyc_status = ?", f.KYCStatus)
	w.AddIf(f.Email != "", "email = ?", strings.ToLower(strings.TrimSpace(f.Email)))
	w.AddIf(f.Type != "", "type = ?", f.Type)
	return store.Page(ctx, s.DB, "customers", columns, w, "id DESC", page, perPage, s.scan)
}

// FindBy is one way to look a customer up.
type FindBy struct {
	ID                   int64
	Email                string
	IdentificationNumber string
}

// Find returns one customer of integrationID; by identification number, the newest match.
func (s *Service) Find(ctx context.Context, integrationID int64, by FindBy) (_ Customer, err error) {
	defer errcode.Op("customer.Find", &err)
	var row *sql.Row
	switch {
	case by.ID != 0:
		return s.Get(ctx, integrationID, by.ID)
	case by.Email != "":
		row = s.DB.QueryRow(ctx, "SELECT "+columns+" FROM customers WHERE integration_id = ? AND email = ?", integrationID, strings.ToLower(strings.TrimSpace(by.Email)))
	default:
		// The type is unknown here, so a Spanish "ES" prefix is tried both ways.
		n := nationalid.Normalize(by.IdentificationNumber)
		row = s.DB.QueryRow(ctx, "SELECT "+columns+" FROM customers WHERE integration_id = ? AND identification_hash IN (?, ?) ORDER BY id DESC LIMIT 1",
			integrationID, s.idHash(n), s.idHash(strings.TrimPrefix(n, "ES")))
	}
	c, err := s.scan(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Customer{}, ErrNotFound.With("", nil)
	}
	return c, err
}
