package money

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/cockroachdb/apd/v3"
)

// exactCtx is wide enough for every product in these tests; checkExact
// fails the test if apd had to round anyway.
var exactCtx = apd.BaseContext.WithPrecision(400)

func checkExact(t *testing.T, c apd.Condition, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if c.Inexact() || c.Rounded() {
		t.Fatalf("apd rounded (condition %v)", c)
	}
}

func mustRate(t testing.TB, s string) Rate {
	t.Helper()
	r, err := ParseRate(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestParseRate(t *testing.T) {
	accepts := map[string]string{
		"0.9213":                             "0.9213",
		"0.92000000":                         "0.92",
		"2450":                               "2450",
		"1000":                               "1000",
		"1000.000":                           "1000",
		"00.5":                               "0.5",
		"0.0000001":                          "0.0000001",
		"950.5":                              "950.5",
		"1":                                  "1",
		"0." + strings.Repeat("0", 39) + "1": "0." + strings.Repeat("0", 39) + "1",
	}
	for in, want := range accepts {
		r, err := ParseRate(in)
		if err != nil {
			t.Errorf("ParseRate(%q): %v", in, err)
			continue
		}
		if r.String() != want {
			t.Errorf("ParseRate(%q).String() = %s, want %s", in, r, want)
		}
		if r.Decimal().Text('f') != want {
			t.Errorf("ParseRate(%q).Decimal() = %s", in, r.Decimal().Text('f'))
		}
	}
	rejects := []struct {
		in   string
		want error
	}{
		{"", ErrEmpty},
		{"0", ErrZero},
		{"0.000", ErrZero},
		{"-0", ErrNegative},
		{"-1", ErrNegative},
		{"+1", ErrSyntax},
		{"1e5", ErrExponent},
		{"9.2E-1", ErrExponent},
		{"NaN", ErrNotANumber},
		{"Infinity", ErrNotANumber},
		{" 1", ErrSyntax},
		{"1.", ErrSyntax},
		{".5", ErrSyntax},
		{"0x1", ErrSyntax},
		{"1,5", ErrSyntax},
		{"0." + strings.Repeat("0", 40) + "1", ErrTooManyDecimals},
		{"1" + strings.Repeat("0", 40), ErrOverflow},
	}
	for _, tt := range rejects {
		r, err := ParseRate(tt.in)
		if !errors.Is(err, tt.want) {
			t.Errorf("ParseRate(%q) = %s, %v; want %v", tt.in, r, err, tt.want)
		}
	}
}

func TestParsePercent(t *testing.T) {
	for in, want := range map[string]string{"0": "0", "0.00": "0", "1.5": "1.5", "100": "100", "100.000": "100"} {
		r, err := ParsePercent(in)
		if err != nil || r.String() != want {
			t.Errorf("ParsePercent(%q) = %s, %v; want %s", in, r, err, want)
		}
	}
	for in, want := range map[string]error{"100.01": ErrOverflow, "-1": ErrNegative, "1e2": ErrExponent, "": ErrEmpty} {
		if _, err := ParsePercent(in); !errors.Is(err, want) {
			t.Errorf("ParsePercent(%q) = %v, want %v", in, err, want)
		}
	}
}

func TestNewRate(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  error
	}{
		{"0.9200", "0.92", nil},
		{"1E+3", "1000", nil},
		{"92E-2", "0.92", nil},
		{"0", "", ErrZero},
		{"-0", "", ErrZero},
		{"-1", "", ErrNegative},
		{"NaN", "", ErrNotANumber},
		{"Infinity", "", ErrNotANumber},
		{"1E-41", "", ErrTooManyDecimals},
		{"1E+40", "", ErrOverflow},
	}
	for _, tt := range tests {
		d, _, err := apd.NewFromString(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		r, err := NewRate(d)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("NewRate(%s) = %s, %v; want %v", tt.in, r, err, tt.err)
			}
			continue
		}
		if err != nil || r.String() != tt.want {
			t.Errorf("NewRate(%s) = %s, %v; want %s", tt.in, r, err, tt.want)
		}
		// NewRate copies: changing d later does not change r.
		d.SetInt64(5)
		if r.String() != tt.want {
			t.Errorf("NewRate did not copy")
		}
	}
}

func TestRateJSONAndCmp(t *testing.T) {
	type q struct{ Price Rate }
	b, err := json.Marshal(q{mustRate(t, "0.92010000")})
	if err != nil || string(b) != `{"Price":"0.9201"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var back q
	if err := json.Unmarshal(b, &back); err != nil || back.Price.Cmp(mustRate(t, "0.9201")) != 0 {
		t.Fatalf("Unmarshal = %v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"Price":"0"}`), &back); !errors.Is(err, ErrZero) {
		t.Fatalf("Unmarshal zero = %v", err)
	}
	if mustRate(t, "0.92").Cmp(mustRate(t, "0.920001")) != -1 || mustRate(t, "2").Cmp(mustRate(t, "1.99")) != 1 {
		t.Fatal("Cmp wrong")
	}
	if !(Rate{}).IsZero() || mustRate(t, "1").IsZero() {
		t.Fatal("IsZero wrong")
	}
}

// assertConvert checks out and remainder, and that out + remainder is the
// exact product computed independently with apd.
func assertConvert(t *testing.T, a Amount, r Rate, toScale int, wantOut, wantRem string) {
	t.Helper()
	out, rem := Convert(a, r, toScale)
	if out.Scale() != toScale {
		t.Errorf("scale = %d, want %d", out.Scale(), toScale)
	}
	if wantOut != "" && out.String() != wantOut {
		t.Errorf("Convert(%s × %s) = %s, want %s", a, r, out, wantOut)
	}
	if wantRem != "" {
		var want apd.Decimal
		if _, _, err := want.SetString(wantRem); err != nil {
			t.Fatal(err)
		}
		if rem.Cmp(&want) != 0 {
			t.Errorf("remainder = %s, want %s", rem.Text('f'), wantRem)
		}
	}
	var product, sum apd.Decimal
	c, err := exactCtx.Mul(&product, a.Decimal(), r.Decimal())
	checkExact(t, c, err)
	c, err = exactCtx.Add(&sum, out.Decimal(), rem)
	checkExact(t, c, err)
	if sum.Cmp(&product) != 0 {
		t.Errorf("out + remainder = %s, exact product %s", sum.Text('f'), product.Text('f'))
	}
	// Rounded toward zero: the remainder has a's sign and is below one
	// target minor unit.
	if rem.Sign() != 0 && rem.Sign() != a.Sign() {
		t.Errorf("remainder %s has the wrong sign for %s", rem.Text('f'), a)
	}
	var abs apd.Decimal
	abs.Abs(rem)
	if abs.Cmp(apd.New(1, -int32(toScale))) >= 0 {
		t.Errorf("remainder %s is not below one minor unit", rem.Text('f'))
	}
}

func TestConvert(t *testing.T) {
	tests := []struct {
		name    string
		amount  Amount
		rate    string
		toScale int
		out     string
		rem     string
	}{
		{"EUR to USDC exact", MustParse("100.00", 2), "0.9213", 6, "92.130000", "0"},
		{"rounds down", MustParse("10.00", 2), "0.333333", 2, "3.33", "0.00333"},
		{"USDC to EUR", MustParse("1.234567", 6), "0.92", 2, "1.13", "0.00580164"},
		{"negative rounds toward zero", MustParse("-1.234567", 6), "0.92", 2, "-1.13", "-0.00580164"},
		{"USDC to CLP", MustParse("1.234567", 6), "950.5", 0, "1173", "0.4559335"},
		{"USDC to CLP exact", MustParse("100", 6), "950.5", 0, "95050", "0"},
		{"ETH to EUR", MustParse("1.5", 18), "2450.12", 2, "3675.18", "0"},
		{"one wei to EUR", MustParse("0.000000000000000001", 18), "2450.12", 2, "0.00", "0.00000000000000245012"},
		{"integer rate with exponent", MustParse("1.00", 2), "1000", 2, "1000.00", "0"},
		{"zero", Zero(2), "0.92", 6, "0.000000", "0"},
		{"just below a minor unit", MustParse("0.01", 2), "0.99", 2, "0.00", "0.0099"},
		{"max units rescaled", New(MaxUnits, 18), "1", 6,
			"115792089237316195423570985008687907853269984665640564039457.584007", "0.000000913129639935"},
		{"max units times a large price", New(MaxUnits, 18), "123456789.123456789", 2, "", ""},
		{"tiny rate", MustParse("1", 2), "0.0000000000000000000000000000000000000001", 18, "0.000000000000000000", "1E-40"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertConvert(t, tt.amount, mustRate(t, tt.rate), tt.toScale, tt.out, tt.rem)
		})
	}
}

func assertDivide(t *testing.T, a Amount, r Rate, toScale int, wantOut, wantRem string) {
	t.Helper()
	out, rem := Divide(a, r, toScale)
	if out.Scale() != toScale {
		t.Errorf("scale = %d, want %d", out.Scale(), toScale)
	}
	if wantOut != "" && out.String() != wantOut {
		t.Errorf("Divide(%s / %s) = %s, want %s", a, r, out, wantOut)
	}
	if wantRem != "" {
		var want apd.Decimal
		if _, _, err := want.SetString(wantRem); err != nil {
			t.Fatal(err)
		}
		if rem.Cmp(&want) != 0 {
			t.Errorf("remainder = %s, want %s", rem.Text('f'), wantRem)
		}
	}
	// a = out×r + remainder exactly.
	var prod, sum apd.Decimal
	c, err := exactCtx.Mul(&prod, out.Decimal(), r.Decimal())
	checkExact(t, c, err)
	c, err = exactCtx.Add(&sum, &prod, rem)
	checkExact(t, c, err)
	if sum.Cmp(a.Decimal()) != 0 {
		t.Errorf("out×r + remainder = %s, want %s", sum.Text('f'), a)
	}
	// Toward zero: remainder has a's sign and |remainder| < r×10^-toScale.
	if rem.Sign() != 0 && rem.Sign() != a.Sign() {
		t.Errorf("remainder %s has the wrong sign for %s", rem.Text('f'), a)
	}
	var step, abs apd.Decimal
	c, err = exactCtx.Mul(&step, r.Decimal(), apd.New(1, -int32(toScale)))
	checkExact(t, c, err)
	abs.Abs(rem)
	if abs.Cmp(&step) >= 0 {
		t.Errorf("remainder %s is not below r×10^-%d = %s", rem.Text('f'), toScale, step.Text('f'))
	}
}

func TestDivide(t *testing.T) {
	tests := []struct {
		name    string
		amount  Amount
		rate    string
		toScale int
		out     string
		rem     string
	}{
		{"EUR to USDC", MustParse("100.00", 2), "0.92", 6, "108.695652", "0.00000016"},
		{"thirds", MustParse("10.00", 2), "3", 2, "3.33", "0.01"},
		{"negative toward zero", MustParse("-10.00", 2), "3", 2, "-3.33", "-0.01"},
		{"exact", MustParse("92.00", 2), "0.92", 6, "100.000000", "0"},
		{"EUR to ETH", MustParse("240.00", 2), "2450.12", 18, "", ""},
		{"CLP to USDC", MustParse("100000", 0), "950.5", 6, "105.207785", ""},
		{"USDC to CLP via inverse price", MustParse("1.5", 6), "0.001052", 0, "1425", ""},
		{"too small for one unit", MustParse("0.01", 2), "2450.12", 2, "0.00", "0.01"},
		{"max units", New(MaxUnits, 18), "0.0001", 18, "", ""},
		{"zero", Zero(2), "0.92", 6, "0.000000", "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertDivide(t, tt.amount, mustRate(t, tt.rate), tt.toScale, tt.out, tt.rem)
		})
	}
}

func TestDivideByZeroPanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("Divide by zero rate did not panic")
		}
	}()
	Divide(MustParse("1", 2), Rate{}, 2)
}

func TestPercent(t *testing.T) {
	tests := []struct {
		amount Amount
		pct    string
		want   string
	}{
		{MustParse("100.00", 2), "1.5", "1.50"},
		{MustParse("10.00", 2), "2.5", "0.25"},
		{MustParse("0.50", 2), "2.5", "0.01"},  // 0.0125 → down
		{MustParse("1.00", 2), "12.5", "0.13"}, // 0.125 tie → up
		{MustParse("0.10", 2), "5", "0.01"},    // 0.005 tie → up
		{MustParse("0.09", 2), "5", "0.00"},    // 0.0045 → down
		{MustParse("1.00", 2), "12.4999", "0.12"},
		{MustParse("-1.00", 2), "12.5", "-0.13"}, // tie away from zero
		{MustParse("-0.50", 2), "2.5", "-0.01"},
		{MustParse("1500", 0), "2.9", "44"}, // 43.5 tie → up
		{MustParse("1499", 0), "2.9", "43"}, // 43.471
		{MustParse("123.45", 2), "0", "0.00"},
		{MustParse("123.45", 2), "100", "123.45"},
		{MustParse("123.45", 2), "3", "3.70"}, // 3.7035
		{MustParse("1.000000", 6), "0.3", "0.003000"},
		{New(MaxUnits, 18), "100", "115792089237316195423570985008687907853269984665640564039457.584007913129639935"},
	}
	for _, tt := range tests {
		pct, err := ParsePercent(tt.pct)
		if err != nil {
			t.Fatal(err)
		}
		got := Percent(tt.amount, pct)
		if got.String() != tt.want || got.Scale() != tt.amount.Scale() {
			t.Errorf("Percent(%s, %s%%) = %s, want %s", tt.amount, tt.pct, got, tt.want)
		}
	}
}
