package customer

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/pocketramp/pocketramp/internal/bankacct"
	"github.com/pocketramp/pocketramp/internal/contact"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/ids"
	"github.com/pocketramp/pocketramp/internal/nationalid"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/throttle"
)

// Person holds the personal fields of registerUser and registerUser/kyc-delegated.
type Person struct {
	Name                 string
	Email                string
	LastName             string
	LastName2            string
	Phone                string
	Country              string
	CountryCode          string
	City                 string
	Address              string
	AddressState         string
	Zipcode              string
	DOB                  string
	ProfessionalActivity string
	IdentificationType   string
	IdentificationNumber string
	Password             string
	IBAN                 string
	CallbackURL          string
}

// Registered is the answer of a registration.
type Registered struct {
	Customer   Customer
	KYCFormURL string
	Warnings   []string
}

// maxField bounds every free-text field.
const maxField = 255

// latam are the countries whose customers must give an identification and are paid locally.
var latam = map[string]bool{"CHL": true, "MEX": true, "COL": true, "PER": true, "ARG": true}

// IsLATAM reports whether a country (alpha-3) is one of the LATAM markets.
func IsLATAM(country string) bool { return latam[country] }

// validPerson checks and normalises p, returning the customer row to insert and any warnings.
func (s *Service) validPerson(p Person) (Customer, PII, []string, string, error) {
	f := errcode.Fields{}
	c := Customer{Type: Individual, KYCStatus: StatusUnused, KYCLevel: LevelBasic, OnboardingStatus: OnboardingNone}
	text := func(field, v string, required bool) string {
		v = strings.TrimSpace(v)
		switch {
		case v == "" && required:
			errcode.Required(f, field)
		case len(v) > maxField:
			f.Add(field, "The %s field must not be greater than %d characters.", errcode.Label(field), maxField)
		}
		return v
	}
	c.Name = text("name", p.Name, true)
	c.LastName = text("last_name", p.LastName, false)
	c.LastName2 = text("last_name2", p.LastName2, false)
	c.City = text("city", p.City, false)
	c.AddressState = text("address_state", p.AddressState, false)
	c.Zipcode = text("zipcode", p.Zipcode, false)
	c.ProfessionalActivity = text("professional_activity", p.ProfessionalActivity, false)
	var pii PII
	pii.Address = text("address", p.Address, false)
	c.Email = s.validEmail(f, p.Email)
	c.Country, c.CountryCode = validCountry(f, p.Country, p.CountryCode)
	if v := strings.TrimSpace(p.Phone); v != "" {
		e164, err := contact.Phone(v)
		if err != nil {
			f.Add("phone", "%s", fieldSentence("phone", err))
		}
		c.Phone = e164
	}
	if v := strings.TrimSpace(p.DOB); v != "" {
		if _, err := contact.DateOfBirth(v, s.Now()); err != nil {
			f.Add("dob", "%s", fieldMessage(err))
		}
		pii.DOB = v
	}
	var warnings []string
	c.IdentificationType, pii.IdentificationNumber, warnings = validIdentification(f, c.CountryCode, p.IdentificationType, p.IdentificationNumber, nationalid.Individual)
	if v := strings.TrimSpace(p.IBAN); v != "" {
		c.IBAN = validAccount(f, c.CountryCode, v)
	}
	c.CallbackURL = validCallback(f, p.CallbackURL)
	var hash string
	if p.Password != "" {
		// The contract's rule (REFERENCE §3.1): at least 6 characters, as the documented example's
		// "123456"; the upper bound is the one every free-text field has.
		if n := utf8.RuneCountInString(p.Password); n < minPassword {
			f.Add("password", "The password field must be at least %d characters.", minPassword)
		} else if len(p.Password) > maxField {
			f.Add("password", "The password field must not be greater than %d characters.", maxField)
		} else {
			hash = HashPassword(p.Password)
		}
	}
	return c, pii, warnings, hash, f.ErrIn("name", "email", "last_name", "last_name2", "phone", "country", "country_code", "city",
		"address", "address_state", "zipcode", "dob", "professional_activity", "identification_type", "identification_number",
		"password", "iban", "callback_url")
}

func (s *Service) validEmail(f errcode.Fields, v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		errcode.Required(f, "email")
		return ""
	}
	if len(v) > 254 {
		f.Add("email", "The email field must not be greater than 254 characters.")
		return ""
	}
	e, err := contact.Email(v)
	if err != nil {
		f.Add("email", "The email field must be a valid email address.")
		return ""
	}
	return strings.ToLower(e)
}

// validCountry returns the country name and alpha-3 code. country_code is authoritative; a
// supported country name alone is mapped to its code.
func validCountry(f errcode.Fields, name, code string) (string, string) {
	name, code = strings.TrimSpace(name), strings.TrimSpace(code)
	if len(name) > maxField {
		f.Add("country", "The country field must not be greater than %d characters.", maxField)
	}
	if code != "" {
		c, ok := contact.CountryCode(code)
		if !ok {
			f.Add("country_code", "The country code must be an ISO 3166-1 alpha-3 code (e.g. ESP, ARG).")
			return name, ""
		}
		if name == "" { // the customer's country reads the same in every answer (registerUser, find)
			name, _ = contact.CountryName(c)
		}
		return name, c
	}
	if name != "" {
		if c, ok := contact.CountryByName(name); ok {
			return name, c
		}
	}
	return name, ""
}

// validIdentification checks the type belongs to the country and the number passes the national
// rules; LATAM customers must give one.
func validIdentification(f errcode.Fields, country, idType, number string, kind nationalid.Kind) (string, string, []string) {
	idType = strings.ToUpper(strings.TrimSpace(idType))
	number = strings.TrimSpace(number)
	if idType == "" && number == "" {
		if nationalid.RequiredFor(country) {
			f.Add("identification_type", "The identification type field is required for customers from %s.", country)
			f.Add("identification_number", "The identification number field is required for customers from %s.", country)
		}
		return "", "", nil
	}
	if idType == "" {
		errcode.Required(f, "identification_type")
		return "", "", nil
	}
	if number == "" {
		errcode.Required(f, "identification_number")
		return idType, "", nil
	}
	if country == "" {
		f.Add("country_code", "The country code field is required when an identification is given.")
		return idType, "", nil
	}
	if !nationalid.TypeAllowed(country, idType, kind) {
		f.Add("identification_type", "The identification type must be one of %s for %s.", strings.Join(nationalid.Types(country, kind), ", "), country)
		return idType, "", nil
	}
	res, err := nationalid.Validate(country, idType, number)
	if err != nil {
		f.Add("identification_number", "The identification number is not valid: %s.", fieldMessage(err))
		return idType, "", nil
	}
	return idType, res.Normalized, res.Warnings
}

// validAccount checks a payout account: an IBAN, or the local format of a LATAM customer.
func validAccount(f errcode.Fields, country, v string) string {
	var out string
	var err error
	if latam[country] {
		out, err = bankacct.Local(country, v)
	} else {
		out, err = bankacct.IBAN(v)
	}
	if err != nil {
		f.Add("iban", "The iban field must be a valid bank account: %s.", fieldMessage(err))
	}
	return out
}

func validCallback(f errcode.Fields, v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(v) > 2048 {
		f.Add("callback_url", "The callback url must be an absolute http or https URL.")
		return ""
	}
	return v
}

// minPassword is the contract's shortest customer password.
const minPassword = 6

// fieldSentence turns a validator's message ("phone must be ...") into the contract's style
// ("The phone field must be ...").
func fieldSentence(field string, err error) string {
	msg := fieldMessage(err)
	if rest, ok := strings.CutPrefix(msg, field+" "); ok {
		return "The " + errcode.Label(field) + " field " + rest + "."
	}
	return "The " + errcode.Label(field) + " field is not valid: " + msg + "."
}

// fieldMessage is a validator's message without a trailing period (messages get one added).
func fieldMessage(err error) string { return strings.TrimSuffix(err.Error(), ".") }

// Register creates an individual customer (POST /registerUser). Checks: 422 validation, then
// email_not_allowed, then user_already_exists.
func (s *Service) Register(ctx context.Context, integrationID int64, p Person) (Registered, error) {
	var out Registered
	err := s.DB.Tx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = s.registerTx(ctx, tx, integrationID, p, "")
		return err
	})
	return out, err
}

func (s *Service) registerTx(ctx context.Context, tx *store.Tx, integrationID int64, p Person, reference string) (Registered, error) {
	c, pii, warnings, pw, err := s.validPerson(p)
	if err != nil {
		return Registered{}, err
	}
	if contact.Disposable(c.Email) {
		return Registered{}, ErrEmailNotAllowed
	}
	c.IntegrationID, c.PII, c.KYCReference = integrationID, pii, reference
	if err := s.insert(ctx, tx, &c, pw, ""); err != nil {
		return Registered{}, err
	}
	url, err := s.formURL(ctx, tx, c.ID, PurposeKYC)
	if err != nil {
		return Registered{}, err
	}
	return Registered{Customer: c, KYCFormURL: url, Warnings: warnings}, nil
}

func (s *Service) insert(ctx context.Context, tx *store.Tx, c *Customer, passwordHash, kybPasswordHash string) error {
	now := s.Now()
	c.UUID = ids.UUID()
	c.CreatedAt, c.UpdatedAt = now, now
	err := tx.QueryRow(ctx, `INSERT INTO customers (uuid, integration_id, type, email, name, last_name, last_name2, company_name,
		phone, country, country_code, city, address_state, zipcode, professional_activity, identification_type, pii_enc,
		identification_hash, password_hash, iban, bank_name, callback_url, kyc_status, kyc_level, kyc_reference,
		onboarding_status, kyb_password_hash, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.UUID, c.IntegrationID, c.Type, c.Email, c.Name, c.LastName, c.LastName2, c.CompanyName, c.Phone, c.Country,
		c.CountryCode, c.City, c.AddressState, c.Zipcode, c.ProfessionalActivity, c.IdentificationType, s.sealPII(c.PII),
		s.idHash(c.PII.IdentificationNumber), passwordHash, c.IBAN, c.BankName, c.CallbackURL, c.KYCStatus, c.KYCLevel,
		c.KYCReference, c.OnboardingStatus, kybPasswordHash, store.Micros(now), store.Micros(now)).Scan(&c.ID)
	if store.IsUniqueViolation(err) {
		return ErrAlreadyExists
	}
	return err
}

// Company holds the fields of POST /register/company.
type CompanyParams struct {
	Email                string
	CompanyName          string
	CountryCode          string
	IdentificationType   string
	IdentificationNumber string
}

// RegisteredCompany is the answer of a company registration; the password unlocks the KYB form
// and is shown only here.
type RegisteredCompany struct {
	Customer Customer
	KYBLink  Link
	Password string
	Warnings []string
}

// RegisterCompany creates a company customer and its KYB link.
func (s *Service) RegisterCompany(ctx context.Context, integrationID int64, p CompanyParams) (RegisteredCompany, error) {
	f := errcode.Fields{}
	c := Customer{Type: Company, IntegrationID: integrationID, KYCStatus: StatusUnused, KYCLevel: LevelBasic, OnboardingStatus: OnboardingNone}
	c.Email = s.validEmail(f, p.Email)
	c.CompanyName = strings.TrimSpace(p.CompanyName)
	switch {
	case c.CompanyName == "":
		errcode.Required(f, "company_name")
	case len(c.CompanyName) > 255:
		f.Add("company_name", "The company name field must not be greater than 255 characters.")
	}
	c.Name = c.CompanyName
	_, c.CountryCode = validCountry(f, "", p.CountryCode)
	var warnings []string
	if p.IdentificationType != "" || p.IdentificationNumber != "" {
		c.IdentificationType, c.PII.IdentificationNumber, warnings = validIdentification(f, c.CountryCode, p.IdentificationType, p.IdentificationNumber, nationalid.Company)
	}
	if err := f.ErrIn("email", "company_name", "country_code", "identification_type", "identification_number"); err != nil {
		return RegisteredCompany{}, err
	}
	if contact.Disposable(c.Email) {
		return RegisteredCompany{}, ErrEmailNotAllowed
	}
	password := ids.Alnum(12)
	var out RegisteredCompany
	err := s.DB.Tx(ctx, func(tx *store.Tx) error {
		if err := s.insert(ctx, tx, &c, "", HashPassword(password)); err != nil {
			return err
		}
		link, err := s.link(ctx, tx, c.ID, PurposeKYB, true)
		out = RegisteredCompany{Customer: c, KYBLink: link, Password: password, Warnings: warnings}
		return err
	})
	return out, err
}

// Delegated are the identity documents of a delegated-KYC registration.
type Delegated struct {
	DocumentFront string
	DocumentBack  string
	Selfie        string
	KYCReference  string
}

// RegisterDelegated creates a customer whose KYC the integration already did: the documents are
// stored and the customer starts processing, or valid at once when the operator trusts the
// integration for reliance.
func (s *Service) RegisterDelegated(ctx context.Context, integrationID int64, trusted bool, p Person, d Delegated) (Registered, error) {
	if _, _, _, _, err := s.validPerson(p); err != nil {
		return Registered{}, mergeDocErrors(ctx, s, err, d)
	}
	if err := mergeDocErrors(ctx, s, nil, d); err != nil {
		return Registered{}, err
	}
	files, err := s.loadFiles(ctx, map[string]string{"document_front": d.DocumentFront, "document_back": d.DocumentBack, "selfie": d.Selfie})
	if err != nil {
		return Registered{}, err
	}
	ref := strings.TrimSpace(d.KYCReference)
	if len(ref) > maxField {
		return Registered{}, errcode.Field("kyc_reference", "The kyc reference must not be greater than %d characters.", maxField)
	}
	var out Registered
	err = s.DB.Tx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = s.registerTx(ctx, tx, integrationID, p, ref)
		if err != nil {
			return err
		}
		for _, typ := range []string{"document_front", "document_back", "selfie"} {
			if _, err := s.storeDocument(ctx, tx, out.Customer.ID, typ, "delegated", files[typ]); err != nil {
				return err
			}
		}
		target := StatusProcessing
		if trusted {
			target = StatusValid
		}
		if err := s.setStatus(ctx, tx, &out.Customer, target, "", "", "integration"); err != nil {
			return err
		}
		if target == StatusValid {
			out.KYCFormURL = ""
		}
		return nil
	})
	return out, err
}

// mergeDocErrors adds the required-document errors of a delegated registration to err.
func mergeDocErrors(ctx context.Context, s *Service, err error, d Delegated) error {
	f := errcode.Fields{}
	var inv *errcode.Invalid
	if errors.As(err, &inv) {
		f = inv.Fields
	} else if err != nil {
		return err
	}
	for field, v := range map[string]string{"document_front": d.DocumentFront, "document_back": d.DocumentBack, "selfie": d.Selfie} {
		if strings.TrimSpace(v) == "" {
			errcode.Required(f, field)
		}
	}
	return f.Err()
}

// slowHashes bounds how many argon2id computations (19 MiB and tens of milliseconds of CPU each)
// run at once, so a flood of password guesses or company registrations queues here instead of
// starving every other request (health checks included) of CPU and memory.
var slowHashes = throttle.NewSemaphore(max(runtime.GOMAXPROCS(0)/2, 1))

// HashPassword returns an argon2id hash in PHC format.
func HashPassword(pw string) string {
	slowHashes.Acquire(context.Background())
	defer slowHashes.Release()
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, 2, 19*1024, 1, 32)
	return fmt.Sprintf("$argon2id$v=19$m=19456,t=2,p=1$%s$%s", base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// CheckPassword reports whether pw matches a HashPassword hash.
func CheckPassword(hash, pw string) bool {
	ok, _ := CheckPasswordContext(context.Background(), hash, pw)
	return ok
}

// CheckPasswordContext is CheckPassword that gives up (ctx's error) when ctx ends while it waits
// for a free hashing slot.
func CheckPasswordContext(ctx context.Context, hash, pw string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, nil
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false, nil
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 64 || m > 64*1024 || t > 10 || p == 0 {
		return false, nil // not a hash we wrote: never let a stored value choose a huge cost
	}
	if err := slowHashes.Acquire(ctx); err != nil {
		return false, err
	}
	defer slowHashes.Release()
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
