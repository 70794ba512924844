// Package bankacct validates customers' payout bank account numbers: IBAN and
// BIC everywhere, and the LATAM local formats (CLABE, CBU/CVU, CCI, plain
// account numbers), following shared/reference/identifiers.md.
//
// Every function returns the normalised (compact, upper-case) form to store,
// or an *Error whose message says what is wrong.
package bankacct

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Sentinels behind *Error, for errors.Is.
var (
	ErrFormat   = errors.New("bank account has a bad format")
	ErrLength   = errors.New("bank account has a wrong length")
	ErrChecksum = errors.New("bank account checksum is wrong")
	ErrCountry  = errors.New("bank account country is not supported")
)

// Error is a rejected account; Msg is meant for the API user.
type Error struct {
	Err error // ErrFormat, ErrLength, ErrChecksum or ErrCountry
	Msg string
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

func errf(kind error, format string, a ...any) error {
	return &Error{Err: kind, Msg: fmt.Sprintf(format, a...)}
}

// compact trims, upper-cases and drops every whitespace character; with
// dashes it also drops '-', which local account numbers are often written with.
func compact(s string, dashes bool) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || (dashes && r == '-') {
			return -1
		}
		return unicode.ToUpper(r)
	}, s)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// weightedMod10 is the CLABE/CBU check: (10 − Σ dᵢ·wᵢ mod 10) mod 10, with
// the weights repeating over the digits.
func weightedMod10(digits string, weights []int) byte {
	sum := 0
	for i := 0; i < len(digits); i++ {
		sum += int(digits[i]-'0') * weights[i%len(weights)]
	}
	return byte('0' + (10-sum%10)%10)
}

// BIC checks an ISO 9362 business identifier code: 4 letters (bank), 2
// letters (country), 2 letters/digits (location) and an optional 3
// letters/digits (branch).
func BIC(s string) (string, error) {
	b := compact(s, false)
	switch {
	case len(b) != 8 && len(b) != 11:
		return "", errf(ErrLength, "BIC must be 8 or 11 characters, got %d", len([]rune(b)))
	case !isLetters(b[:4]):
		return "", errf(ErrFormat, "BIC bank code (characters 1–4) must be letters")
	case !isLetters(b[4:6]):
		return "", errf(ErrFormat, "BIC country code (characters 5–6) must be letters")
	case !isAlnum(b[6:]):
		return "", errf(ErrFormat, "BIC location and branch codes must be letters or digits")
	}
	return b, nil
}

// CLABE checks a Mexican CLABE: 18 digits, weights 3,7,1 over the first 17.
func CLABE(s string) (string, error) {
	c := compact(s, true)
	if !isDigits(c) {
		return "", errf(ErrFormat, "CLABE must contain digits only")
	}
	if len(c) != 18 {
		return "", errf(ErrLength, "CLABE must be 18 digits, got %d", len(c))
	}
	if weightedMod10(c[:17], []int{3, 7, 1}) != c[17] {
		return "", errf(ErrChecksum, "CLABE check digit is wrong")
	}
	return c, nil
}

// CBU checks an Argentine CBU or CVU (same layout): 22 digits in two blocks,
// 7 digits + check and 13 digits + check.
func CBU(s string) (string, error) {
	c := compact(s, true)
	if !isDigits(c) {
		return "", errf(ErrFormat, "CBU/CVU must contain digits only")
	}
	if len(c) != 22 {
		return "", errf(ErrLength, "CBU/CVU must be 22 digits, got %d", len(c))
	}
	if weightedMod10(c[:7], []int{7, 1, 3, 9, 7, 1, 3}) != c[7] {
		return "", errf(ErrChecksum, "CBU/CVU first check digit (bank and branch block) is wrong")
	}
	if weightedMod10(c[8:21], []int{3, 9, 7, 1, 3, 9, 7, 1, 3, 9, 7, 1, 3}) != c[21] {
		return "", errf(ErrChecksum, "CBU/CVU second check digit (account block) is wrong")
	}
	return c, nil
}

// localDigits is the format-only rule for accounts without a public checksum.
func localDigits(name, s string, min, max int) (string, error) {
	c := compact(s, true)
	if c == "" || !isDigits(c) {
		return "", errf(ErrFormat, "%s must contain digits only", name)
	}
	if len(c) < min || len(c) > max {
		if min == max {
			return "", errf(ErrLength, "%s must be %d digits, got %d", name, min, len(c))
		}
		return "", errf(ErrLength, "%s must be %d to %d digits, got %d", name, min, max, len(c))
	}
	return c, nil
}

// Local checks the payout account of a customer of country (alpha-3), the
// value the API carries in its `iban` field:
//
//   - SEPA countries (ESP and the rest): an IBAN from any SEPA country, since
//     payouts go by SEPA transfer and SEPA forbids refusing another member's
//     IBAN; a valid non-SEPA IBAN is refused because SEPA cannot reach it.
//   - MEX: CLABE. ARG: CBU or CVU.
//   - PER: CCI (código de cuenta interbancario), 20 digits; its check digits
//     are bank-specific, so format only.
//   - CHL, COL: the bank's own account number, 6–20 digits, format only
//     (no national checksum exists).
//   - any other country: a valid IBAN of any country in the registry; an
//     account from a country without IBANs cannot be checked and is refused.
func Local(country, s string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(country))
	switch c {
	case "MEX":
		return CLABE(s)
	case "ARG":
		return CBU(s)
	case "PER":
		return localDigits("CCI", s, 20, 20)
	case "CHL", "COL":
		return localDigits("account number", s, 6, 20)
	}
	if a2, ok := sepaAlpha3[c]; ok {
		iban, err := IBAN(s)
		if err != nil {
			return "", err
		}
		if !IsSEPA(iban[:2]) {
			return "", errf(ErrCountry, "IBAN country %s is not in SEPA; a customer from %s (%s) needs a SEPA IBAN", iban[:2], c, a2)
		}
		return iban, nil
	}
	if b := compact(s, false); len(b) < 2 || !isLetters(b[:2]) {
		// Not even shaped like an IBAN: say what we need rather than why
		// this is not an IBAN.
		return "", errf(ErrCountry, "payout accounts for country %s must be given as an IBAN", c)
	}
	return IBAN(s)
}

// Mask shows only the country or first two characters and the last four of an account number
// ("ES•••1332"), for messages stored or logged in clear about an account kept encrypted.
func Mask(account string) string {
	a := []rune(strings.ToUpper(strings.Join(strings.Fields(account), "")))
	if len(a) <= 6 {
		return strings.Repeat("•", len(a))
	}
	return string(a[:2]) + "•••" + string(a[len(a)-4:])
}
