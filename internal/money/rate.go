package money

import (
	"math/big"
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// Bounds on a rate's digits. Real prices need far fewer; the bounds keep
// hostile input from creating huge powers of ten in Convert and Divide.
const (
	maxRateDecimals  = 40
	maxRateIntDigits = 40
)

// Rate is an exact, non-negative decimal multiplier: a price such as 0.9213
// fiat per token, or a fee percentage. Rates from ParseRate and NewRate are
// strictly positive; a zero Rate only comes from ParsePercent("0") or the zero
// value. Rates are immutable and safe to share.
type Rate struct {
	// d is finite, non-negative and normalized (no trailing zeros in the
	// coefficient); it is never mutated after construction.
	d apd.Decimal
}

// ParseRate parses a strictly positive plain decimal ("0.9213", "2450",
// "0.000001"), with the same strict grammar as Parse: no sign, exponent,
// NaN, spaces, "1." or ".5". Trailing fractional zeros are dropped, so
// String returns the shortest exact form.
func ParseRate(s string) (Rate, error) {
	r, err := parseRate(s, "rate")
	if err != nil {
		return Rate{}, err
	}
	if r.d.IsZero() {
		return Rate{}, errorf(ErrZero, "rate %s must be greater than zero", show(s))
	}
	return r, nil
}

// ParsePercent parses a percentage between 0 and 100 inclusive ("1.5" is
// 1.5%), for use with Percent. Zero is allowed: a method may have no fee.
func ParsePercent(s string) (Rate, error) {
	r, err := parseRate(s, "percentage")
	if err != nil {
		return Rate{}, err
	}
	if r.d.Cmp(apd.New(100, 0)) > 0 {
		return Rate{}, errorf(ErrOverflow, "percentage %s must not exceed 100", show(s))
	}
	return r, nil
}

func parseRate(s, what string) (Rate, error) {
	n, err := scan(s, what)
	if err != nil {
		return Rate{}, err
	}
	if n.neg {
		return Rate{}, errorf(ErrNegative, "%s %s must not be negative", what, show(s))
	}
	intPart := strings.TrimLeft(n.intPart, "0")
	frac := strings.TrimRight(n.fracPart, "0")
	if len(frac) > maxRateDecimals {
		return Rate{}, errorf(ErrTooManyDecimals, "%s %s has more than %d decimals", what, show(s), maxRateDecimals)
	}
	if len(intPart) > maxRateIntDigits {
		return Rate{}, errorf(ErrOverflow, "%s %s has more than %d integer digits", what, show(s), maxRateIntDigits)
	}
	var c big.Int
	if digits := intPart + frac; digits != "" {
		c.SetString(digits, 10)
	}
	return rateFromParts(&c, -int64(len(frac))), nil
}

// NewRate returns a Rate for a finite, strictly positive decimal within the
// digit bounds of ParseRate. It copies d.
func NewRate(d *apd.Decimal) (Rate, error) {
	if d.Form != apd.Finite {
		return Rate{}, errorf(ErrNotANumber, "rate %s is not a finite number", d.String())
	}
	if d.Negative && !d.IsZero() {
		return Rate{}, errorf(ErrNegative, "rate %s must not be negative", d.String())
	}
	if d.IsZero() {
		return Rate{}, errorf(ErrZero, "rate %s must be greater than zero", d.String())
	}
	var red apd.Decimal
	red.Reduce(d)
	red.Negative = false
	digits := int64(red.NumDigits())
	exp := int64(red.Exponent)
	if exp < -maxRateDecimals {
		return Rate{}, errorf(ErrTooManyDecimals, "rate %s has more than %d decimals", d.String(), maxRateDecimals)
	}
	if digits+exp > maxRateIntDigits {
		return Rate{}, errorf(ErrOverflow, "rate %s has more than %d integer digits", d.String(), maxRateIntDigits)
	}
	return Rate{d: red}, nil
}

// rateFromParts builds the normalized decimal coeff×10^exp (coeff >= 0).
func rateFromParts(coeff *big.Int, exp int64) Rate {
	var c apd.BigInt
	c.SetMathBigInt(coeff)
	var r Rate
	r.d.Reduce(apd.NewWithBigInt(&c, int32(exp)))
	if r.d.IsZero() {
		r.d = apd.Decimal{}
	}
	return r
}

// parts returns the rate as coeff×10^exp with a fresh coeff.
func (r Rate) parts() (*big.Int, int64) {
	return r.d.Coeff.MathBigInt(), int64(r.d.Exponent)
}

// String formats the rate as a plain decimal without exponent: "0.9213".
func (r Rate) String() string { return r.d.Text('f') }

// Decimal returns a copy of the rate as an apd.Decimal.
func (r Rate) Decimal() *apd.Decimal { return new(apd.Decimal).Set(&r.d) }

// IsZero reports whether the rate is zero (only a zero percentage or the
// zero value).
func (r Rate) IsZero() bool { return r.d.IsZero() }

// Cmp compares two rates by value.
func (r Rate) Cmp(o Rate) int { return r.d.Cmp(&o.d) }

// MarshalText encodes the rate as its plain decimal string, so JSON carries
// it as a string ("0.9213").
func (r Rate) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText parses with ParseRate.
func (r *Rate) UnmarshalText(b []byte) error {
	v, err := ParseRate(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// decimalOf returns v×10^exp as an apd.Decimal.
func decimalOf(v *big.Int, exp int64) *apd.Decimal {
	var c apd.BigInt
	c.SetMathBigInt(v)
	return apd.NewWithBigInt(&c, int32(exp))
}

// Convert multiplies a by r and expresses the result in minor units of
// toScale, rounding toward zero (what the customer receives rounds down).
// remainder is the exact part dropped, in target MAJOR units:
// a×r = out + remainder, with remainder of the same sign as a (>= 0 for
// positive a) and |remainder| below one target minor unit.
//
// Example: 100.00 EUR at 0.9213 USDC per EUR to scale 6 is 92.130000 USDC,
// remainder 0.
func Convert(a Amount, r Rate, toScale int) (out Amount, remainder *apd.Decimal) {
	checkScale(toScale)
	c, e := r.parts()
	num := c.Mul(c, &a.units)
	k := e + int64(toScale) - int64(a.scale)
	if k >= 0 {
		num.Mul(num, pow10(k))
		return Amount{units: *num, scale: toScale}, decimalOf(new(big.Int), -int64(toScale))
	}
	q, rem := new(big.Int).QuoRem(num, pow10(-k), new(big.Int))
	return Amount{units: *q, scale: toScale}, decimalOf(rem, k-int64(toScale))
}

// Divide divides a by r and expresses the result in minor units of toScale,
// rounding toward zero; e.g. fiat to tokens at a price in fiat per token.
// Because a÷r is in general not a finite decimal (1÷3), remainder is
// expressed on the dividend's side, in a's MAJOR units: the exact part of a
// that bought nothing, a = out×r + remainder, with remainder of the same sign
// as a and |remainder| < r×10^-toScale. Divide panics if r is zero (only
// possible with the zero Rate or a zero percentage).
func Divide(a Amount, r Rate, toScale int) (out Amount, remainder *apd.Decimal) {
	checkScale(toScale)
	c, e := r.parts()
	if c.Sign() == 0 {
		panic("money: division by a zero rate")
	}
	// out = a.units×10^(toScale - a.scale - e) / c, truncated.
	n := int64(toScale) - int64(a.scale) - e
	num := new(big.Int).Set(&a.units)
	den := new(big.Int).Set(c)
	if n >= 0 {
		num.Mul(num, pow10(n))
	} else {
		den.Mul(den, pow10(-n))
	}
	q := new(big.Int).Quo(num, den)

	// remainder = a.units×10^-a.scale - q×c×10^(e - toScale), computed at
	// the smaller of the two exponents so both terms are integers.
	ea, eb := -int64(a.scale), e-int64(toScale)
	m := min(ea, eb)
	x := new(big.Int).Mul(&a.units, pow10(ea-m))
	y := new(big.Int).Mul(q, c)
	y.Mul(y, pow10(eb-m))
	return Amount{units: *q, scale: toScale}, decimalOf(x.Sub(x, y), m)
}

// Percent returns the fee a×pct/100 in a's minor units, rounded half-up: a
// tie goes away from zero, so 0.125 becomes 0.13 and -0.125 becomes -0.13.
func Percent(a Amount, pct Rate) Amount {
	c, e := pct.parts()
	num := c.Mul(c, &a.units)
	k := e - 2 // dividing by 100
	if k >= 0 {
		num.Mul(num, pow10(k))
		return Amount{units: *num, scale: a.scale}
	}
	den := pow10(-k)
	q, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	// |rem|×2 >= den means the dropped part is at least half a minor unit.
	if rem.Abs(rem).Lsh(rem, 1).Cmp(den) >= 0 {
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return Amount{units: *q, scale: a.scale}
}
