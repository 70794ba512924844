package money

import (
	"errors"
	"testing"
)

// sentinels lists every error class; a rejection must wrap one of them.
var sentinels = []error{ErrEmpty, ErrSyntax, ErrTooManyDecimals, ErrExponent, ErrNotANumber, ErrNegative, ErrOverflow}

func checkClassified(t *testing.T, err error) {
	t.Helper()
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("error %q wraps no sentinel", err)
}

func checkAccepted(t *testing.T, input string, a Amount, scale int, neg bool) {
	t.Helper()
	if a.Scale() != scale {
		t.Fatalf("%q: scale %d, want %d", input, a.Scale(), scale)
	}
	if a.Sign() < 0 && !neg {
		t.Fatalf("%q: negative %s accepted without AllowNegative", input, a)
	}
	if err := a.CheckRange(); err != nil {
		t.Fatalf("%q: accepted out-of-range %s", input, a)
	}
	back, err := Parse(a.String(), scale, ParseOptions{AllowNegative: true})
	if err != nil || !back.Equal(a) {
		t.Fatalf("%q: String %s re-parses to %s, %v", input, a, back, err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"240", "240.5", "0.000001", "-0", "-12.50", "1.500", "1.505", "+1", " 1", "1.", ".5",
		"1e5", "1E-2", "NaN", "-Infinity", "0x10", "1_000", "1.2.3", "007", "",
		"115792089237316195423570985008687907853269984665640564039457584007913129639935",
		"115792089237316195423570985008687907853269984665640564039457584007913129639936",
	} {
		for _, scale := range []int{0, 2, 6, 18} {
			f.Add(s, scale, scale%4 == 2)
		}
	}
	f.Fuzz(func(t *testing.T, s string, scale int, neg bool) {
		scale = ((scale % (MaxScale + 1)) + MaxScale + 1) % (MaxScale + 1)
		opt := ParseOptions{AllowNegative: neg}
		a, err := Parse(s, scale, opt)
		if err != nil {
			checkClassified(t, err)
		} else {
			checkAccepted(t, s, a, scale, neg)
		}
		// The same text as base units: accepted iff it is an integer.
		u, err := ParseUnits(s, scale, opt)
		if err != nil {
			checkClassified(t, err)
		} else {
			checkAccepted(t, s, u, scale, neg)
		}
		// And as a rate: never panics, and a rate's String re-parses.
		if r, err := ParseRate(s); err == nil {
			back, err := ParseRate(r.String())
			if err != nil || back.Cmp(r) != 0 {
				t.Fatalf("rate %q: String %s re-parses to %s, %v", s, r, back, err)
			}
		}
	})
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`240`, `240.50`, `"240"`, `"240.50"`, `-0`, `-1.5`, `null`, `""`, `1e5`, `"1e5"`, `NaN`,
		`Infinity`, `007`, `"007"`, `true`, `{}`, `[1]`, `"\u0031"`, `"1`, ` 1 `, `0.1`,
		`115792089237316195423570985008687907853269984665640564039457584007913129639936`,
	} {
		for _, scale := range []int{0, 2, 6, 18} {
			f.Add([]byte(s), scale, scale == 2)
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte, scale int, neg bool) {
		scale = ((scale % (MaxScale + 1)) + MaxScale + 1) % (MaxScale + 1)
		a, err := ParseJSON(raw, scale, ParseOptions{AllowNegative: neg})
		if err != nil {
			checkClassified(t, err)
			return
		}
		checkAccepted(t, string(raw), a, scale, neg)
		js, _ := a.MarshalJSON()
		back, err := ParseJSON(js, scale, ParseOptions{AllowNegative: true})
		if err != nil || !back.Equal(a) {
			t.Fatalf("%q: MarshalJSON %s re-parses to %s, %v", raw, js, back, err)
		}
	})
}
