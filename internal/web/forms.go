package web

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/nationalid"
)

// openForm opens a hosted-form link and, when the form is not (or no longer) to be filled,
// answers the status page instead: done reports that the answer was written.
func (p *Pages) openForm(w http.ResponseWriter, r *http.Request, purpose, token string,
	status func(*http.Request, string, customer.Customer) *view) (customer.Customer, string, bool, error) {
	c, _, err := p.Customers.OpenLink(r.Context(), purpose, token)
	if err != nil {
		return customer.Customer{}, "", false, err
	}
	lang := pickLang(r, c.CountryCode)
	if v := status(r, lang, c); v != nil {
		p.render(w, http.StatusOK, "message", v)
		return c, lang, true, nil
	}
	return c, lang, false, nil
}

// ---- KYC ----

func (p *Pages) kycGet(w http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("token")
	c, lang, done, err := p.openForm(w, r, customer.PurposeKYC, token, p.kycStatus)
	if done || err != nil {
		return err
	}
	p.render(w, http.StatusOK, "form", p.kycView(r, lang, token, c, formValues{Values: kycValues(c)}))
	return nil
}

func (p *Pages) kycPost(w http.ResponseWriter, r *http.Request) error {
	defer cleanup(r)
	token := r.PathValue("token")
	c, lang, done, err := p.openForm(w, r, customer.PurposeKYC, token, p.kycStatus)
	if done || err != nil {
		return err
	}
	if tooLarge, err := parseForm(w, r); tooLarge {
		v := p.kycView(r, lang, token, c, formValues{Values: kycValues(c)})
		v.Summary = []summaryItem{{Message: tr(lang, "err.too_large")}}
		p.render(w, http.StatusRequestEntityTooLarge, "form", v)
		return nil
	} else if err != nil {
		return inLang(lang, err)
	}
	if err := p.checkCSRF(r, customer.PurposeKYC, token); err != nil {
		return inLang(lang, err)
	}
	vals := posted(r, kycForm)
	form := customer.KYCForm{Name: vals["name"], LastName: vals["last_name"], DOB: vals["dob"], CountryCode: vals["country_code"],
		IdentificationType: vals["identification_type"], IdentificationNumber: vals["identification_number"],
		Address: vals["address"], City: vals["city"], Zipcode: vals["zipcode"], Consent: vals["consent"] != ""}
	form.Front, form.Back, form.Selfie = firstUpload(r, "document_front"), firstUpload(r, "document_back"), firstUpload(r, "selfie")
	callback, err := p.Customers.SubmitKYC(r.Context(), token, form)
	if inv := invalid(err); inv != nil {
		v := p.kycView(r, lang, token, c, formValues{Values: vals, Errors: inv.Fields})
		v.Refile = sentFiles(r)
		p.render(w, http.StatusUnprocessableEntity, "form", v)
		return nil
	}
	if err != nil {
		return inLang(lang, err)
	}
	p.render(w, http.StatusOK, "message", p.doneView(r, lang, "done.kyc", callback))
	return nil
}

// kycStatus is the page of a customer with nothing to submit: in review or already verified.
func (p *Pages) kycStatus(r *http.Request, lang string, c customer.Customer) *view {
	switch c.KYCStatus {
	case customer.StatusProcessing:
		return p.statusView(r, lang, "wait", "status.processing", "status.processing.body", c.CallbackURL)
	case customer.StatusValid:
		title := "status.valid"
		if c.Type == customer.Company {
			title = "status.valid.company"
		}
		return p.statusView(r, lang, "ok", title, "status.valid.body", c.CallbackURL)
	}
	return nil
}

func (p *Pages) kycView(r *http.Request, lang, token string, c customer.Customer, fv formValues) *view {
	v := p.formView(r, lang, "kyc.title", "kyc.intro", "kyc.submit", customer.PurposeKYC, token)
	if c.KYCStatus == customer.StatusFail {
		v.Notice = tr(lang, "kyc.rejected")
	}
	v.buildForm(kycForm, nationalid.Individual, fv)
	return v
}

// kycValues prefills the form with what the integration already sent at registration.
func kycValues(c customer.Customer) map[string]string {
	v := map[string]string{"name": c.Name, "last_name": c.LastName, "dob": c.PII.DOB, "identification_type": c.IdentificationType,
		"identification_number": c.PII.IdentificationNumber, "address": c.PII.Address, "city": c.City, "zipcode": c.Zipcode}
	if slices.Contains(countries, c.CountryCode) {
		v["country_code"] = c.CountryCode
	}
	return v
}

// ---- KYB ----

func (p *Pages) kybGet(w http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("token")
	c, _, err := p.Customers.OpenLink(r.Context(), customer.PurposeKYB, token)
	if err != nil {
		return err
	}
	lang := pickLang(r, c.CountryCode)
	if v := p.kycStatus(r, lang, c); v != nil {
		p.render(w, http.StatusOK, "message", v)
		return nil
	}
	if _, ok := p.unlocked(r, token); ok {
		p.render(w, http.StatusOK, "form", p.kybView(r, lang, token, formValues{Values: kybValues(c)}))
		return nil
	}
	p.render(w, http.StatusOK, "kyb_password", p.passwordView(r, lang, token, nil))
	return nil
}

func (p *Pages) kybPost(w http.ResponseWriter, r *http.Request) error {
	defer cleanup(r)
	token := r.PathValue("token")
	c, _, err := p.Customers.OpenLink(r.Context(), customer.PurposeKYB, token)
	if err != nil {
		return err
	}
	lang := pickLang(r, c.CountryCode)
	if v := p.kycStatus(r, lang, c); v != nil {
		p.render(w, http.StatusOK, "message", v)
		return nil
	}
	password, unlocked := p.unlocked(r, token)
	if tooLarge, err := parseForm(w, r); tooLarge {
		v := p.passwordView(r, lang, token, nil)
		name := "kyb_password"
		if unlocked {
			v, name = p.kybView(r, lang, token, formValues{Values: kybValues(c)}), "form"
		}
		v.Summary = []summaryItem{{Message: tr(lang, "err.too_large")}}
		p.render(w, http.StatusRequestEntityTooLarge, name, v)
		return nil
	} else if err != nil {
		return inLang(lang, err)
	}
	if err := p.checkCSRF(r, customer.PurposeKYB, token); err != nil {
		return inLang(lang, err)
	}

	if r.PostFormValue("step") == "unlock" {
		password := strings.TrimSpace(r.PostFormValue("password"))
		_, err := p.Customers.UnlockKYB(r.Context(), token, password)
		if p.kybLocked(w, r, lang, token, err) {
			return nil
		}
		if inv := invalid(err); inv != nil {
			p.render(w, http.StatusUnprocessableEntity, "kyb_password", p.passwordView(r, lang, token, inv.Fields["password"]))
			return nil
		}
		if err != nil {
			return inLang(lang, err)
		}
		p.setUnlock(w, token, password)
		// Post/redirect/get: a reload of the form does not re-send the password.
		http.Redirect(w, r, "/kyb/"+token+"?lang="+lang, http.StatusSeeOther)
		return nil
	}

	if !unlocked {
		v := p.passwordView(r, lang, token, nil)
		v.Notice = tr(lang, "err.kyb_expired")
		p.render(w, http.StatusUnauthorized, "kyb_password", v)
		return nil
	}
	vals := posted(r, kybForm)
	owners := postedOwners(r)
	docs, tooMany := uploads(r, "documents")
	if tooMany {
		v := p.kybView(r, lang, token, formValues{Values: vals, Owners: owners,
			Errors: errcode.Fields{"documents": {tr(lang, "err.too_many", maxFiles)}}})
		v.Refile = true
		p.render(w, http.StatusUnprocessableEntity, "form", v)
		return nil
	}
	callback, err := p.Customers.SubmitKYB(r.Context(), token, customer.KYBForm{Password: password, CompanyName: vals["company_name"],
		CountryCode: vals["country_code"], IdentificationType: vals["identification_type"], IdentificationNumber: vals["identification_number"],
		Address: vals["address"], Owners: owners, Documents: docs})
	if p.kybLocked(w, r, lang, token, err) {
		p.clearUnlock(w, token)
		return nil
	}
	if inv := invalid(err); inv != nil {
		if inv.Fields.Has("password") { // the password changed since the unlock
			p.clearUnlock(w, token)
			p.render(w, http.StatusUnprocessableEntity, "kyb_password", p.passwordView(r, lang, token, inv.Fields["password"]))
			return nil
		}
		v := p.kybView(r, lang, token, formValues{Values: vals, Owners: owners, Errors: inv.Fields})
		v.Refile = sentFiles(r)
		p.render(w, http.StatusUnprocessableEntity, "form", v)
		return nil
	}
	if err != nil {
		return inLang(lang, err)
	}
	p.clearUnlock(w, token)
	p.render(w, http.StatusOK, "message", p.doneView(r, lang, "done.kyb", callback))
	return nil
}

// kybLocked renders the password step with HTTP 429 and Retry-After when err is the link's
// lockout after too many wrong passwords; it reports whether it did.
func (p *Pages) kybLocked(w http.ResponseWriter, r *http.Request, lang, token string, err error) bool {
	var biz *errcode.Error
	if !errors.As(err, &biz) || !errors.Is(err, errcode.TooMany) {
		return false
	}
	minutes := int((biz.RetryAfter + time.Minute - 1) / time.Minute)
	w.Header().Set("Retry-After", strconv.Itoa(int((biz.RetryAfter+time.Second-1)/time.Second)))
	v := p.passwordView(r, lang, token, nil)
	v.Summary = []summaryItem{{Message: tr(lang, "err.kyb_locked", max(minutes, 1))}}
	p.render(w, http.StatusTooManyRequests, "kyb_password", v)
	return true
}

func (p *Pages) passwordView(r *http.Request, lang, token string, errs []string) *view {
	v := p.formView(r, lang, "kyb.title", "kyb.unlock", "kyb.continue", customer.PurposeKYB, token)
	v.Step = "unlock"
	v.Password = field{ID: "password", Name: "password", Label: tr(lang, "f.password")}
	for _, m := range errs {
		msg := fieldMessage(lang, m)
		v.Password.Errors = append(v.Password.Errors, msg)
		v.Summary = append(v.Summary, summaryItem{Anchor: "password", Label: v.Password.Label, Message: msg})
	}
	return v
}

func (p *Pages) kybView(r *http.Request, lang, token string, fv formValues) *view {
	v := p.formView(r, lang, "kyb.title", "kyb.intro", "kyb.submit", customer.PurposeKYB, token)
	v.Step = "submit"
	v.buildForm(kybForm, nationalid.Company, fv)
	return v
}

func kybValues(c customer.Customer) map[string]string {
	name := c.CompanyName
	if name == "" {
		name = c.Name
	}
	v := map[string]string{"company_name": name, "identification_type": c.IdentificationType,
		"identification_number": c.PII.IdentificationNumber, "address": c.PII.Address}
	if slices.Contains(countries, c.CountryCode) {
		v["country_code"] = c.CountryCode
	}
	return v
}

// The KYB unlock cookie. SubmitKYB wants the password again, so after a correct password the
// cookie carries it sealed (AES-GCM under the master key) together with a tag of the link token
// and an expiry; it is HttpOnly, SameSite=Strict and scoped to this link's path. The page itself
// never holds the password, and a reload keeps the form open until the cookie expires.
const (
	unlockCookie = "pocketramp_kyb"
	unlockTTL    = 2 * time.Hour
)

type unlock struct {
	Tag      string `json:"t"`
	Password string `json:"p"`
	Expires  int64  `json:"e"`
}

func (p *Pages) tokenTag(token string) string {
	return base64.RawURLEncoding.EncodeToString(p.Box.LookupHash("web/kyb-unlock", token))
}

func (p *Pages) setUnlock(w http.ResponseWriter, token, password string) {
	raw, _ := json.Marshal(unlock{Tag: p.tokenTag(token), Password: password, Expires: p.Now().Add(unlockTTL).Unix()})
	http.SetCookie(w, &http.Cookie{Name: unlockCookie, Value: base64.RawURLEncoding.EncodeToString(p.Box.Seal(raw)),
		Path: "/kyb/" + token, MaxAge: int(unlockTTL / time.Second), HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteStrictMode})
}

func (p *Pages) clearUnlock(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: unlockCookie, Path: "/kyb/" + token, MaxAge: -1, HttpOnly: true, Secure: p.secure,
		SameSite: http.SameSiteStrictMode})
}

// unlocked returns the password of a valid unlock cookie for token.
func (p *Pages) unlocked(r *http.Request, token string) (string, bool) {
	ck, err := r.Cookie(unlockCookie)
	if err != nil {
		return "", false
	}
	sealed, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil {
		return "", false
	}
	raw, err := p.Box.Open(sealed)
	if err != nil {
		return "", false
	}
	var u unlock
	if json.Unmarshal(raw, &u) != nil || u.Tag != p.tokenTag(token) || p.Now().Unix() >= u.Expires {
		return "", false
	}
	return u.Password, true
}

// ---- Enhanced verification (onboarding) ----

func (p *Pages) onboardingGet(w http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("token")
	_, lang, done, err := p.openForm(w, r, customer.PurposeOnboarding, token, p.onboardingStatus)
	if done || err != nil {
		return err
	}
	p.render(w, http.StatusOK, "form", p.onboardingView(r, lang, token, formValues{}))
	return nil
}

func (p *Pages) onboardingPost(w http.ResponseWriter, r *http.Request) error {
	defer cleanup(r)
	token := r.PathValue("token")
	c, lang, done, err := p.openForm(w, r, customer.PurposeOnboarding, token, p.onboardingStatus)
	if done || err != nil {
		return err
	}
	if tooLarge, err := parseForm(w, r); tooLarge {
		v := p.onboardingView(r, lang, token, formValues{})
		v.Summary = []summaryItem{{Message: tr(lang, "err.too_large")}}
		p.render(w, http.StatusRequestEntityTooLarge, "form", v)
		return nil
	} else if err != nil {
		return inLang(lang, err)
	}
	if err := p.checkCSRF(r, customer.PurposeOnboarding, token); err != nil {
		return inLang(lang, err)
	}
	vals := posted(r, onboardingForm)
	docs, tooMany := uploads(r, "documents")
	if tooMany {
		v := p.onboardingView(r, lang, token, formValues{Values: vals, Errors: errcode.Fields{"documents": {tr(lang, "err.too_many", maxFiles)}}})
		v.Refile = true
		p.render(w, http.StatusUnprocessableEntity, "form", v)
		return nil
	}
	err = p.Customers.SubmitOnboarding(r.Context(), token, customer.OnboardingForm{SourceOfFunds: vals["source_of_funds"],
		Activity: vals["activity"], ExpectedVolume: vals["expected_volume"], Declaration: vals["declaration"] != "", Documents: docs})
	if inv := invalid(err); inv != nil {
		v := p.onboardingView(r, lang, token, formValues{Values: vals, Errors: inv.Fields})
		v.Refile = sentFiles(r)
		p.render(w, http.StatusUnprocessableEntity, "form", v)
		return nil
	}
	if err != nil {
		return inLang(lang, err)
	}
	p.render(w, http.StatusOK, "message", p.doneView(r, lang, "done.onboarding", c.CallbackURL))
	return nil
}

func (p *Pages) onboardingStatus(r *http.Request, lang string, c customer.Customer) *view {
	switch c.OnboardingStatus {
	case customer.OnboardingSubmitted:
		return p.statusView(r, lang, "wait", "status.onboarding", "status.processing.body", c.CallbackURL)
	case customer.OnboardingApproved:
		return p.statusView(r, lang, "ok", "status.onboarding.valid", "status.valid.body", c.CallbackURL)
	}
	return nil
}

func (p *Pages) onboardingView(r *http.Request, lang, token string, fv formValues) *view {
	v := p.formView(r, lang, "ob.title", "ob.intro", "ob.submit", customer.PurposeOnboarding, token)
	v.buildForm(onboardingForm, nationalid.Individual, fv)
	return v
}

// ---- shared ----

func (p *Pages) formView(r *http.Request, lang, title, intro, submit, purpose, token string) *view {
	v := p.view(r, lang, tr(lang, title))
	v.Intro, v.Submit, v.Multi = tr(lang, intro), tr(lang, submit), true
	// The language rides in the action so the answer to the POST keeps it.
	v.Action = "/" + purpose + "/" + token + "?lang=" + lang
	v.CSRF = p.csrfToken(purpose, token)
	return v
}

func (p *Pages) statusView(r *http.Request, lang, icon, title, body, callback string) *view {
	v := p.view(r, lang, tr(lang, title))
	v.Icon, v.Body = icon, tr(lang, body)
	v.Callback, v.Host = callbackTarget(callback)
	return v
}

// doneView thanks the customer and, when the integration gave a callback URL, sends them back
// there after a few seconds (a meta refresh: no script needed, allowed by the CSP).
func (p *Pages) doneView(r *http.Request, lang, body, callback string) *view {
	v := p.view(r, lang, tr(lang, "done.title"))
	v.LangURLs = nil // the link is used up: switching language would reload it as "not valid"
	v.Icon, v.Body = "ok", tr(lang, body)
	v.Callback, v.Host = callbackTarget(callback)
	if v.Callback != "" {
		v.Refresh = "5;url=" + v.Callback
	}
	return v
}

func invalid(err error) *errcode.Invalid {
	var inv *errcode.Invalid
	if errors.As(err, &inv) {
		return inv
	}
	return nil
}

// posted returns the submitted text of every non-file field of a form, trimmed.
func posted(r *http.Request, sections []formSection) map[string]string {
	out := map[string]string{}
	for _, s := range sections {
		for _, f := range s.Fields {
			if f.Kind != "file" && f.Kind != "files" {
				out[f.Name] = strings.TrimSpace(r.PostFormValue(f.Name))
			}
		}
	}
	return out
}

// postedOwners pairs the owner rows' parallel fields; rows left empty are dropped.
func postedOwners(r *http.Request) []customer.Owner {
	names, ids, pcts := r.PostForm["owner_name"], r.PostForm["owner_id"], r.PostForm["owner_percent"]
	at := func(list []string, i int) string {
		if i < len(list) {
			return strings.TrimSpace(list[i])
		}
		return ""
	}
	var out []customer.Owner
	for i := range max(len(names), len(ids), len(pcts)) {
		o := customer.Owner{Name: at(names, i), IdentificationNumber: at(ids, i), Percent: at(pcts, i)}
		if o != (customer.Owner{}) {
			out = append(out, o)
		}
	}
	return out
}

// firstUpload reads the file of a single-file input.
func firstUpload(r *http.Request, name string) customer.Upload {
	list, _ := uploads(r, name)
	if len(list) == 0 {
		return customer.Upload{}
	}
	return list[0]
}

// uploads reads the files of an input. A file over maxFileBytes is passed on cut at one byte
// over the limit, so the document loader answers with its own "larger than 10 MB" message.
func uploads(r *http.Request, name string) ([]customer.Upload, bool) {
	if r.MultipartForm == nil {
		return nil, false
	}
	headers := r.MultipartForm.File[name]
	if len(headers) > maxFiles {
		return nil, true
	}
	var out []customer.Upload
	for _, fh := range headers {
		if u, err := readUpload(fh); err == nil && len(u.Data) > 0 {
			out = append(out, u)
		}
	}
	return out, false
}

func readUpload(fh *multipart.FileHeader) (customer.Upload, error) {
	f, err := fh.Open()
	if err != nil {
		return customer.Upload{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	return customer.Upload{Name: fh.Filename, Data: data}, err
}

// sentFiles reports whether the request carried any file, which a re-rendered form cannot keep.
func sentFiles(r *http.Request) bool {
	if r.MultipartForm == nil {
		return false
	}
	for _, list := range r.MultipartForm.File {
		if len(list) > 0 {
			return true
		}
	}
	return false
}
