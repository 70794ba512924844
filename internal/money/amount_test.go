package money

import (
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/cockroachdb/apd/v3"
)

func TestString(t *testing.T) {
	tests := []struct {
		units int64
		scale int
		want  string
	}{
		{0, 0, "0"},
		{0, 2, "0.00"},
		{1250, 2, "12.50"},
		{-5, 2, "-0.05"},
		{-1250, 2, "-12.50"},
		{1500, 0, "1500"},
		{-1500, 0, "-1500"},
		{1, 6, "0.000001"},
		{12500000, 6, "12.500000"},
		{1, 18, "0.000000000000000001"},
		{1000000000000000000, 18, "1.000000000000000000"},
		{-999999, 6, "-0.999999"},
	}
	for _, tt := range tests {
		a := FromInt64(tt.units, tt.scale)
		if got := a.String(); got != tt.want {
			t.Errorf("FromInt64(%d, %d).String() = %s, want %s", tt.units, tt.scale, got, tt.want)
		}
		b, _ := json.Marshal(a)
		if string(b) != `"`+tt.want+`"` {
			t.Errorf("MarshalJSON = %s, want %q", b, tt.want)
		}
	}
}

func TestZeroValue(t *testing.T) {
	var a Amount
	if a.String() != "0" || !a.IsZero() || a.Sign() != 0 || a.Scale() != 0 || a.UnitsString() != "0" {
		t.Errorf("zero value: %s", a)
	}
	if !Zero(6).Equal(FromInt64(0, 6)) || Zero(6).String() != "0.000000" {
		t.Errorf("Zero(6) = %s", Zero(6))
	}
}

func TestNewCopies(t *testing.T) {
	u := big.NewInt(100)
	a := New(u, 2)
	u.SetInt64(7)
	if a.UnitsString() != "100" {
		t.Fatalf("New did not copy: %s", a.UnitsString())
	}
	got := a.Units()
	got.SetInt64(9)
	if a.UnitsString() != "100" {
		t.Fatalf("Units did not copy: %s", a.UnitsString())
	}
	if New(nil, 2).String() != "0.00" {
		t.Fatalf("New(nil) is not zero")
	}
}

func TestArithmetic(t *testing.T) {
	a := MustParse("10.05", 2)
	b := MustParse("0.10", 2)
	tests := []struct {
		name string
		got  Amount
		want string
	}{
		{"add", a.Add(b), "10.15"},
		{"sub", a.Sub(b), "9.95"},
		{"sub negative", b.Sub(a), "-9.95"},
		{"neg", a.Neg(), "-10.05"},
		{"neg neg", a.Neg().Neg(), "10.05"},
		{"abs", a.Neg().Abs(), "10.05"},
		{"neg zero", Zero(2).Neg(), "0.00"},
	}
	for _, tt := range tests {
		if tt.got.String() != tt.want {
			t.Errorf("%s = %s, want %s", tt.name, tt.got, tt.want)
		}
	}
	// Operands are not modified.
	if a.String() != "10.05" || b.String() != "0.10" {
		t.Errorf("operands modified: %s %s", a, b)
	}
	if a.Cmp(b) != 1 || b.Cmp(a) != -1 || a.Cmp(MustParse("10.050", 2)) != 0 {
		t.Errorf("Cmp wrong")
	}
	if a.Sign() != 1 || a.Neg().Sign() != -1 {
		t.Errorf("Sign wrong")
	}
	if a.Equal(MustParse("10.05", 3)) {
		t.Errorf("Equal ignores scale")
	}
}

func TestScaleMismatchPanics(t *testing.T) {
	a, b := FromInt64(1, 2), FromInt64(1, 6)
	for name, f := range map[string]func(){
		"Cmp": func() { a.Cmp(b) },
		"Add": func() { a.Add(b) },
		"Sub": func() { a.Sub(b) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), "different scales") {
					t.Errorf("%s: panic = %v, want scale mismatch", name, r)
				}
			}()
			f()
		}()
	}
}

func TestBadScalePanics(t *testing.T) {
	for _, scale := range []int{-1, MaxScale + 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("FromInt64(1, %d) did not panic", scale)
				}
			}()
			FromInt64(1, scale)
		}()
	}
}

func TestCheckRange(t *testing.T) {
	max := New(MaxUnits, 18)
	if err := max.CheckRange(); err != nil {
		t.Fatalf("MaxUnits out of range: %v", err)
	}
	if err := max.Neg().CheckRange(); err != nil {
		t.Fatalf("-MaxUnits out of range: %v", err)
	}
	over := max.Add(FromInt64(1, 18))
	if err := over.CheckRange(); !errors.Is(err, ErrOverflow) {
		t.Fatalf("2^256 CheckRange = %v", err)
	}
	if MaxUnits.String() != "115792089237316195423570985008687907853269984665640564039457584007913129639935" {
		t.Fatalf("MaxUnits = %s", MaxUnits)
	}
}

func TestDecimalAndFromDecimal(t *testing.T) {
	a := MustParse("-12.345678", 6)
	d := a.Decimal()
	if d.Text('f') != "-12.345678" {
		t.Fatalf("Decimal = %s", d.Text('f'))
	}
	back, err := FromDecimal(d, 6)
	if err != nil || !back.Equal(a) {
		t.Fatalf("FromDecimal round trip = %s, %v", back, err)
	}
	tests := []struct {
		in    string
		scale int
		want  string
		err   error
	}{
		{"1.5", 2, "1.50", nil},
		{"1.50000", 2, "1.50", nil},
		{"15E-1", 2, "1.50", nil},
		{"1E+2", 0, "100", nil},
		{"0E-30", 2, "0.00", nil},
		{"1.505", 2, "", ErrTooManyDecimals},
		{"1E-99999", 2, "", ErrTooManyDecimals},
		{"1E+99999", 2, "", ErrOverflow},
		{"1E+78", 0, "", ErrOverflow},
		{"NaN", 2, "", ErrNotANumber},
		{"-Infinity", 2, "", ErrNotANumber},
	}
	for _, tt := range tests {
		d, _, err := apd.NewFromString(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := FromDecimal(d, tt.scale)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("FromDecimal(%s) = %s, %v; want %v", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("FromDecimal(%s) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

// Unmarshalling into an Amount must fail loudly: the scale is unknown, so
// callers use ParseJSON.
func TestJSONUnmarshalRefused(t *testing.T) {
	var v struct{ A Amount }
	if err := json.Unmarshal([]byte(`{"A":"1.00"}`), &v); err == nil {
		t.Fatal("json.Unmarshal into Amount succeeded")
	}
}
