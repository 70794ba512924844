package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// TokenPriceRequest asks for the price of one token.
type TokenPriceRequest struct {
	Symbol     string // required, e.g. USDC
	FiatSymbol string // default EUR
	Chain      string // optional
}

// TokenPrice is the price of one token in fiat.
type TokenPrice struct {
	Symbol     string    `json:"symbol"`
	FiatSymbol string    `json:"fiat_symbol"`
	Price      string    `json:"price"` // decimal string, fiat per token
	UpdatedAt  time.Time `json:"updated_at"`
	Source     string    `json:"source"`
}

// TokenPrice calls GET /token-price.
func (c *Client) TokenPrice(ctx context.Context, r TokenPriceRequest) (*TokenPrice, error) {
	q := url.Values{}
	set(q, "symbol", r.Symbol)
	set(q, "fiat_symbol", r.FiatSymbol)
	set(q, "chain", r.Chain)
	var out TokenPrice
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/token-price", query: q}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Asset is an active (symbol, chain) pair.
type Asset struct {
	Symbol   string `json:"symbol"`
	Name     string `json:"name"`
	Chain    string `json:"chain"`
	Decimals int    `json:"decimals"`
	Contract string `json:"contract"` // empty for native coins
	OnRamp   bool   `json:"onramp"`
	OffRamp  bool   `json:"offramp"`
}

// AvailableAssets calls GET /available-assets.
func (c *Client) AvailableAssets(ctx context.Context) ([]Asset, error) {
	var out []Asset
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/available-assets"}, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// RegisterUserRequest is the body of POST /registerUser. Name and Email are required; LATAM
// customers need an identification.
type RegisterUserRequest struct {
	Name                 string `json:"name"`
	Email                string `json:"email"`
	LastName             string `json:"last_name,omitempty"`
	LastName2            string `json:"last_name2,omitempty"`
	Phone                string `json:"phone,omitempty"`        // E.164
	Country              string `json:"country,omitempty"`      // country name
	CountryCode          string `json:"country_code,omitempty"` // ISO 3166-1 alpha-3; wins over Country
	City                 string `json:"city,omitempty"`
	Address              string `json:"address,omitempty"`
	AddressState         string `json:"address_state,omitempty"`
	Zipcode              string `json:"zipcode,omitempty"`
	DOB                  string `json:"dob,omitempty"` // YYYY-MM-DD
	ProfessionalActivity string `json:"professional_activity,omitempty"`
	IdentificationType   string `json:"identification_type,omitempty"`
	IdentificationNumber string `json:"identification_number,omitempty"`
	Password             string `json:"password,omitempty"`
	IBAN                 string `json:"iban,omitempty"` // payout account (LATAM: the local account number)
	CallbackURL          string `json:"callback_url,omitempty"`
}

// RegisteredUser is the answer of the registration calls.
type RegisteredUser struct {
	ID                   int64    `json:"id"`
	Email                string   `json:"email"`
	Name                 string   `json:"name"`
	LastName             string   `json:"last_name"`
	IdentificationNumber string   `json:"identification_number"`
	Country              string   `json:"country"`
	KYCValid             bool     `json:"kyc_valid"`
	KYCFormURL           string   `json:"kyc_form_url"`
	Warnings             []string `json:"warnings,omitempty"`
}

// RegisterUser calls POST /registerUser.
func (c *Client) RegisterUser(ctx context.Context, r RegisterUserRequest) (*RegisteredUser, error) {
	var out RegisteredUser
	if _, err := c.call(ctx, request{method: http.MethodPost, path: "/registerUser", body: r}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RegisterUserKYCDelegatedRequest is the body of POST /registerUser/kyc-delegated: the personal
// fields plus the identity documents, each a data: URL (data:image/jpeg;base64,...) or a public
// https URL.
type RegisterUserKYCDelegatedRequest struct {
	RegisterUserRequest
	DocumentFront string `json:"document_front,omitempty"`
	DocumentBack  string `json:"document_back,omitempty"`
	Selfie        string `json:"selfie,omitempty"`
	KYCReference  string `json:"kyc_reference,omitempty"`
}

// RegisterUserKYCDelegated calls POST /registerUser/kyc-delegated.
func (c *Client) RegisterUserKYCDelegated(ctx context.Context, r RegisterUserKYCDelegatedRequest) (*RegisteredUser, error) {
	var out RegisteredUser
	if _, err := c.call(ctx, request{method: http.MethodPost, path: "/registerUser/kyc-delegated", body: r}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RegisterCompanyRequest is the body of POST /register/company.
type RegisterCompanyRequest struct {
	Email                string `json:"email"`
	CompanyName          string `json:"company_name"`
	CountryCode          string `json:"country_code,omitempty"`
	IdentificationType   string `json:"identification_type,omitempty"`
	IdentificationNumber string `json:"identification_number,omitempty"`
}

// RegisteredCompany is a new company customer: KYBLink opens the hosted KYB form, unlocked by
// Password.
type RegisteredCompany struct {
	ID       int64    `json:"id"`
	UUID     string   `json:"uuid"`
	KYBLink  string   `json:"kyb_link"`
	Password string   `json:"password"`
	Warnings []string `json:"warnings,omitempty"`
}

// RegisterCompany calls POST /register/company.
func (c *Client) RegisterCompany(ctx context.Context, r RegisterCompanyRequest) (*RegisteredCompany, error) {
	var out RegisteredCompany
	if _, err := c.call(ctx, request{method: http.MethodPost, path: "/register/company", body: r}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// KYC statuses and levels.
const (
	KYCUnused     = "unused"
	KYCProcessing = "processing"
	KYCValid      = "valid"
	KYCFail       = "fail"

	KYCLevelBasic      = "basic"
	KYCLevelReinforced = "reinforced"
)

// KYCStatus is the answer of GET /kyc/check (and the data of KYC_STATUS_CHANGED events).
type KYCStatus struct {
	UserID     int64  `json:"user_id"`
	KYCStatus  string `json:"kyc_status"` // unused, processing, valid, fail
	KYCLevel   string `json:"kyc_level"`  // basic, reinforced
	Type       string `json:"type"`       // individual, company
	KYCFormURL string `json:"kyc_form_url,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// KYCCheck calls GET /kyc/check.
func (c *Client) KYCCheck(ctx context.Context, userID int64) (*KYCStatus, error) {
	var out KYCStatus
	q := url.Values{"user_id": {strconv.FormatInt(userID, 10)}}
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/kyc/check", query: q}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// OnboardingLink is the hosted enhanced-verification form of a customer.
type OnboardingLink struct {
	OnboardingLink string    `json:"onboarding_link"`
	ExpiresAt      time.Time `json:"expires_at"`
}

// OnboardingForm calls POST /onboarding-form.
func (c *Client) OnboardingForm(ctx context.Context, userID int64) (*OnboardingLink, error) {
	var out OnboardingLink
	body := map[string]int64{"user_id": userID}
	if _, err := c.call(ctx, request{method: http.MethodPost, path: "/onboarding-form", body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Document types of UploadDocument.
const (
	DocOnboardingForm               = "onboarding_form"
	DocBankStatement                = "bank_statement"
	DocPayslip                      = "payslip"
	DocEmploymentContract           = "employment_contract"
	DocTaxReturn                    = "tax_return"
	DocTaxCertificate               = "tax_certificate"
	DocCompanyAccounts              = "company_accounts"
	DocDividendStatement            = "dividend_statement"
	DocInvestmentStatement          = "investment_statement"
	DocCryptoWalletStatement        = "crypto_wallet_statement"
	DocSaleOfProperty               = "sale_of_property"
	DocSaleOfVehicle                = "sale_of_vehicle"
	DocSaleOfCompanyShares          = "sale_of_company_shares"
	DocInheritanceDocument          = "inheritance_document"
	DocGiftDeclaration              = "gift_declaration"
	DocLoanAgreement                = "loan_agreement"
	DocSavingsEvidence              = "savings_evidence"
	DocInvoice                      = "invoice"
	DocFreelanceIncomeEvidence      = "freelance_income_evidence"
	DocPensionStatement             = "pension_statement"
	DocUnemploymentBenefitStatement = "unemployment_benefit_statement"
	DocSourceOfFundsDeclaration     = "source_of_funds_declaration"
	DocOther                        = "other"
)

// UploadDocument calls POST /customers/{user_id}/documents. file is a data: URL
// (data:application/pdf;base64,...) or a public http(s) URL; PDF, JPEG or PNG. It returns the
// new document's id.
func (c *Client) UploadDocument(ctx context.Context, userID int64, docType, file string) (int64, error) {
	var out struct {
		DocumentID int64 `json:"document_id"`
	}
	body := map[string]string{"type": docType, "file": file}
	path := "/customers/" + strconv.FormatInt(userID, 10) + "/documents"
	if _, err := c.call(ctx, request{method: http.MethodPost, path: path, body: body}, &out); err != nil {
		return 0, err
	}
	return out.DocumentID, nil
}

// Customer is a customer of the integration.
type Customer struct {
	ID                   int64     `json:"id"`
	UUID                 string    `json:"uuid"`
	Type                 string    `json:"type"` // individual, company
	Name                 string    `json:"name"`
	LastName             string    `json:"last_name"`
	LastName2            string    `json:"last_name2"`
	CompanyName          string    `json:"company_name"`
	Email                string    `json:"email"`
	Phone                string    `json:"phone"`
	Country              string    `json:"country"`
	CountryCode          string    `json:"country_code"`
	IdentificationType   string    `json:"identification_type"`
	IdentificationNumber string    `json:"identification_number"`
	KYCStatus            string    `json:"kyc_status"`
	KYCLevel             string    `json:"kyc_level"`
	Banned               bool      `json:"banned"`
	CreatedAt            time.Time `json:"created_at"`
}

// CustomerFilter selects customers of ListCustomers.
type CustomerFilter struct {
	KYCStatus string // unused, processing, valid, fail
	Email     string
	Type      string // individual, company
	Page      int    // from 1
	PerPage   int    // up to 100 (default 20)
}

// CustomerPage is a page of customers.
type CustomerPage = Page[Customer]

// ListCustomers calls GET /customers/list.
func (c *Client) ListCustomers(ctx context.Context, f CustomerFilter) (*CustomerPage, error) {
	q := url.Values{}
	set(q, "kyc_status", f.KYCStatus)
	set(q, "email", f.Email)
	set(q, "type", f.Type)
	PageRequest{f.Page, f.PerPage}.add(q)
	var out CustomerPage
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/customers/list", query: q}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CustomerQuery finds one customer by one of its fields (the first set wins).
type CustomerQuery struct {
	ID                   int64
	Email                string
	IdentificationNumber string // the most recently created match
}

// FindCustomer calls GET /customers/find; an unknown customer is ErrUserNotFound.
func (c *Client) FindCustomer(ctx context.Context, f CustomerQuery) (*Customer, error) {
	q := url.Values{}
	if f.ID != 0 {
		q.Set("id", strconv.FormatInt(f.ID, 10))
	}
	set(q, "email", f.Email)
	set(q, "identification_number", f.IdentificationNumber)
	var out Customer
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/customers/find", query: q}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
