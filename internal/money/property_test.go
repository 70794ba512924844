package money

import (
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
)

var propScales = []int{0, 2, 6, 18}

// randAmount draws amounts across the whole range: small values, values
// near 2^256-1, and everything in between, with either sign.
func randAmount(rng *rand.Rand, scale int) Amount {
	var u big.Int
	switch rng.IntN(4) {
	case 0:
		u.SetInt64(rng.Int64N(100000))
	case 1:
		u.Sub(MaxUnits, big.NewInt(rng.Int64N(1000)))
	default:
		// A random value of 1..256 bits.
		buf := make([]byte, 32)
		for i := range buf {
			buf[i] = byte(rng.Uint32())
		}
		u.SetBytes(buf)
		u.Rsh(&u, uint(rng.IntN(256)))
	}
	if rng.IntN(2) == 0 {
		u.Neg(&u)
	}
	return New(&u, scale)
}

// randRate draws a positive rate with up to 12 integer and 18 fractional
// digits, like real prices from 1e-18 to 1e12.
func randRate(rng *rand.Rand) Rate {
	for {
		var b strings.Builder
		b.WriteString(digits(rng, 1+rng.IntN(12)))
		if rng.IntN(4) != 0 {
			b.WriteByte('.')
			b.WriteString(digits(rng, 1+rng.IntN(18)))
		}
		if r, err := ParseRate(b.String()); err == nil {
			return r
		}
	}
}

func digits(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + rng.IntN(10))
	}
	return string(b)
}

func TestPropertyParseString(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 4000; i++ {
		scale := propScales[i%len(propScales)]
		a := randAmount(rng, scale)
		back, err := Parse(a.String(), scale, ParseOptions{AllowNegative: true})
		if err != nil || !back.Equal(a) {
			t.Fatalf("Parse(String(%s)) = %s, %v", a.UnitsString(), back, err)
		}
		units, err := ParseUnits(a.UnitsString(), scale, ParseOptions{AllowNegative: true})
		if err != nil || !units.Equal(a) {
			t.Fatalf("ParseUnits(UnitsString(%s)) = %s, %v", a.UnitsString(), units, err)
		}
		js, _ := a.MarshalJSON()
		fromJSON, err := ParseJSON(js, scale, ParseOptions{AllowNegative: true})
		if err != nil || !fromJSON.Equal(a) {
			t.Fatalf("ParseJSON(MarshalJSON(%s)) = %s, %v", a, fromJSON, err)
		}
	}
}

func TestPropertyAddSub(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 4000; i++ {
		scale := propScales[i%len(propScales)]
		a, b := randAmount(rng, scale), randAmount(rng, scale)
		if got := a.Add(b).Sub(b); !got.Equal(a) {
			t.Fatalf("(%s + %s) - %s = %s", a, b, b, got)
		}
		if got := a.Sub(b).Add(b); !got.Equal(a) {
			t.Fatalf("(%s - %s) + %s = %s", a, b, b, got)
		}
		if !a.Add(b).Equal(b.Add(a)) {
			t.Fatalf("Add not commutative for %s, %s", a, b)
		}
		if !a.Sub(b).Equal(b.Sub(a).Neg()) {
			t.Fatalf("a-b != -(b-a) for %s, %s", a, b)
		}
		if a.Cmp(b) != -b.Cmp(a) {
			t.Fatalf("Cmp not antisymmetric for %s, %s", a, b)
		}
	}
}

func TestPropertyConvertDivide(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 3000; i++ {
		from := propScales[rng.IntN(len(propScales))]
		to := propScales[rng.IntN(len(propScales))]
		a, r := randAmount(rng, from), randRate(rng)
		assertConvert(t, a, r, to, "", "")
		assertDivide(t, a, r, to, "", "")
		if t.Failed() {
			t.Fatalf("amount %s rate %s to scale %d", a, r, to)
		}
	}
}

func TestPropertyPercent(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	hundred := new(big.Int).SetInt64(100)
	for i := 0; i < 3000; i++ {
		scale := propScales[rng.IntN(len(propScales))]
		a := randAmount(rng, scale)
		pct, err := ParsePercent(digits(rng, 1) + "." + digits(rng, 1+rng.IntN(6)))
		if err != nil {
			t.Fatal(err)
		}
		fee := Percent(a, pct)
		// |fee×100 - a×pct| <= 100×pct-scale half unit, checked in integers:
		// with pct = c×10^e, 2×|fee×100×10^-e - a×c| <= 100×10^-e.
		c, e := pct.parts()
		lhs := new(big.Int).Mul(fee.Units(), hundred)
		lhs.Mul(lhs, pow10(-e))
		lhs.Sub(lhs, new(big.Int).Mul(a.Units(), c))
		lhs.Abs(lhs).Lsh(lhs, 1)
		bound := new(big.Int).Mul(hundred, pow10(-e))
		if lhs.Cmp(bound) > 0 {
			t.Fatalf("Percent(%s, %s) = %s is more than half a unit off", a, pct, fee)
		}
		if !Percent(a.Neg(), pct).Equal(fee.Neg()) {
			t.Fatalf("Percent not symmetric for %s, %s", a, pct)
		}
	}
}
