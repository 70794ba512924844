package money

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Parse errors. Every error returned by this package wraps exactly one of
// these, so callers can classify with errors.Is and show Error() to humans.
var (
	ErrEmpty           = errors.New("money: empty amount")
	ErrSyntax          = errors.New("money: malformed number")
	ErrTooManyDecimals = errors.New("money: too many decimals")
	ErrExponent        = errors.New("money: exponent notation not allowed")
	ErrNotANumber      = errors.New("money: not a number")
	ErrNegative        = errors.New("money: negative value")
	ErrOverflow        = errors.New("money: value out of range")
	ErrZero            = errors.New("money: zero rate")
)

// Error is a parse or range error: a human message naming the problem
// (`amount "1.234" has more than 2 decimals`) that unwraps to one of the
// sentinel errors above.
type Error struct {
	kind error
	msg  string
}

func (e *Error) Error() string { return e.msg }

// Unwrap returns the sentinel (ErrSyntax, ErrOverflow, ...).
func (e *Error) Unwrap() error { return e.kind }

func errorf(kind error, format string, args ...any) error {
	return &Error{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// ParseOptions tunes what Parse accepts.
type ParseOptions struct {
	// AllowNegative accepts a leading '-'. Without it a negative non-zero
	// value is ErrNegative; "-0" is zero and always accepted.
	AllowNegative bool
}

// Parse parses a decimal string in major units ("240", "240.5",
// "0.000001") into an Amount of the given scale.
//
// The grammar is deliberately strict: an optional '-', at least one ASCII
// digit, and optionally '.' followed by at least one digit. Rejected: a
// leading '+', spaces anywhere, "1." and ".5", several dots, exponents
// (ErrExponent), NaN/Inf in any case (ErrNotANumber), hex, digit separators.
// Leading zeros are accepted ("007.50" is 7.50). Decimals beyond scale are
// accepted only if they are zeros ("1.500" at scale 2 is 1.50, "1.505" is
// ErrTooManyDecimals): the value is never rounded. Magnitudes above
// 2^256-1 base units are ErrOverflow.
func Parse(s string, scale int, opt ParseOptions) (Amount, error) {
	if scale < 0 || scale > MaxScale {
		return Amount{}, errorf(ErrOverflow, "scale %d out of range [0, %d]", scale, MaxScale)
	}
	n, err := scan(s, "amount")
	if err != nil {
		return Amount{}, err
	}
	return n.amount(s, "amount", scale, opt)
}

// MustParse is Parse for constants and tests; it panics on error and allows
// negative values.
func MustParse(s string, scale int) Amount {
	a, err := Parse(s, scale, ParseOptions{AllowNegative: true})
	if err != nil {
		panic(err)
	}
	return a
}

// ParseUnits parses a base-unit integer string ("12500000") into an Amount
// of the given scale. Same strictness as Parse; a decimal point is
// ErrSyntax.
func ParseUnits(s string, scale int, opt ParseOptions) (Amount, error) {
	if scale < 0 || scale > MaxScale {
		return Amount{}, errorf(ErrOverflow, "scale %d out of range [0, %d]", scale, MaxScale)
	}
	const what = "base-unit amount"
	n, err := scan(s, what)
	if err != nil {
		return Amount{}, err
	}
	if n.dot {
		return Amount{}, errorf(ErrSyntax, "%s %s must be an integer", what, show(s))
	}
	a, err := n.amount(s, what, 0, opt)
	if err != nil {
		return Amount{}, err
	}
	a.scale = scale
	return a, nil
}

// ParseJSON parses a JSON value holding an amount in major units: a JSON
// number (240, 240.50) or a JSON string holding a decimal ("240.50"). The
// raw bytes are parsed directly, never through float64. Numbers follow the
// JSON grammar (no leading zeros) plus the rules of Parse (no exponent);
// strings follow Parse. null is ErrEmpty.
func ParseJSON(raw []byte, scale int, opt ParseOptions) (Amount, error) {
	raw = bytes.Trim(raw, " \t\r\n")
	if len(raw) == 0 {
		return Amount{}, errorf(ErrEmpty, "amount is empty")
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return Amount{}, errorf(ErrSyntax, "amount %s is not a valid JSON string", show(string(raw)))
		}
		return Parse(s, scale, opt)
	case 'n':
		if string(raw) == "null" {
			return Amount{}, errorf(ErrEmpty, "amount is null")
		}
	case 't', 'f', '{', '[':
		return Amount{}, errorf(ErrSyntax, "amount %s must be a JSON number or a decimal string", show(string(raw)))
	}
	s := string(raw)
	n, err := scan(s, "amount")
	if err != nil {
		return Amount{}, err
	}
	if len(n.intPart) > 1 && n.intPart[0] == '0' {
		return Amount{}, errorf(ErrSyntax, "JSON number %s has a leading zero", show(s))
	}
	return n.amount(s, "amount", scale, opt)
}

// number is the syntactic shape of a strictly formatted decimal.
type number struct {
	neg      bool
	dot      bool
	intPart  string
	fracPart string
}

// show quotes user input for an error message, truncated so a hostile
// megabyte of digits does not end up in logs.
func show(s string) string {
	const max = 64
	if len(s) > max {
		return fmt.Sprintf("%q...", s[:max])
	}
	return fmt.Sprintf("%q", s)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isNaNOrInf(s string) bool {
	t := strings.ToLower(strings.TrimLeft(s, "+-"))
	switch t {
	case "nan", "snan", "qnan", "inf", "infinity":
		return true
	}
	return false
}

// scan checks the strict decimal grammar and splits s; what names the value
// in error messages.
func scan(s, what string) (number, error) {
	var n number
	if s == "" {
		return n, errorf(ErrEmpty, "%s is empty", what)
	}
	if strings.ContainsFunc(s, unicode.IsSpace) {
		return n, errorf(ErrSyntax, "%s %s contains spaces", what, show(s))
	}
	if isNaNOrInf(s) {
		return n, errorf(ErrNotANumber, "%s %s is not a number", what, show(s))
	}
	i := 0
	switch s[0] {
	case '-':
		n.neg = true
		i++
	case '+':
		return n, errorf(ErrSyntax, "%s %s must not start with '+'", what, show(s))
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	n.intPart = s[start:i]
	if i < len(s) && s[i] == '.' {
		n.dot = true
		i++
		start = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		n.fracPart = s[start:i]
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') && n.intPart+n.fracPart != "" {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if k > j && k == len(s) {
			return n, errorf(ErrExponent, "%s %s uses exponent notation; write the plain decimal", what, show(s))
		}
	}
	if i < len(s) {
		if s[i] == '.' {
			return n, errorf(ErrSyntax, "%s %s has more than one decimal point", what, show(s))
		}
		r, _ := utf8.DecodeRuneInString(s[i:])
		return n, errorf(ErrSyntax, "%s %s has an invalid character %q", what, show(s), r)
	}
	if n.intPart == "" {
		if n.dot {
			return n, errorf(ErrSyntax, "%s %s needs a digit before the decimal point", what, show(s))
		}
		return n, errorf(ErrSyntax, "%s %s has no digits", what, show(s))
	}
	if n.dot && n.fracPart == "" {
		return n, errorf(ErrSyntax, "%s %s needs a digit after the decimal point", what, show(s))
	}
	return n, nil
}

// maxDigits is the number of decimal digits of MaxUnits; anything longer
// (after leading zeros) overflows without converting it.
const maxDigits = 78

// amount converts a scanned number to minor units at scale.
func (n number) amount(s, what string, scale int, opt ParseOptions) (Amount, error) {
	frac := n.fracPart
	if len(frac) > scale {
		if strings.TrimRight(frac[scale:], "0") != "" {
			if scale == 0 {
				return Amount{}, errorf(ErrTooManyDecimals, "%s %s must be a whole number", what, show(s))
			}
			return Amount{}, errorf(ErrTooManyDecimals, "%s %s has more than %d decimals", what, show(s), scale)
		}
		frac = frac[:scale]
	}
	digits := strings.TrimLeft(n.intPart+frac+strings.Repeat("0", scale-len(frac)), "0")
	if len(digits) > maxDigits {
		return Amount{}, errorf(ErrOverflow, "%s %s exceeds the maximum of 2^256-1 base units", what, show(s))
	}
	var a Amount
	a.scale = scale
	if digits != "" {
		if _, ok := a.units.SetString(digits, 10); !ok {
			// Unreachable: scan admitted only ASCII digits.
			return Amount{}, errorf(ErrSyntax, "%s %s is malformed", what, show(s))
		}
		if a.units.Cmp(MaxUnits) > 0 {
			return Amount{}, errorf(ErrOverflow, "%s %s exceeds the maximum of 2^256-1 base units", what, show(s))
		}
		if n.neg {
			if !opt.AllowNegative {
				return Amount{}, errorf(ErrNegative, "%s %s must not be negative", what, show(s))
			}
			a.units.Neg(&a.units)
		}
	}
	return a, nil
}
