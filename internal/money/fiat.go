package money

import (
	"sort"
	"strings"
)

// fiatScales are the ISO 4217 minor units of the supported fiat currencies.
// Hard-coded on purpose: some libraries report display rounding instead
// (e.g. CLP or COP shown without decimals) which is not the ISO exponent.
var fiatScales = map[string]int{
	"EUR": 2,
	"USD": 2,
	"CLP": 0,
	"MXN": 2,
	"COP": 2,
	"PEN": 2,
	"ARS": 2,
}

// FiatScale returns the ISO 4217 number of decimals for a supported fiat
// currency code (case-insensitive), and false for any other code.
func FiatScale(code string) (int, bool) {
	s, ok := fiatScales[strings.ToUpper(code)]
	return s, ok
}

// FiatCodes lists the supported fiat currency codes in alphabetical order.
func FiatCodes() []string {
	codes := make([]string, 0, len(fiatScales))
	for c := range fiatScales {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	return codes
}
