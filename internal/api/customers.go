package api

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/errcode"
)

// documentMaxBody fits a 10 MB file sent base64-encoded in JSON.
const documentMaxBody = 15 << 20

func (s *Server) customerRoutes() {
	s.partner("POST /api/registerUser", s.registerUser)
	s.partnerLimit("POST /api/registerUser/kyc-delegated", 3*documentMaxBody, s.registerDelegated)
	s.partner("POST /api/register/company", s.registerCompany)
	s.partner("GET /api/kyc/check", s.kycCheck)
	s.partner("POST /api/onboarding-form", s.onboardingForm)
	s.partnerLimit("POST /api/customers/{user_id}/documents", documentMaxBody, s.uploadDocument)
	s.partner("GET /api/customers/list", s.listCustomers)
	s.partner("GET /api/customers/find", s.findCustomer)
	s.sandbox("POST /api/sandbox/customers/{user_id}/kyc", s.sandboxKYC)
}

type personRequest struct {
	Name                 string `json:"name"`
	Email                string `json:"email"`
	LastName             string `json:"last_name"`
	LastName2            string `json:"last_name2"`
	Phone                string `json:"phone"`
	Country              string `json:"country"`
	CountryCode          string `json:"country_code"`
	City                 string `json:"city"`
	Address              string `json:"address"`
	AddressState         string `json:"address_state"`
	Zipcode              string `json:"zipcode"`
	DOB                  string `json:"dob"`
	ProfessionalActivity string `json:"professional_activity"`
	IdentificationType   string `json:"identification_type"`
	IdentificationNumber string `json:"identification_number"`
	Password             string `json:"password"`
	IBAN                 string `json:"iban"`
	CallbackURL          string `json:"callback_url"`
}

func (p personRequest) person() customer.Person {
	return customer.Person{Name: p.Name, Email: p.Email, LastName: p.LastName, LastName2: p.LastName2, Phone: p.Phone,
		Country: p.Country, CountryCode: p.CountryCode, City: p.City, Address: p.Address, AddressState: p.AddressState,
		Zipcode: p.Zipcode, DOB: p.DOB, ProfessionalActivity: p.ProfessionalActivity, IdentificationType: p.IdentificationType,
		IdentificationNumber: p.IdentificationNumber, Password: p.Password, IBAN: p.IBAN, CallbackURL: p.CallbackURL}
}

// registeredJSON is the registration answer; its optional fields read as in the customer object
// of customers/find (null when absent), so the two answers agree.
type registeredJSON struct {
	ID                   int64    `json:"id"`
	Email                string   `json:"email"`
	Name                 string   `json:"name"`
	LastName             *string  `json:"last_name"`
	IdentificationNumber *string  `json:"identification_number"`
	Country              *string  `json:"country"`
	KYCValid             bool     `json:"kyc_valid"`
	KYCFormURL           string   `json:"kyc_form_url"`
	Warnings             []string `json:"warnings,omitempty"`
}

func registered(reg customer.Registered) registeredJSON {
	c := reg.Customer
	return registeredJSON{ID: c.ID, Email: c.Email, Name: c.Name, LastName: orNull(c.LastName),
		IdentificationNumber: orNull(c.PII.IdentificationNumber), Country: orNull(c.Country), KYCValid: c.KYCStatus == customer.StatusValid,
		KYCFormURL: reg.KYCFormURL, Warnings: reg.Warnings}
}

func (s *Server) registerUser(r *http.Request) (any, error) {
	var req personRequest
	if err := decodeJSON(r, &req); err != nil {
		return nil, err
	}
	reg, err := s.Customers.Register(r.Context(), caller(r).ID, req.person())
	if err != nil {
		return nil, err
	}
	return registered(reg), nil
}

type delegatedRequest struct {
	personRequest
	DocumentFront string `json:"document_front"`
	DocumentBack  string `json:"document_back"`
	Selfie        string `json:"selfie"`
	KYCReference  string `json:"kyc_reference"`
}

func (s *Server) registerDelegated(r *http.Request) (any, error) {
	var req delegatedRequest
	if err := decodeJSON(r, &req); err != nil {
		return nil, err
	}
	in := caller(r)
	reg, err := s.Customers.RegisterDelegated(r.Context(), in.ID, in.TrustedKYC, req.person(), customer.Delegated{
		DocumentFront: req.DocumentFront, DocumentBack: req.DocumentBack, Selfie: req.Selfie, KYCReference: req.KYCReference})
	if err != nil {
		return nil, err
	}
	return registered(reg), nil
}

type companyRequest struct {
	Email                string `json:"email"`
	CompanyName          string `json:"company_name"`
	CountryCode          string `json:"country_code"`
	IdentificationType   string `json:"identification_type"`
	IdentificationNumber string `json:"identification_number"`
}

type companyJSON struct {
	ID       int64    `json:"id"`
	UUID     string   `json:"uuid"`
	KYBLink  string   `json:"kyb_link"`
	Password string   `json:"password"`
	Warnings []string `json:"warnings,omitempty"`
}

func (s *Server) registerCompany(r *http.Request) (any, error) {
	var req companyRequest
	if err := decodeJSON(r, &req); err != nil {
		return nil, err
	}
	reg, err := s.Customers.RegisterCompany(r.Context(), caller(r).ID, customer.CompanyParams{Email: req.Email, CompanyName: req.CompanyName,
		CountryCode: req.CountryCode, IdentificationType: req.IdentificationType, IdentificationNumber: req.IdentificationNumber})
	if err != nil {
		return nil, err
	}
	return companyJSON{ID: reg.Customer.ID, UUID: reg.Customer.UUID, KYBLink: reg.KYBLink.URL, Password: reg.Password, Warnings: reg.Warnings}, nil
}

func (s *Server) kycCheck(r *http.Request) (any, error) {
	id, err := queryID(r, "user_id")
	if err != nil {
		return nil, err
	}
	return s.Customers.Check(r.Context(), caller(r).ID, id)
}

type userIDRequest struct {
	UserID flexInt `json:"user_id"`
}

func (s *Server) onboardingForm(r *http.Request) (any, error) {
	var req userIDRequest
	if err := decodeJSON(r, &req); err != nil {
		return nil, err
	}
	if !req.UserID.Set {
		return nil, errcode.Field("user_id", "The user id field is required.")
	}
	link, err := s.Customers.OnboardingLink(r.Context(), caller(r).ID, req.UserID.Value)
	if err != nil {
		return nil, err
	}
	return map[string]string{"onboarding_link": link.URL, "expires_at": timestamp(link.ExpiresAt)}, nil
}

type documentRequest struct {
	Type string `json:"type"`
	File string `json:"file"`
}

func (s *Server) uploadDocument(r *http.Request) (any, error) {
	id, err := pathID(r, "user_id", customer.ErrDocNotFound)
	if err != nil {
		return nil, err
	}
	var req documentRequest
	if err := decodeJSON(r, &req); err != nil {
		return nil, err
	}
	docID, err := s.Customers.AddDocument(r.Context(), caller(r).ID, id, req.Type, req.File)
	if err != nil {
		return nil, err
	}
	return map[string]int64{"document_id": docID}, nil
}

// customerJSON is the customer object of REFERENCE §3.8.
type customerJSON struct {
	ID                   int64   `json:"id"`
	UUID                 string  `json:"uuid"`
	Type                 string  `json:"type"`
	Name                 string  `json:"name"`
	LastName             *string `json:"last_name"`
	LastName2            *string `json:"last_name2"`
	CompanyName          *string `json:"company_name"`
	Email                string  `json:"email"`
	Phone                *string `json:"phone"`
	Country              *string `json:"country"`
	CountryCode          *string `json:"country_code"`
	IdentificationType   *string `json:"identification_type"`
	IdentificationNumber *string `json:"identification_number"`
	KYCStatus            string  `json:"kyc_status"`
	KYCLevel             string  `json:"kyc_level"`
	Banned               bool    `json:"banned"`
	CreatedAt            string  `json:"created_at"`
}

// orNull shows an empty optional field as JSON null.
func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func customerView(c customer.Customer) customerJSON {
	return customerJSON{ID: c.ID, UUID: c.UUID, Type: c.Type, Name: c.Name, LastName: orNull(c.LastName),
		LastName2: orNull(c.LastName2), CompanyName: orNull(c.CompanyName), Email: c.Email, Phone: orNull(c.Phone),
		Country: orNull(c.Country), CountryCode: orNull(c.CountryCode), IdentificationType: orNull(c.IdentificationType),
		IdentificationNumber: orNull(c.PII.IdentificationNumber), KYCStatus: c.KYCStatus, KYCLevel: c.KYCLevel,
		Banned: c.Banned, CreatedAt: timestamp(c.CreatedAt)}
}

func (s *Server) listCustomers(r *http.Request) (any, error) {
	page, perPage, err := parsePage(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	f := customer.Filter{KYCStatus: q.Get("kyc_status"), Email: q.Get("email"), Type: q.Get("type")}
	bad := errcode.Fields{}
	if f.KYCStatus != "" && !slices.Contains([]string{customer.StatusUnused, customer.StatusProcessing, customer.StatusValid, customer.StatusFail}, f.KYCStatus) {
		bad.Add("kyc_status", "The kyc status must be one of unused, processing, valid, fail.")
	}
	if f.Type != "" && f.Type != customer.Individual && f.Type != customer.Company {
		bad.Add("type", "The type must be individual or company.")
	}
	if err := bad.Err(); err != nil {
		return nil, err
	}
	list, total, err := s.Customers.List(r.Context(), caller(r).ID, f, page, perPage)
	if err != nil {
		return nil, err
	}
	items := make([]customerJSON, len(list))
	for i, c := range list {
		items[i] = customerView(c)
	}
	return paginated(items, page, perPage, total), nil
}

var errCustomerNotFound = errcode.UserNotFound.WithKind(errcode.KindNotFound)

func (s *Server) findCustomer(r *http.Request) (any, error) {
	q := r.URL.Query()
	var by customer.FindBy
	switch {
	case q.Get("id") != "":
		id, err := queryID(r, "id")
		if err != nil {
			return nil, err
		}
		by.ID = id
	case strings.TrimSpace(q.Get("email")) != "":
		by.Email = q.Get("email")
	case strings.TrimSpace(q.Get("identification_number")) != "":
		by.IdentificationNumber = q.Get("identification_number")
	default:
		return nil, errcode.Field("id", "Give one of id, email or identification_number.")
	}
	c, err := s.Customers.Find(r.Context(), caller(r).ID, by)
	if err != nil {
		if errors.Is(err, errcode.UserNotFound) {
			return nil, errCustomerNotFound
		}
		return nil, err
	}
	return customerView(c), nil
}

type sandboxKYCRequest struct {
	Status string `json:"status"`
	Level  string `json:"level"`
	Reason string `json:"reason"`
}

func (s *Server) sandboxKYC(r *http.Request) (any, error) {
	id, err := pathID(r, "user_id", customer.ErrNotFound)
	if err != nil {
		return nil, err
	}
	var req sandboxKYCRequest
	if err := decodeJSON(r, &req); err != nil {
		return nil, err
	}
	return s.Customers.SandboxSetKYC(r.Context(), caller(r).ID, id, req.Status, req.Level, req.Reason)
}
