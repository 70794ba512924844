// Package nationalid checks identity-document and tax-id numbers per country
// and identification_type, following shared/reference/identifiers.md.
//
// Every validator works on the normalised (compact) form: trimmed, upper-cased,
// without spaces, dots or dashes, and for Spanish DNI/NIE/CIF without a leading
// "ES" (the VAT-number prefix people often paste). That compact form is what
// callers store, so the same document always compares equal.
package nationalid

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// Kind says whether the customer is a person or a company; the allowed
// identification types differ (REFERENCE §3.1).
type Kind int

const (
	Individual Kind = iota
	Company
)

// Result is an accepted number. Warnings carry caveats that must not block the
// customer (e.g. a Mexican RFC whose check character does not verify).
type Result struct {
	Normalized string
	Warnings   []string
}

// Sentinels behind *Error so callers can branch with errors.Is.
var (
	ErrWrongType = errors.New("identification type not allowed for country")
	ErrFormat    = errors.New("identification number has a bad format")
	ErrCheck     = errors.New("identification number check character is wrong")
)

// Error is a rejected number. Msg is meant for the API user and names the
// document type, e.g. "RUT check digit is wrong".
type Error struct {
	Country string
	Type    string
	Err     error // ErrWrongType, ErrFormat or ErrCheck
	Msg     string
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// types lists the identification types per country: [Individual, Company].
var types = map[string][2][]string{
	"ESP": {{"GOVERNMENT_ID", "PERMANENT_RESIDENCE_PERMIT", "PASSPORT"}, {"CIF"}},
	"CHL": {{"RUT"}, {"RUT"}},
	"MEX": {{"CURP"}, {"RFC"}},
	"COL": {{"CED_CIU", "CED_EXT", "TI", "NUIP", "TE", "PPT", "PASS", "PEP", "RC"}, {"NIT"}},
	"PER": {{"DNI", "CE"}, {"RUC"}},
	"ARG": {{"DNI", "CUIT"}, {"CUIT"}},
}

// validator checks a normalised number and returns its stored form.
type validator func(n, doc string) (string, []string, error)

// validators is keyed by "COUNTRY/TYPE".
var validators = map[string]validator{
	"ESP/GOVERNMENT_ID":              validateDNI,
	"ESP/PERMANENT_RESIDENCE_PERMIT": validateNIE,
	"ESP/PASSPORT":                   validateESPassport,
	"ESP/CIF":                        validateCIF,
	"CHL/RUT":                        validateRUT,
	"MEX/CURP":                       validateCURP,
	"MEX/RFC":                        validateRFC,
	"COL/NIT":                        validateNIT,
	"COL/CED_CIU":                    digitsLen(6, 10),
	"COL/CED_EXT":                    digitsLen(6, 10),
	"COL/TE":                         digitsLen(6, 10),
	"COL/TI":                         digitsLen(10, 11),
	"COL/NUIP":                       digitsLen(10, 11),
	"COL/RC":                         digitsLen(10, 11),
	"COL/PPT":                        digitsLen(7, 11),
	"COL/PEP":                        digitsLen(15, 15),
	"COL/PASS":                       alnumLen(5, 20),
	"PER/DNI":                        validatePeruDNI,
	"PER/CE":                         alnumLen(9, 12),
	"PER/RUC":                        validateRUC,
	"ARG/DNI":                        digitsLen(7, 8),
	"ARG/CUIT":                       validateCUIT,
}

// docNames gives the familiar name where the API type name is not it.
var docNames = map[string]string{
	"ESP/GOVERNMENT_ID":              "DNI",
	"ESP/PERMANENT_RESIDENCE_PERMIT": "NIE",
}

func upper(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// Types returns the identification types allowed for customers of kind in
// country (alpha-3); nil for a country without rules.
func Types(country string, kind Kind) []string {
	t, ok := types[upper(country)]
	if !ok || kind < Individual || kind > Company {
		return nil
	}
	return slices.Clone(t[kind])
}

// TypeAllowed reports whether idType may be used by a customer of kind in country.
func TypeAllowed(country, idType string, kind Kind) bool {
	return slices.Contains(Types(country, kind), upper(idType))
}

// RequiredFor reports whether customers of country must give an
// identification (the LATAM countries, REFERENCE §3.1).
func RequiredFor(country string) bool {
	switch upper(country) {
	case "CHL", "MEX", "COL", "PER", "ARG":
		return true
	}
	return false
}

// Validate checks number against the rules of country (alpha-3) and idType.
// The type only has to belong to the country; whether it suits an individual
// or a company is TypeAllowed's job.
func Validate(country, idType, number string) (Result, error) {
	c, t := upper(country), upper(idType)
	key := c + "/" + t
	v, ok := validators[key]
	if !ok {
		msg := fmt.Sprintf("identification_type %s does not belong to country %s", t, c)
		if _, known := types[c]; !known {
			msg = fmt.Sprintf("no identification types are defined for country %q", c)
		}
		return Result{}, &Error{Country: c, Type: t, Err: ErrWrongType, Msg: msg}
	}
	doc := t
	if d, ok := docNames[key]; ok {
		doc = d
	}
	n := Normalize(number)
	if key == "ESP/GOVERNMENT_ID" || key == "ESP/PERMANENT_RESIDENCE_PERMIT" || key == "ESP/CIF" {
		n = strings.TrimPrefix(n, "ES")
	}
	if n == "" {
		return Result{}, &Error{Country: c, Type: t, Err: ErrFormat, Msg: doc + " number is empty"}
	}
	out, warnings, err := v(n, doc)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Country, e.Type = c, t
		}
		return Result{}, err
	}
	return Result{Normalized: out, Warnings: warnings}, nil
}

// Normalize returns the compact form of a number: trimmed, upper-cased, with
// whitespace, dots and dashes removed. A decomposed Ñ (N + combining tilde)
// is recomposed so Mexican names match the check alphabets.
func Normalize(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	s = strings.ReplaceAll(s, "N\u0303", "Ñ")
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '.' || r == '-' {
			return -1
		}
		return r
	}, s)
}

func formatErr(doc, format string, a ...any) error {
	return &Error{Err: ErrFormat, Msg: doc + " " + fmt.Sprintf(format, a...)}
}

func checkErr(doc, what string) error {
	return &Error{Err: ErrCheck, Msg: doc + " " + what + " is wrong"}
}

func isDigit(r rune) bool  { return r >= '0' && r <= '9' }
func isLetter(r rune) bool { return r >= 'A' && r <= 'Z' }

func allOf(s string, f func(rune) bool) bool {
	for _, r := range s {
		if !f(r) {
			return false
		}
	}
	return true
}

func isDigits(s string) bool { return allOf(s, isDigit) }

// digitsLen is the format-only rule of documents without a public checksum.
func digitsLen(min, max int) validator {
	return func(n, doc string) (string, []string, error) {
		if !isDigits(n) || len(n) < min || len(n) > max {
			if min == max {
				return "", nil, formatErr(doc, "must be %d digits", min)
			}
			return "", nil, formatErr(doc, "must be %d to %d digits", min, max)
		}
		return n, nil, nil
	}
}

// alnumLen is the format-only rule of passports and foreigner cards.
func alnumLen(min, max int) validator {
	return func(n, doc string) (string, []string, error) {
		if !allOf(n, func(r rune) bool { return isDigit(r) || isLetter(r) }) || len(n) < min || len(n) > max {
			return "", nil, formatErr(doc, "must be %d to %d letters or digits", min, max)
		}
		return n, nil, nil
	}
}

// digitVal returns the value of an ASCII digit byte.
func digitVal(b byte) int { return int(b - '0') }

// weighted sums digits of s times weights, both read left to right.
func weighted(s string, weights []int) int {
	sum := 0
	for i := 0; i < len(s); i++ {
		sum += digitVal(s[i]) * weights[i]
	}
	return sum
}
