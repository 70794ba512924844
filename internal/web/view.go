package web

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/nationalid"
)

// view is what every template renders.
type view struct {
	Lang     string
	Title    string
	Version  string // static files' content hash
	LangURLs map[string]string

	// message and done pages
	Body     string
	Icon     string // "ok", "wait" or "error"
	Refresh  string // meta refresh content
	Callback string
	Host     string
	Foot     string // the footer line; the verification one when empty

	// payment pages
	Pay *payView

	// forms
	Intro    string
	Notice   string // shown above the form (a previous rejection, an expired session)
	Action   string
	CSRF     string
	Step     string // kyb: "unlock" or "submit"
	Submit   string
	Multi    bool // multipart
	Sections []section
	Summary  []summaryItem
	Refile   bool // files were sent but have to be chosen again
	Password field
}

// section is a titled group of fields.
type section struct {
	Title  string
	Help   string
	Fields []field
	Owners *owners
}

// field is one input as the templates draw it.
type field struct {
	ID, Name, Kind, Label, Help, Value, Auto, Capture, Input string
	Optional, Checked, Multiple                              bool
	MaxLen                                                   int
	Errors                                                   []string
	Options                                                  []option
	Groups                                                   []group
	OptionalText, Choose, ChooseCountry                      string
	CountryField                                             string // idtype: the country select that filters it
}

type option struct {
	Value, Label string
	Selected     bool
}

// group is one country's identification types.
type group struct {
	Country, Label string
	Options        []option
}

// owners is the KYB beneficial owners block.
type owners struct {
	Rows      []ownerRow
	Errors    []string
	AddLabel  string
	Legend    string // "Owner %d", for rows form.js adds
	NameLabel string
	IDLabel   string
	PctLabel  string
}

type ownerRow struct {
	N                   int
	Label               string
	Name, ID, Percent   string
	NameID, IDID, PctID string
}

type summaryItem struct {
	Anchor, Label, Message string
}

// spec declares a form field; the templates draw them generically.
type spec struct {
	Name     string // form field name, also the service's error key
	Kind     string // text, date, select, idtype, textarea, file, files, checkbox
	Label    string // text key
	Help     string // text key
	Auto     string // autocomplete token
	Optional bool
	Capture  string // file inputs: user (selfie) or environment (document)
	Input    string // inputmode
	MaxLen   int
}

type formSection struct {
	Title, Help string
	Fields      []spec
	Owners      bool
}

var kycForm = []formSection{
	{Title: "kyc.personal", Fields: []spec{
		{Name: "name", Kind: "text", Label: "f.name", Auto: "given-name", MaxLen: 255},
		{Name: "last_name", Kind: "text", Label: "f.last_name", Auto: "family-name", MaxLen: 255},
		{Name: "dob", Kind: "date", Label: "f.dob", Auto: "bday"},
	}},
	{Title: "kyc.document", Fields: []spec{
		{Name: "country_code", Kind: "select", Label: "f.country", Auto: "country"},
		{Name: "identification_type", Kind: "idtype", Label: "f.id_type"},
		{Name: "identification_number", Kind: "text", Label: "f.id_number", Help: "h.id_number", Auto: "off", MaxLen: 40},
	}},
	{Title: "kyc.address", Fields: []spec{
		{Name: "address", Kind: "text", Label: "f.address", Auto: "street-address", MaxLen: 255},
		{Name: "city", Kind: "text", Label: "f.city", Auto: "address-level2", Optional: true, MaxLen: 255},
		{Name: "zipcode", Kind: "text", Label: "f.zipcode", Auto: "postal-code", Optional: true, MaxLen: 255},
	}},
	{Title: "kyc.photos", Help: "kyc.photos.h", Fields: []spec{
		{Name: "document_front", Kind: "file", Label: "f.front", Capture: "environment"},
		{Name: "document_back", Kind: "file", Label: "f.back", Help: "h.back", Capture: "environment"},
		{Name: "selfie", Kind: "file", Label: "f.selfie", Help: "h.selfie", Capture: "user"},
	}},
	{Title: "kyc.consent", Fields: []spec{
		{Name: "consent", Kind: "checkbox", Label: "f.consent"},
	}},
}

var kybForm = []formSection{
	{Title: "kyb.company", Fields: []spec{
		{Name: "company_name", Kind: "text", Label: "f.company", Auto: "organization", MaxLen: 255},
		{Name: "country_code", Kind: "select", Label: "f.reg_country", Auto: "country"},
		{Name: "identification_type", Kind: "idtype", Label: "f.tax_type"},
		{Name: "identification_number", Kind: "text", Label: "f.tax_number", Auto: "off", MaxLen: 40},
		{Name: "address", Kind: "text", Label: "f.reg_address", Auto: "street-address", MaxLen: 255},
	}},
	{Title: "kyb.owners", Help: "kyb.owners.h", Owners: true},
	{Title: "kyb.docs", Fields: []spec{
		{Name: "documents", Kind: "files", Label: "f.company_docs", Help: "h.company_docs"},
	}},
}

var onboardingForm = []formSection{
	{Title: "ob.funds", Fields: []spec{
		{Name: "source_of_funds", Kind: "select", Label: "f.source"},
		{Name: "activity", Kind: "textarea", Label: "f.activity", Help: "h.activity", MaxLen: 2000},
		{Name: "expected_volume", Kind: "select", Label: "f.volume"},
	}},
	{Title: "ob.docs", Fields: []spec{
		{Name: "documents", Kind: "files", Label: "f.support_docs", Help: "h.support_docs", Optional: true},
	}},
	{Title: "ob.declaration", Fields: []spec{
		{Name: "declaration", Kind: "checkbox", Label: "f.declaration"},
	}},
}

// countries are the ones whose identification rules pocketramp knows; the forms need one.
var countries = []string{"ESP", "ARG", "CHL", "COL", "MEX", "PER"}

// view starts a page in lang whose language switch links keep path.
func (p *Pages) view(r *http.Request, lang, title string) *view {
	urls := map[string]string{}
	for _, l := range []string{es, en} {
		urls[l] = r.URL.Path + "?lang=" + l
	}
	return &view{Lang: lang, Title: title, Version: p.version, LangURLs: urls}
}

// T translates a key in the page's language (templates call it).
func (v *view) T(key string, args ...any) string { return tr(v.Lang, key, args...) }

// formValues are the entered values of a form, plus its owners and the messages per field.
type formValues struct {
	Values map[string]string
	Owners []customer.Owner
	Errors errcode.Fields
}

// buildForm lays out sections for lang with values and translated errors, and the summary.
func (v *view) buildForm(sections []formSection, kind nationalid.Kind, fv formValues) {
	lang := v.Lang
	shown := map[string]bool{}
	msgs := func(name string) []string {
		var out []string
		for key, list := range fv.Errors {
			if key == name || strings.HasPrefix(key, name+".") {
				shown[key] = true
				for _, m := range list {
					out = append(out, fieldMessage(lang, m))
				}
			}
		}
		sort.Strings(out)
		return slices.Compact(out)
	}
	for _, fs := range sections {
		s := section{Title: tr(lang, fs.Title)}
		if fs.Help != "" {
			s.Help = tr(lang, fs.Help)
		}
		if fs.Owners {
			s.Owners = ownerBlock(lang, fv.Owners, msgs("owners"))
			if len(s.Owners.Errors) > 0 {
				v.Summary = append(v.Summary, summaryItem{Anchor: "owner_name_1", Label: s.Title, Message: s.Owners.Errors[0]})
			}
		}
		for _, sp := range fs.Fields {
			f := field{ID: sp.Name, Name: sp.Name, Kind: sp.Kind, Label: tr(lang, sp.Label), Value: fv.Values[sp.Name],
				Auto: sp.Auto, Capture: sp.Capture, Input: sp.Input, Optional: sp.Optional, MaxLen: sp.MaxLen,
				Errors: msgs(sp.Name), OptionalText: tr(lang, "optional"), Choose: tr(lang, "choose")}
			if sp.Help != "" {
				f.Help = tr(lang, sp.Help)
			}
			switch sp.Kind {
			case "checkbox":
				f.Checked = f.Value != ""
			case "files":
				f.Multiple = true
			case "select":
				f.Options = selectOptions(lang, sp.Name, f.Value)
			case "idtype":
				f.CountryField = "country_code"
				f.ChooseCountry = tr(lang, "choose.country")
				f.Groups = idGroups(lang, kind, fv.Values["country_code"], f.Value)
			}
			label := f.Label
			if sp.Kind == "checkbox" { // its label is a whole sentence; the section names it
				label = s.Title
			}
			for _, m := range f.Errors {
				v.Summary = append(v.Summary, summaryItem{Anchor: f.ID, Label: label, Message: m})
			}
			s.Fields = append(s.Fields, f)
		}
		v.Sections = append(v.Sections, s)
	}
	// Messages about fields the form does not show (unexpected, but never hidden).
	var rest []string
	for key := range fv.Errors {
		if !shown[key] {
			rest = append(rest, key)
		}
	}
	sort.Strings(rest)
	for _, key := range rest {
		for _, m := range fv.Errors[key] {
			v.Summary = append(v.Summary, summaryItem{Label: errcode.Label(key), Message: fieldMessage(lang, m)})
		}
	}
}

func selectOptions(lang, name, value string) []option {
	var values []string
	var prefix string
	switch name {
	case "country_code":
		values, prefix = countries, "country."
	case "source_of_funds":
		values, prefix = customer.SourcesOfFunds, "src."
	case "expected_volume":
		values, prefix = customer.ExpectedVolumes, "vol."
	}
	out := make([]option, 0, len(values))
	for _, val := range values {
		out = append(out, option{Value: val, Label: tr(lang, prefix+val), Selected: val == value})
	}
	return out
}

// idGroups lists every country's identification types, the chosen country first. Without
// JavaScript the customer sees them grouped by country; form.js narrows the list to the group
// of the country selected.
func idGroups(lang string, kind nationalid.Kind, country, value string) []group {
	order := slices.Clone(countries)
	if i := slices.Index(order, country); i > 0 {
		order = append([]string{country}, slices.Delete(order, i, i+1)...)
	}
	var out []group
	for _, c := range order {
		g := group{Country: c, Label: tr(lang, "country."+c)}
		for _, t := range nationalid.Types(c, kind) {
			g.Options = append(g.Options, option{Value: t, Label: tr(lang, "id."+t), Selected: t == value && (c == country || country == "")})
		}
		out = append(out, g)
	}
	return out
}

// minOwnerRows is how many owner rows the KYB form shows, so it works without JavaScript.
const minOwnerRows = 3

func ownerBlock(lang string, list []customer.Owner, errs []string) *owners {
	o := &owners{Errors: errs, AddLabel: tr(lang, "kyb.add"), Legend: tr(lang, "kyb.owner"), NameLabel: tr(lang, "f.owner_name"),
		IDLabel: tr(lang, "f.owner_id"), PctLabel: tr(lang, "f.owner_pct")}
	n := max(len(list), minOwnerRows)
	for i := range n {
		var ow customer.Owner
		if i < len(list) {
			ow = list[i]
		}
		k := strconv.Itoa(i + 1)
		o.Rows = append(o.Rows, ownerRow{N: i + 1, Label: tr(lang, "kyb.owner", i+1), Name: ow.Name, ID: ow.IdentificationNumber,
			Percent: ow.Percent, NameID: "owner_name_" + k, IDID: "owner_id_" + k, PctID: "owner_pct_" + k})
	}
	return o
}

// callbackTarget returns the callback URL and its host when it is an absolute http(s) URL (the
// service validated it on registration; checked again because it becomes a redirect).
func callbackTarget(raw string) (string, string) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", ""
	}
	return u.String(), u.Hostname()
}
