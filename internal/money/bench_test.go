package money

import "testing"

func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"EUR", "240.50"},
		{"token18", "115792089237316195423570985008687907853269984665640564039457.584007913129639935"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Parse(bc.in, 18, ParseOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkConvert(b *testing.B) {
	a := MustParse("1234.567891", 6)
	r := mustRate(b, "0.92130000")
	for b.Loop() {
		Convert(a, r, 2)
	}
}

func BenchmarkDivide(b *testing.B) {
	a := MustParse("240.00", 2)
	r := mustRate(b, "2450.12")
	for b.Loop() {
		Divide(a, r, 18)
	}
}
