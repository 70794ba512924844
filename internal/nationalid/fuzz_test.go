package nationalid

import (
	"slices"
	"testing"
)

// FuzzValidate: Validate never panics, and an accepted number is a fixed
// point: validating its Normalized form gives the same result.
func FuzzValidate(f *testing.F) {
	for _, s := range []struct{ c, t, n string }{
		{"ESP", "GOVERNMENT_ID", "ES 10000001-s"},
		{"ESP", "PERMANENT_RESIDENCE_PERMIT", "X0000001R"},
		{"ESP", "PASSPORT", "ABC123456"},
		{"ESP", "CIF", "P1234567D"},
		{"CHL", "RUT", "10.000.013-K"},
		{"MEX", "CURP", "ñaña850615xjcsrt10"},
		{"MEX", "RFC", "GOMA900101AB9"},
		{"MEX", "RFC", "Ñ&A991231XY8"},
		{"COL", "NIT", "900.123.456-8"},
		{"COL", "PASS", "AB12345"},
		{"PER", "DNI", "12345678-E"},
		{"PER", "RUC", "20100000009"},
		{"ARG", "CUIT", "20-12345678-6"},
		{"ARG", "DNI", "1234567"},
	} {
		f.Add(s.c, s.t, s.n)
	}
	f.Fuzz(func(t *testing.T, country, typ, number string) {
		check(t, country, typ, number)
		// Random country/type pairs rarely hit a validator: also try the
		// number against every known pair.
		for key := range validators {
			check(t, key[:3], key[4:], number)
		}
	})
}

func check(t *testing.T, country, typ, number string) {
	res, err := Validate(country, typ, number)
	if err != nil {
		if _, ok := err.(*Error); !ok {
			t.Fatalf("error %T is not *Error", err)
		}
		return
	}
	again, err := Validate(country, typ, res.Normalized)
	if err != nil {
		t.Fatalf("%s/%s: Normalized %q of %q rejected: %v", country, typ, res.Normalized, number, err)
	}
	if again.Normalized != res.Normalized || !slices.Equal(again.Warnings, res.Warnings) {
		t.Fatalf("%s/%s: re-validating %q gave %+v, first %+v", country, typ, res.Normalized, again, res)
	}
}
