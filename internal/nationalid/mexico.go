package nationalid

import (
	"fmt"
	"strings"
	"time"
)

// Mexican numbers can hold Ñ (two bytes in UTF-8), so everything here works
// on runes.

var curpStates = map[string]bool{}

func init() {
	for _, s := range strings.Fields("AS BC BS CC CL CM CS CH DF DG GT GR HG JC MC MN MS NT NL OC PL QT QR SP SL SR TC TS TL VZ YN ZS NE") {
		curpStates[s] = true
	}
}

// curpAlphabet gives each character its value: its index.
var curpAlphabet = []rune("0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ")

// rfcAlphabet differs from the CURP one: & sits after N, then space and Ñ.
var rfcAlphabet = []rune("0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ Ñ")

func indexRune(alphabet []rune, r rune) int {
	for i, a := range alphabet {
		if a == r {
			return i
		}
	}
	return -1
}

func isNameLetter(r rune) bool { return isLetter(r) || r == 'Ñ' }

func isConsonant(r rune) bool {
	return (isLetter(r) && !strings.ContainsRune("AEIOU", r)) || r == 'Ñ'
}

func runesDigits(rs []rune) bool {
	for _, r := range rs {
		if !isDigit(r) {
			return false
		}
	}
	return true
}

// realDate reports whether YYMMDD is a calendar date in the given century.
func realDate(century int, yymmdd []rune) bool {
	v := func(i int) int { return int(yymmdd[i]-'0')*10 + int(yymmdd[i+1]-'0') }
	y, m, d := century+v(0), v(2), v(4)
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	return m >= 1 && m <= 12 && t.Day() == d && t.Month() == time.Month(m)
}

// curpCheck is (10 − Σ value(cᵢ)·(19−i) mod 10) mod 10 over the first 17.
func curpCheck(rs []rune) rune {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += indexRune(curpAlphabet, rs[i]) * (18 - i)
	}
	return rune('0' + (10-sum%10)%10)
}

func validateCURP(n, doc string) (string, []string, error) {
	r := []rune(n)
	if len(r) != 18 {
		return "", nil, formatErr(doc, "must be 18 characters")
	}
	for _, c := range r[:4] {
		if !isNameLetter(c) {
			return "", nil, formatErr(doc, "must start with 4 letters")
		}
	}
	if !runesDigits(r[4:10]) {
		return "", nil, formatErr(doc, "characters 5–10 must be the birth date YYMMDD")
	}
	if !strings.ContainsRune("HMX", r[10]) {
		return "", nil, formatErr(doc, "sex (character 11) must be H, M or X")
	}
	if !curpStates[string(r[11:13])] {
		return "", nil, formatErr(doc, "state code %q is unknown", string(r[11:13]))
	}
	for _, c := range r[13:16] {
		if !isConsonant(c) {
			return "", nil, formatErr(doc, "characters 14–16 must be consonants")
		}
	}
	// The differentiator tells the century: a digit for 19YY, a letter for 20YY.
	century := 0
	switch {
	case isDigit(r[16]):
		century = 1900
	case isLetter(r[16]):
		century = 2000
	default:
		return "", nil, formatErr(doc, "differentiator (character 17) must be a digit or a letter")
	}
	if !isDigit(r[17]) {
		return "", nil, formatErr(doc, "check character (character 18) must be a digit")
	}
	if !realDate(century, r[4:10]) {
		return "", nil, formatErr(doc, "birth date is not a real date in %d–%d (the century its differentiator gives)", century, century+99)
	}
	if curpCheck(r) != r[17] {
		return "", nil, checkErr(doc, "check digit")
	}
	return n, nil, nil
}

// rfcCheck pads a company RFC with a leading space to 13, then
// S = Σ value·(13..2) over the first 12; r = S mod 11 → 0, A or 11−r.
func rfcCheck(rs []rune) rune {
	if len(rs) == 12 {
		rs = append([]rune{' '}, rs...)
	}
	sum := 0
	for i := 0; i < 12; i++ {
		sum += indexRune(rfcAlphabet, rs[i]) * (13 - i)
	}
	switch r := sum % 11; r {
	case 0:
		return '0'
	case 1:
		return 'A'
	default:
		return rune('0' + 11 - r)
	}
}

// Generic RFCs the SAT uses for anonymous domestic and foreign customers.
var genericRFC = map[string]bool{"XAXX010101000": true, "XEXX010101000": true}

func validateRFC(n, doc string) (string, []string, error) {
	r := []rune(n)
	letters := len(r) - 9 // 3 for companies (12 chars), 4 for persons (13)
	if letters != 3 && letters != 4 {
		return "", nil, formatErr(doc, "must be 12 characters (company) or 13 (person)")
	}
	for _, c := range r[:letters] {
		if !isNameLetter(c) && c != '&' {
			return "", nil, formatErr(doc, "must start with %d letters", letters)
		}
	}
	date := r[letters : letters+6]
	// The century is not encoded: accept a date that exists in either.
	if !runesDigits(date) || !(realDate(1900, date) || realDate(2000, date)) {
		return "", nil, formatErr(doc, "characters %d–%d must be a date YYMMDD", letters+1, letters+6)
	}
	for _, c := range r[letters+6:] {
		if !isLetter(c) && !isDigit(c) {
			return "", nil, formatErr(doc, "homoclave (last 3 characters) must be letters or digits")
		}
	}
	if genericRFC[n] {
		return n, nil, nil
	}
	// Some issued RFCs fail the check: warn, never reject on it alone.
	if want := rfcCheck(r); want != r[len(r)-1] {
		return n, []string{fmt.Sprintf("%s check character does not verify (expected %c); accepted because some issued RFCs fail it", doc, want)}, nil
	}
	return n, nil, nil
}
