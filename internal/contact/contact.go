// Package contact validates and normalises a customer's contact data: e-mail,
// phone, date of birth and country.
package contact

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// ErrInvalid is the sentinel behind every *Error, for errors.Is.
var ErrInvalid = errors.New("invalid contact data")

// Error is a rejected value; Field is the API field it belongs to ("email",
// "phone", "dob") and Msg is meant for the API user.
type Error struct {
	Field string
	Msg   string
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return ErrInvalid }

func errf(field, format string, a ...any) error {
	return &Error{Field: field, Msg: fmt.Sprintf(format, a...)}
}

// Email checks a bare address (no display name, brackets or comments) and
// returns it trimmed with the domain lower-cased. The local part keeps its
// case: RFC 5321 lets servers treat it as case-sensitive.
func Email(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", errf("email", "email is empty")
	case len(s) > 254:
		return "", errf("email", "email must be at most 254 characters")
	case strings.Count(s, "@") != 1:
		return "", errf("email", "email must contain exactly one @")
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return "", errf("email", "email must not contain spaces or control characters")
	case strings.ContainsAny(s, `"<>()`):
		return "", errf("email", "email must be a bare address, without display name, quotes, brackets or comments")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", errf("email", "email is not a valid address")
	}
	local, domain, _ := strings.Cut(s, "@")
	if len(local) > 64 {
		return "", errf("email", "email local part (before @) must be at most 64 characters")
	}
	domain = asciiLower(domain)
	if err := checkDomain(domain); err != nil {
		return "", err
	}
	return local + "@" + domain, nil
}

// asciiLower lower-cases A–Z only: strings.ToLower would turn look-alikes
// such as the Kelvin sign into ASCII letters.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// checkDomain wants a DNS host name with at least one dot: ASCII labels
// (internationalised domains in their xn-- form), no IP literals, and an
// alphabetic top-level domain.
func checkDomain(d string) error {
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return errf("email", "email domain must contain a dot")
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return errf("email", "email domain has an empty or too long label")
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return errf("email", "email domain labels must not start or end with '-'")
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return errf("email", "email domain may only contain letters, digits, '-' and '.'")
			}
		}
	}
	tld := labels[len(labels)-1]
	if len(tld) < 2 || strings.Trim(tld, "0123456789") == "" {
		return errf("email", "email domain must end in a real top-level domain")
	}
	return nil
}

// Phone checks an E.164 number ('+', country code, subscriber number: 8–15
// digits) against the numbering plan of its country and returns it in E.164.
// Spaces, dashes, dots and parentheses people type as separators are
// dropped; a number without '+' is refused because its country is unknown.
func Phone(s string) (string, error) {
	c := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || strings.ContainsRune("-.()", r) {
			return -1
		}
		return r
	}, s)
	if !strings.HasPrefix(c, "+") {
		return "", errf("phone", "phone must be in E.164 format: '+' and the country code, e.g. +34600000000")
	}
	digits := c[1:]
	if len(digits) < 8 || len(digits) > 15 || strings.Trim(digits, "0123456789") != "" {
		return "", errf("phone", "phone must be '+' followed by 8 to 15 digits")
	}
	if digits[0] == '0' {
		return "", errf("phone", "phone country code cannot start with 0")
	}
	num, err := phonenumbers.Parse(c, "ZZ")
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", errf("phone", "phone is not a valid number in its country's numbering plan")
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// DateOfBirth parses YYYY-MM-DD and checks the customer is an adult (18 or
// older at now) and at most 120 years old. The result is midnight UTC; age
// is counted on now's calendar date in now's location.
func DateOfBirth(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if len(s) != 10 || s[4] != '-' || s[7] != '-' || strings.Trim(s[:4]+s[5:7]+s[8:], "0123456789") != "" {
		return time.Time{}, errf("dob", "dob must be a date in YYYY-MM-DD format")
	}
	dob, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, errf("dob", "dob %s is not a real date", s)
	}
	ny, nm, nd := now.Date()
	today := time.Date(ny, nm, nd, 0, 0, 0, 0, time.UTC)
	if dob.After(today) {
		return time.Time{}, errf("dob", "dob is in the future")
	}
	age := ny - dob.Year()
	if nm < dob.Month() || (nm == dob.Month() && nd < dob.Day()) {
		age-- // birthday not reached yet this year
	}
	switch {
	case age < 18:
		return time.Time{}, errf("dob", "customer must be at least 18 years old")
	case age > 120:
		return time.Time{}, errf("dob", "dob is more than 120 years ago")
	}
	return dob, nil
}
