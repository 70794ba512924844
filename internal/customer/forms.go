package customer

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/nationalid"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/throttle"
)

// Upload is a file sent through a hosted form.
type Upload struct {
	Name string
	Data []byte
}

// source turns an upload into a data: URL so forms and the API share one loader (which sniffs
// the real type and never trusts the declared one).
func (u Upload) source() string {
	if len(u.Data) == 0 {
		return ""
	}
	return "data:application/octet-stream;base64," + base64.StdEncoding.EncodeToString(u.Data)
}

// KYCForm is what the hosted KYC form submits.
type KYCForm struct {
	Name                 string `json:"name"`
	LastName             string `json:"last_name"`
	DOB                  string `json:"dob"`
	CountryCode          string `json:"country_code"`
	IdentificationType   string `json:"identification_type"`
	IdentificationNumber string `json:"-"`
	Address              string `json:"-"`
	City                 string `json:"city"`
	Zipcode              string `json:"zipcode"`
	Consent              bool   `json:"consent"`
	Front, Back, Selfie  Upload `json:"-"`
}

// SubmitKYC takes the hosted KYC form: it validates the identity data and images, stores them,
// moves the customer unused/fail → processing, and uses up the link. It returns the callback URL.
func (s *Service) SubmitKYC(ctx context.Context, token string, form KYCForm) (_ string, err error) {
	defer errcode.Op("customer.SubmitKYC", &err)
	f := errcode.Fields{}
	p := Person{Name: form.Name, LastName: form.LastName, DOB: form.DOB, CountryCode: form.CountryCode,
		IdentificationType: form.IdentificationType, IdentificationNumber: form.IdentificationNumber,
		Address: form.Address, City: form.City, Zipcode: form.Zipcode}
	for field, v := range map[string]string{"last_name": p.LastName, "dob": p.DOB, "country_code": p.CountryCode,
		"identification_type": p.IdentificationType, "identification_number": p.IdentificationNumber, "address": p.Address} {
		if strings.TrimSpace(v) == "" {
			errcode.Required(f, field)
		}
	}
	if !form.Consent {
		f.Add("consent", "You must accept the processing of your data to continue.")
	}
	var callback string
	err = s.DB.Tx(ctx, func(tx *store.Tx) error {
		c, _, err := s.openLink(ctx, tx, PurposeKYC, token)
		if err != nil {
			return err
		}
		p.Email = c.Email
		checked, pii, _, _, err := s.validPerson(p)
		if inv, ok := err.(*errcode.Invalid); ok {
			for k, v := range inv.Fields {
				if !f.Has(k) {
					f[k] = v
				}
			}
		} else if err != nil {
			return err
		}
		for field, u := range map[string]Upload{"document_front": form.Front, "document_back": form.Back, "selfie": form.Selfie} {
			if len(u.Data) == 0 {
				errcode.Required(f, field)
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		files, err := s.loadFiles(ctx, map[string]string{"document_front": form.Front.source(), "document_back": form.Back.source(), "selfie": form.Selfie.source()})
		if err != nil {
			return err
		}
		pii.DOB = strings.TrimSpace(p.DOB)
		_, err = tx.Exec(ctx, `UPDATE customers SET name = ?, last_name = ?, country_code = ?, city = ?, zipcode = ?,
			identification_type = ?, pii_enc = ?, identification_hash = ?, updated_at = ? WHERE id = ?`,
			checked.Name, checked.LastName, checked.CountryCode, checked.City, checked.Zipcode, checked.IdentificationType,
			s.sealPII(pii), s.idHash(pii.IdentificationNumber), store.Micros(s.Now()), c.ID)
		if err != nil {
			return err
		}
		for _, typ := range []string{"document_front", "document_back", "selfie"} {
			if _, err := s.storeDocument(ctx, tx, c.ID, typ, "kyc_form", files[typ]); err != nil {
				return err
			}
		}
		if err := s.saveSubmission(ctx, tx, c.ID, "kyc", form); err != nil {
			return err
		}
		if err := s.setStatus(ctx, tx, &c, StatusProcessing, "", "", "customer"); err != nil {
			return err
		}
		callback = c.CallbackURL
		return s.useLink(ctx, tx, token)
	})
	return callback, err
}

func (s *Service) saveSubmission(ctx context.Context, tx *store.Tx, customerID int64, kind string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "INSERT INTO customer_submissions (customer_id, kind, data_enc, created_at) VALUES (?, ?, ?, ?)",
		customerID, kind, s.Box.Seal(raw), store.Micros(s.Now()))
	return err
}

// ErrKYBPassword is a wrong KYB form password.
var ErrKYBPassword = errcode.Field("password", "The password is not correct.")

// KYB password guessing: a link allows KYBAttempts wrong passwords per KYBWindow, then locks for
// KYBWindow, doubling on each further lockout up to KYBMaxLockout (the customer learns when to
// come back). The right password clears the link's count.
const (
	KYBAttempts   = 5
	KYBWindow     = 15 * time.Minute
	KYBMaxLockout = 24 * time.Hour
)

// kybGuard returns the service's per-link KYB password lockout.
func (s *Service) kybGuard() *throttle.Backoff {
	s.kybOnce.Do(func() {
		s.kybLocks = &throttle.Backoff{Attempts: KYBAttempts, Window: KYBWindow, MaxLock: KYBMaxLockout, Now: s.Now}
	})
	return s.kybLocks
}

// UnlockKYB checks the KYB form password of a live KYB link. Too many wrong passwords on the
// link answer errcode.TooMany (HTTP 429 with Retry-After) until its lockout ends.
func (s *Service) UnlockKYB(ctx context.Context, token, password string) (_ Customer, err error) {
	defer errcode.Op("customer.UnlockKYB", &err)
	var c Customer
	var hash string
	err = s.DB.Tx(ctx, func(tx *store.Tx) error {
		var err error
		c, _, err = s.openLink(ctx, tx, PurposeKYB, token)
		if err != nil {
			return err
		}
		return tx.QueryRow(ctx, "SELECT kyb_password_hash FROM customers WHERE id = ?", c.ID).Scan(&hash)
	})
	if err != nil {
		return c, err
	}
	// The slow hash runs outside the transaction and only for links that may still guess.
	key := hex.EncodeToString(hashLinkToken(token))
	if ok, wait := s.kybGuard().Attempt(key); !ok {
		return c, errcode.TooManyRequests(wait)
	}
	match, err := CheckPasswordContext(ctx, hash, strings.TrimSpace(password))
	if err != nil {
		s.kybGuard().Succeeded(key) // not a guess: the request ended while waiting for the hash
		return c, err
	}
	if !match {
		return c, ErrKYBPassword
	}
	s.kybGuard().Reset(key)
	return c, nil
}

// Owner is a beneficial owner declared on the KYB form.
type Owner struct {
	Name                 string `json:"name"`
	IdentificationNumber string `json:"identification_number"`
	Percent              string `json:"percent"`
}

// KYBForm is what the hosted KYB form submits.
type KYBForm struct {
	Password             string   `json:"-"`
	CompanyName          string   `json:"company_name"`
	CountryCode          string   `json:"country_code"`
	IdentificationType   string   `json:"identification_type"`
	IdentificationNumber string   `json:"identification_number"`
	Address              string   `json:"address"`
	Owners               []Owner  `json:"owners"`
	Documents            []Upload `json:"-"`
}

// SubmitKYB takes the hosted KYB form (after its password): company data, registration number,
// beneficial owners and company documents; the company moves to processing.
func (s *Service) SubmitKYB(ctx context.Context, token string, form KYBForm) (_ string, err error) {
	defer errcode.Op("customer.SubmitKYB", &err)
	if _, err := s.UnlockKYB(ctx, token, form.Password); err != nil {
		return "", err
	}
	f := errcode.Fields{}
	form.CompanyName = strings.TrimSpace(form.CompanyName)
	if form.CompanyName == "" {
		errcode.Required(f, "company_name")
	}
	_, country := validCountry(f, "", form.CountryCode)
	if country == "" && !f.Has("country_code") {
		errcode.Required(f, "country_code")
	}
	idType, idNumber, _ := validIdentification(f, country, form.IdentificationType, form.IdentificationNumber, nationalid.Company)
	if idNumber == "" && !f.Has("identification_number") && !f.Has("identification_type") && !f.Has("country_code") {
		errcode.Required(f, "identification_number")
	}
	if strings.TrimSpace(form.Address) == "" {
		errcode.Required(f, "address")
	}
	owners := form.Owners[:0]
	for _, o := range form.Owners {
		if strings.TrimSpace(o.Name) != "" {
			owners = append(owners, o)
		}
	}
	form.Owners = owners
	if len(form.Owners) == 0 {
		f.Add("owners", "Declare at least one beneficial owner.")
	}
	sources := map[string]string{}
	for i, d := range form.Documents {
		if len(d.Data) > 0 {
			sources[fmt.Sprintf("documents.%d", i)] = d.source()
		}
	}
	if len(sources) == 0 {
		f.Add("documents", "Upload at least one company document (deed of incorporation, registry extract).")
	}
	if err := f.Err(); err != nil {
		return "", err
	}
	files, err := s.loadFiles(ctx, sources)
	if err != nil {
		return "", err
	}
	var callback string
	err = s.DB.Tx(ctx, func(tx *store.Tx) error {
		c, _, err := s.openLink(ctx, tx, PurposeKYB, token)
		if err != nil {
			return err
		}
		pii := c.PII
		pii.IdentificationNumber, pii.Address = idNumber, strings.TrimSpace(form.Address)
		if _, err := tx.Exec(ctx, `UPDATE customers SET company_name = ?, name = ?, country_code = ?, identification_type = ?, pii_enc = ?,
			identification_hash = ?, updated_at = ? WHERE id = ?`, form.CompanyName, form.CompanyName, country, idType,
			s.sealPII(pii), s.idHash(idNumber), store.Micros(s.Now()), c.ID); err != nil {
			return err
		}
		for _, file := range files {
			if _, err := s.storeDocument(ctx, tx, c.ID, "company_document", "kyb_form", file); err != nil {
				return err
			}
		}
		if err := s.saveSubmission(ctx, tx, c.ID, "kyb", form); err != nil {
			return err
		}
		if err := s.setStatus(ctx, tx, &c, StatusProcessing, "", "", "customer"); err != nil {
			return err
		}
		callback = c.CallbackURL
		return s.useLink(ctx, tx, token)
	})
	return callback, err
}

// OnboardingForm is the enhanced verification declaration.
type OnboardingForm struct {
	SourceOfFunds  string   `json:"source_of_funds"`
	Activity       string   `json:"activity"`
	ExpectedVolume string   `json:"expected_volume"`
	Declaration    bool     `json:"declaration"`
	Documents      []Upload `json:"-"`
}

// SourcesOfFunds and ExpectedVolumes are the form's choices.
var (
	SourcesOfFunds  = []string{"salary", "business", "savings", "investments", "inheritance", "sale_of_property", "crypto", "other"}
	ExpectedVolumes = []string{"lt_1000", "1000_10000", "10000_50000", "gt_50000"}
)

// SubmitOnboarding takes the enhanced verification form; an operator approval then raises the
// customer to the reinforced level.
func (s *Service) SubmitOnboarding(ctx context.Context, token string, form OnboardingForm) (err error) {
	defer errcode.Op("customer.SubmitOnboarding", &err)
	f := errcode.Fields{}
	if !slices.Contains(SourcesOfFunds, form.SourceOfFunds) {
		f.Add("source_of_funds", "Choose a source of funds.")
	}
	if strings.TrimSpace(form.Activity) == "" {
		errcode.Required(f, "activity")
	} else if len(form.Activity) > 2000 {
		f.Add("activity", "The activity must not be greater than 2000 characters.")
	}
	if !slices.Contains(ExpectedVolumes, form.ExpectedVolume) {
		f.Add("expected_volume", "Choose the expected volume.")
	}
	if !form.Declaration {
		f.Add("declaration", "You must confirm the declaration is true.")
	}
	sources := map[string]string{}
	for i, d := range form.Documents {
		if len(d.Data) > 0 {
			sources[fmt.Sprintf("documents.%d", i)] = d.source()
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	files, err := s.loadFiles(ctx, sources)
	if err != nil {
		return err
	}
	return s.DB.Tx(ctx, func(tx *store.Tx) error {
		c, _, err := s.openLink(ctx, tx, PurposeOnboarding, token)
		if err != nil {
			return err
		}
		for _, file := range files {
			if _, err := s.storeDocument(ctx, tx, c.ID, "source_of_funds_declaration", "onboarding_form", file); err != nil {
				return err
			}
		}
		if err := s.saveSubmission(ctx, tx, c.ID, "onboarding", form); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE customers SET onboarding_status = ?, updated_at = ? WHERE id = ?", OnboardingSubmitted, store.Micros(s.Now()), c.ID); err != nil {
			return err
		}
		return s.useLink(ctx, tx, token)
	})
}
