package bankacct

import "testing"

// Each fuzz target checks: no panic, errors are *Error, and an accepted value
// is a fixed point (its normalised form is accepted unchanged).
func fuzzFixedPoint(f *testing.F, fn func(string) (string, error), seeds ...string) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := fn(s)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not *Error", err)
			}
			return
		}
		again, err := fn(got)
		if err != nil || again != got {
			t.Fatalf("normalised %q of %q gave %q, %v", got, s, again, err)
		}
	})
}

func FuzzIBAN(f *testing.F) {
	fuzzFixedPoint(f, IBAN, "ES1221000418461234567890", "es12 2100 0418 4612 3456 7890",
		"GB29NWBK60161331926819", "MT84MALT011000012345MTLCAST001S", "DE24100000001234567890", "")
}

func FuzzCLABE(f *testing.F) {
	fuzzFixedPoint(f, CLABE, "002180000118359710", "014-180-00123456789-7", "00218000011835971")
}

func FuzzCBU(f *testing.F) {
	fuzzFixedPoint(f, CBU, "0110599520000000012346", "28505909 94009004181356", "011059952000000001234X")
}
