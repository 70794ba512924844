package money

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// MaxScale bounds the scale of an Amount: twice the largest token scale in
// use (18), so a typo such as a scale of 1800 fails loudly instead of
// allocating huge powers of ten.
const MaxScale = 36

// MaxUnits is the largest magnitude accepted from outside: 2^256-1.
// Treat it as read-only.
var MaxUnits = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))

// Amount is an exact amount: an integer number of minor units and the scale
// (decimals) of its asset. The zero value is 0 at scale 0. Amounts are
// immutable values: every method returns a new Amount and never modifies its
// receiver, so they are safe to share between goroutines.
type Amount struct {
	// units is never mutated after construction, so copies of an Amount may
	// share its backing array.
	units big.Int
	scale int
}

func checkScale(scale int) {
	if scale < 0 || scale > MaxScale {
		panic(fmt.Sprintf("money: scale %d out of range [0, %d]", scale, MaxScale))
	}
}

// New returns units minor units at the given scale. It copies units. It
// panics if scale is outside [0, MaxScale]; a nil units is zero.
func New(units *big.Int, scale int) Amount {
	checkScale(scale)
	var a Amount
	if units != nil {
		a.units.Set(units)
	}
	a.scale = scale
	return a
}

// FromInt64 returns units minor units at the given scale.
func FromInt64(units int64, scale int) Amount {
	checkScale(scale)
	var a Amount
	a.units.SetInt64(units)
	a.scale = scale
	return a
}

// Zero returns 0 at the given scale.
func Zero(scale int) Amount {
	checkScale(scale)
	return Amount{scale: scale}
}

// Units returns a copy of the minor units.
func (a Amount) Units() *big.Int { return new(big.Int).Set(&a.units) }

// Scale returns the number of decimals of the amount's asset.
func (a Amount) Scale() int { return a.scale }

// Sign returns -1, 0 or +1.
func (a Amount) Sign() int { return a.units.Sign() }

// IsZero reports whether the amount is zero.
func (a Amount) IsZero() bool { return a.units.Sign() == 0 }

// Neg returns -a.
func (a Amount) Neg() Amount {
	var r Amount
	r.units.Neg(&a.units)
	r.scale = a.scale
	return r
}

// Abs returns |a|.
func (a Amount) Abs() Amount {
	var r Amount
	r.units.Abs(&a.units)
	r.scale = a.scale
	return r
}

func mustSameScale(op string, a, b Amount) {
	if a.scale != b.scale {
		panic(fmt.Sprintf("money: %s of amounts with different scales (%d and %d)", op, a.scale, b.scale))
	}
}

// Cmp compares a and b and returns -1, 0 or +1. It panics if the scales
// differ: comparing amounts of different assets is a programming error.
func (a Amount) Cmp(b Amount) int {
	mustSameScale("comparison", a, b)
	return a.units.Cmp(&b.units)
}

// Equal reports whether a and b have the same scale and value. Unlike Cmp it
// never panics.
func (a Amount) Equal(b Amount) bool {
	return a.scale == b.scale && a.units.Cmp(&b.units) == 0
}

// Add returns a+b. It panics if the scales differ.
func (a Amount) Add(b Amount) Amount {
	mustSameScale("sum", a, b)
	var r Amount
	r.units.Add(&a.units, &b.units)
	r.scale = a.scale
	return r
}

// Sub returns a-b. It panics if the scales differ.
func (a Amount) Sub(b Amount) Amount {
	mustSameScale("difference", a, b)
	var r Amount
	r.units.Sub(&a.units, &b.units)
	r.scale = a.scale
	return r
}

// CheckRange returns an error wrapping ErrOverflow if |a| exceeds MaxUnits.
// Arithmetic itself is unbounded; call this before storing or sending a
// computed amount.
func (a Amount) CheckRange() error {
	if a.units.CmpAbs(MaxUnits) > 0 {
		return &Error{kind: ErrOverflow, msg: fmt.Sprintf("amount %s exceeds 2^256-1 base units", a.String())}
	}
	return nil
}

// String formats the amount in major units with exactly Scale decimals:
// "12.50", "-0.05", "1500" (scale 0).
func (a Amount) String() string {
	digits := new(big.Int).Abs(&a.units).String()
	var b strings.Builder
	if a.units.Sign() < 0 {
		b.WriteByte('-')
	}
	if a.scale == 0 {
		b.WriteString(digits)
		return b.String()
	}
	if len(digits) <= a.scale {
		digits = strings.Repeat("0", a.scale-len(digits)+1) + digits
	}
	cut := len(digits) - a.scale
	b.WriteString(digits[:cut])
	b.WriteByte('.')
	b.WriteString(digits[cut:])
	return b.String()
}

// UnitsString formats the minor units as a base-10 integer: "12500000".
func (a Amount) UnitsString() string { return a.units.String() }

// Decimal returns the exact value in major units.
func (a Amount) Decimal() *apd.Decimal {
	var c apd.BigInt
	c.SetMathBigInt(&a.units)
	return apd.NewWithBigInt(&c, -int32(a.scale))
}

// MarshalJSON encodes the amount as a JSON string in major units, "12.50";
// a string keeps every digit in clients that parse numbers as floats.
func (a Amount) MarshalJSON() ([]byte, error) {
	s := a.String()
	out := make([]byte, 0, len(s)+2)
	out = append(out, '"')
	out = append(out, s...)
	return append(out, '"'), nil
}

// FromDecimal converts an exact decimal in major units to an Amount. It
// fails with ErrTooManyDecimals when d has non-zero digits beyond scale
// (it never rounds), ErrNotANumber for NaN or infinities.
func FromDecimal(d *apd.Decimal, scale int) (Amount, error) {
	checkScale(scale)
	if d.Form != apd.Finite {
		return Amount{}, &Error{kind: ErrNotANumber, msg: fmt.Sprintf("decimal %s is not a finite number", d.String())}
	}
	units := d.Coeff.MathBigInt()
	if units.Sign() == 0 {
		return Zero(scale), nil
	}
	if d.Negative {
		units.Neg(units)
	}
	// Bound the shift before computing 10^shift so a hostile exponent cannot
	// allocate: 10^78 already exceeds MaxUnits, and a coefficient with n
	// digits cannot be a multiple of 10^k for k > n.
	shift := int64(d.Exponent) + int64(scale)
	switch {
	case shift > 78:
		return Amount{}, &Error{kind: ErrOverflow, msg: fmt.Sprintf("decimal %s exceeds 2^256-1 base units", d.String())}
	case shift > 0:
		units.Mul(units, pow10(shift))
	case shift < 0:
		if -shift > int64(len(units.String())) {
			return Amount{}, &Error{kind: ErrTooManyDecimals, msg: fmt.Sprintf("decimal %s has more than %d decimals", d.String(), scale)}
		}
		q, r := new(big.Int).QuoRem(units, pow10(-shift), new(big.Int))
		if r.Sign() != 0 {
			return Amount{}, &Error{kind: ErrTooManyDecimals, msg: fmt.Sprintf("decimal %s has more than %d decimals", d.Text('f'), scale)}
		}
		units = q
	}
	a := New(units, scale)
	if err := a.CheckRange(); err != nil {
		return Amount{}, err
	}
	return a, nil
}

// pow10 returns 10^n. Exponents are bounded by MaxScale and rate lengths, so
// n is small.
func pow10(n int64) *big.Int {
	if n < int64(len(smallPow10)) {
		return smallPow10[n]
	}
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(n), nil)
}

// smallPow10 caches 10^0..10^80; entries are shared and must not be mutated.
var smallPow10 = func() []*big.Int {
	p := make([]*big.Int, 81)
	p[0] = big.NewInt(1)
	for i := 1; i < len(p); i++ {
		p[i] = new(big.Int).Mul(p[i-1], big.NewInt(10))
	}
	return p
}()
