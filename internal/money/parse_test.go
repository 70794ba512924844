package money

import (
	"errors"
	"strings"
	"testing"
)

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		in    string
		scale int
		neg   bool
		units string
		str   string
	}{
		{"240", 2, false, "24000", "240.00"},
		{"240.5", 2, false, "24050", "240.50"},
		{"240.50", 2, false, "24050", "240.50"},
		{"1.500", 2, false, "150", "1.50"},
		{"1.5000000000000000000000000", 2, false, "150", "1.50"},
		{"0.05", 2, false, "5", "0.05"},
		{"0", 2, false, "0", "0.00"},
		{"-0", 2, false, "0", "0.00"},
		{"-0.00", 2, false, "0", "0.00"},
		{"007.50", 2, false, "750", "7.50"},
		{"-0.05", 2, true, "-5", "-0.05"},
		{"-12.5", 2, true, "-1250", "-12.50"},
		{"1500", 0, false, "1500", "1500"},
		{"1500.000", 0, false, "1500", "1500"},
		{"0.000001", 6, false, "1", "0.000001"},
		{"12.5", 6, false, "12500000", "12.500000"},
		{"1", 18, false, "1000000000000000000", "1.000000000000000000"},
		{"0.000000000000000001", 18, false, "1", "0.000000000000000001"},
		// 2^256-1 base units, the largest accepted magnitude.
		{"115792089237316195423570985008687907853269984665640564039457584007913129639935", 0, false,
			"115792089237316195423570985008687907853269984665640564039457584007913129639935",
			"115792089237316195423570985008687907853269984665640564039457584007913129639935"},
		{"115792089237316195423570985008687907853269984665640564039457.584007913129639935", 18, false,
			"115792089237316195423570985008687907853269984665640564039457584007913129639935",
			"115792089237316195423570985008687907853269984665640564039457.584007913129639935"},
		{"-115792089237316195423570985008687907853269984665640564039457.584007913129639935", 18, true,
			"-115792089237316195423570985008687907853269984665640564039457584007913129639935",
			"-115792089237316195423570985008687907853269984665640564039457.584007913129639935"},
		{"0000000000000000000000000000000000000000000000000000000000000000000000000000000000000001", 0, false, "1", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			a, err := Parse(tt.in, tt.scale, ParseOptions{AllowNegative: tt.neg})
			if err != nil {
				t.Fatalf("Parse(%q, %d) error: %v", tt.in, tt.scale, err)
			}
			if got := a.UnitsString(); got != tt.units {
				t.Errorf("units = %s, want %s", got, tt.units)
			}
			if got := a.String(); got != tt.str {
				t.Errorf("String = %s, want %s", got, tt.str)
			}
			if a.Scale() != tt.scale {
				t.Errorf("scale = %d, want %d", a.Scale(), tt.scale)
			}
			back, err := Parse(a.String(), tt.scale, ParseOptions{AllowNegative: true})
			if err != nil || !back.Equal(a) {
				t.Errorf("round trip %s -> %v, %v", a, back, err)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		in    string
		scale int
		opt   ParseOptions
		want  error
		msg   string // substring of the message
	}{
		{"", 2, ParseOptions{}, ErrEmpty, "empty"},
		{"+1", 2, ParseOptions{}, ErrSyntax, "'+'"},
		{" 1", 2, ParseOptions{}, ErrSyntax, "spaces"},
		{"1 ", 2, ParseOptions{}, ErrSyntax, "spaces"},
		{"1 000", 2, ParseOptions{}, ErrSyntax, "spaces"},
		{"1\t", 2, ParseOptions{}, ErrSyntax, "spaces"},
		{"1\u00a0", 2, ParseOptions{}, ErrSyntax, "spaces"},
		{"1.", 2, ParseOptions{}, ErrSyntax, "digit after"},
		{".5", 2, ParseOptions{}, ErrSyntax, "digit before"},
		{"-.5", 2, ParseOptions{AllowNegative: true}, ErrSyntax, "digit before"},
		{".", 2, ParseOptions{}, ErrSyntax, "digit before"},
		{"-", 2, ParseOptions{}, ErrSyntax, "no digits"},
		{"--1", 2, ParseOptions{AllowNegative: true}, ErrSyntax, "invalid character"},
		{"1.2.3", 2, ParseOptions{}, ErrSyntax, "more than one decimal point"},
		{"1..2", 2, ParseOptions{}, ErrSyntax, "more than one decimal point"},
		{"0x10", 2, ParseOptions{}, ErrSyntax, "invalid character 'x'"},
		{"0X1F", 2, ParseOptions{}, ErrSyntax, "invalid character"},
		{"1_000", 2, ParseOptions{}, ErrSyntax, "invalid character '_'"},
		{"1,5", 2, ParseOptions{}, ErrSyntax, "invalid character ','"},
		{"abc", 2, ParseOptions{}, ErrSyntax, "invalid character"},
		{"١٢", 2, ParseOptions{}, ErrSyntax, "invalid character"},
		{"1e5", 2, ParseOptions{}, ErrExponent, "exponent"},
		{"1E-2", 2, ParseOptions{}, ErrExponent, "exponent"},
		{"1.5e+3", 2, ParseOptions{}, ErrExponent, "exponent"},
		{"-2E3", 2, ParseOptions{AllowNegative: true}, ErrExponent, "exponent"},
		{"1e", 2, ParseOptions{}, ErrSyntax, "invalid character 'e'"},
		{"1e+", 2, ParseOptions{}, ErrSyntax, "invalid character 'e'"},
		{"e5", 2, ParseOptions{}, ErrSyntax, "invalid character"},
		{"NaN", 2, ParseOptions{}, ErrNotANumber, "not a number"},
		{"nan", 2, ParseOptions{}, ErrNotANumber, "not a number"},
		{"-NaN", 2, ParseOptions{}, ErrNotANumber, "not a number"},
		{"sNaN", 2, ParseOptions{}, ErrNotANumber, "not a number"},
		{"Inf", 2, ParseOptions{}, ErrNotANumber, "not a number"},
		{"-inf", 2, ParseOptions{}, ErrNotANumber, "not a number"},
		{"+Inf", 2, ParseOptions{}, ErrNotANumber, "not a number"},
		{"Infinity", 2, ParseOptions{}, ErrNotANumber, "not a number"},
		{"-INFINITY", 2, ParseOptions{}, ErrNotANumber, "not a number"},
		{"-1", 2, ParseOptions{}, ErrNegative, "negative"},
		{"-0.01", 2, ParseOptions{}, ErrNegative, "negative"},
		{"1.234", 2, ParseOptions{}, ErrTooManyDecimals, `amount "1.234" has more than 2 decimals`},
		{"1.505", 2, ParseOptions{}, ErrTooManyDecimals, "more than 2 decimals"},
		{"0.0000001", 6, ParseOptions{}, ErrTooManyDecimals, "more than 6 decimals"},
		{"1.5", 0, ParseOptions{}, ErrTooManyDecimals, "whole number"},
		{"0.0000000000000000001", 18, ParseOptions{}, ErrTooManyDecimals, "more than 18 decimals"},
		// 2^256 base units.
		{"115792089237316195423570985008687907853269984665640564039457584007913129639936", 0, ParseOptions{}, ErrOverflow, "2^256-1"},
		{"115792089237316195423570985008687907853269984665640564039457.584007913129639936", 18, ParseOptions{}, ErrOverflow, "2^256-1"},
		{"-115792089237316195423570985008687907853269984665640564039457584007913129639936", 0, ParseOptions{AllowNegative: true}, ErrOverflow, "2^256-1"},
		{"1" + strings.Repeat("0", 500), 2, ParseOptions{}, ErrOverflow, "2^256-1"},
		{"1", -1, ParseOptions{}, ErrOverflow, "scale"},
		{"1", MaxScale + 1, ParseOptions{}, ErrOverflow, "scale"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			a, err := Parse(tt.in, tt.scale, tt.opt)
			if err == nil {
				t.Fatalf("Parse(%q, %d) = %s, want error %v", tt.in, tt.scale, a, tt.want)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("error %q is not %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("message %q does not contain %q", err, tt.msg)
			}
			var me *Error
			if !errors.As(err, &me) {
				t.Errorf("error %T is not *Error", err)
			}
		})
	}
}

func TestParseErrorMessageTruncatesInput(t *testing.T) {
	_, err := Parse(strings.Repeat("9", 10000)+"x", 2, ParseOptions{})
	if err == nil || len(err.Error()) > 200 {
		t.Fatalf("error message not bounded: %d bytes", len(err.Error()))
	}
}

func TestParseUnits(t *testing.T) {
	tests := []struct {
		in    string
		scale int
		opt   ParseOptions
		units string
		str   string
		want  error
	}{
		{in: "12500000", scale: 6, units: "12500000", str: "12.500000"},
		{in: "0", scale: 18, units: "0", str: "0.000000000000000000"},
		{in: "1", scale: 18, units: "1", str: "0.000000000000000001"},
		{in: "150", scale: 0, units: "150", str: "150"},
		{in: "-5", scale: 2, opt: ParseOptions{AllowNegative: true}, units: "-5", str: "-0.05"},
		{in: "115792089237316195423570985008687907853269984665640564039457584007913129639935", scale: 18,
			units: "115792089237316195423570985008687907853269984665640564039457584007913129639935",
			str:   "115792089237316195423570985008687907853269984665640564039457.584007913129639935"},
		{in: "115792089237316195423570985008687907853269984665640564039457584007913129639936", scale: 18, want: ErrOverflow},
		{in: "-5", scale: 2, want: ErrNegative},
		{in: "1.0", scale: 2, want: ErrSyntax},
		{in: "1e6", scale: 6, want: ErrExponent},
		{in: "", scale: 6, want: ErrEmpty},
		{in: "+1", scale: 6, want: ErrSyntax},
		{in: "0x1", scale: 6, want: ErrSyntax},
		{in: "Infinity", scale: 6, want: ErrNotANumber},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			a, err := ParseUnits(tt.in, tt.scale, tt.opt)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("ParseUnits(%q) = %v, %v; want %v", tt.in, a, err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseUnits(%q): %v", tt.in, err)
			}
			if a.UnitsString() != tt.units || a.String() != tt.str || a.Scale() != tt.scale {
				t.Errorf("got units %s str %s scale %d", a.UnitsString(), a.String(), a.Scale())
			}
		})
	}
}

func TestParseJSON(t *testing.T) {
	tests := []struct {
		raw   string
		scale int
		opt   ParseOptions
		str   string
		want  error
	}{
		// Numbers and strings agree.
		{raw: `240`, scale: 2, str: "240.00"},
		{raw: `240.50`, scale: 2, str: "240.50"},
		{raw: `"240"`, scale: 2, str: "240.00"},
		{raw: `"240.50"`, scale: 2, str: "240.50"},
		{raw: ` 240.5 `, scale: 2, str: "240.50"},
		{raw: "\n\"7\"\t", scale: 0, str: "7"},
		{raw: `0.1`, scale: 2, str: "0.10"},
		{raw: `0`, scale: 0, str: "0"},
		{raw: `-0`, scale: 2, str: "0.00"},
		{raw: `-12.34`, scale: 2, opt: ParseOptions{AllowNegative: true}, str: "-12.34"},
		// A float64 would turn this into 0.30000000000000004 territory or lose digits.
		{raw: `123456789012345678901234567890.123456789012345678`, scale: 18, str: "123456789012345678901234567890.123456789012345678"},
		{raw: `"\u0031\u0032"`, scale: 2, str: "12.00"},
		{raw: `"007"`, scale: 2, str: "7.00"}, // strings follow Parse: leading zeros ok
		{raw: `1.500`, scale: 2, str: "1.50"},

		{raw: ``, scale: 2, want: ErrEmpty},
		{raw: `   `, scale: 2, want: ErrEmpty},
		{raw: `null`, scale: 2, want: ErrEmpty},
		{raw: `""`, scale: 2, want: ErrEmpty},
		{raw: `1e5`, scale: 2, want: ErrExponent},
		{raw: `1E-2`, scale: 2, want: ErrExponent},
		{raw: `"1e5"`, scale: 2, want: ErrExponent},
		{raw: `NaN`, scale: 2, want: ErrNotANumber},
		{raw: `"NaN"`, scale: 2, want: ErrNotANumber},
		{raw: `Infinity`, scale: 2, want: ErrNotANumber},
		{raw: `-Infinity`, scale: 2, want: ErrNotANumber},
		{raw: `"inf"`, scale: 2, want: ErrNotANumber},
		{raw: `007`, scale: 2, want: ErrSyntax},
		{raw: `-01`, scale: 2, opt: ParseOptions{AllowNegative: true}, want: ErrSyntax},
		{raw: `+1`, scale: 2, want: ErrSyntax},
		{raw: `.5`, scale: 2, want: ErrSyntax},
		{raw: `1.`, scale: 2, want: ErrSyntax},
		{raw: `" 1"`, scale: 2, want: ErrSyntax},
		{raw: `"1`, scale: 2, want: ErrSyntax},
		{raw: `"\x"`, scale: 2, want: ErrSyntax},
		{raw: `true`, scale: 2, want: ErrSyntax},
		{raw: `false`, scale: 2, want: ErrSyntax},
		{raw: `nul`, scale: 2, want: ErrSyntax},
		{raw: `{}`, scale: 2, want: ErrSyntax},
		{raw: `[1]`, scale: 2, want: ErrSyntax},
		{raw: `1 2`, scale: 2, want: ErrSyntax},
		{raw: `0x10`, scale: 2, want: ErrSyntax},
		{raw: `1.234`, scale: 2, want: ErrTooManyDecimals},
		{raw: `"1.234"`, scale: 2, want: ErrTooManyDecimals},
		{raw: `-1`, scale: 2, want: ErrNegative},
		{raw: `"-1"`, scale: 2, want: ErrNegative},
		{raw: `115792089237316195423570985008687907853269984665640564039457584007913129639936`, scale: 0, want: ErrOverflow},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			a, err := ParseJSON([]byte(tt.raw), tt.scale, tt.opt)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("ParseJSON(%s) = %v, %v; want %v", tt.raw, a, err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseJSON(%s): %v", tt.raw, err)
			}
			if a.String() != tt.str {
				t.Errorf("got %s, want %s", a, tt.str)
			}
		})
	}
}

func TestFiatScale(t *testing.T) {
	want := map[string]int{"EUR": 2, "USD": 2, "CLP": 0, "MXN": 2, "COP": 2, "PEN": 2, "ARS": 2, "eur": 2, "clp": 0}
	for code, scale := range want {
		got, ok := FiatScale(code)
		if !ok || got != scale {
			t.Errorf("FiatScale(%s) = %d, %v; want %d", code, got, ok, scale)
		}
	}
	for _, code := range []string{"", "JPY", "BTC", "USDC", "EU"} {
		if _, ok := FiatScale(code); ok {
			t.Errorf("FiatScale(%q) ok, want unsupported", code)
		}
	}
}
