package bankacct

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
)

// Vectors are made-up accounts whose check digits were computed from the
// rules (by a separate script, and again by the helpers below); the others are
// the public specimen IBANs of the IBAN registry. No real customer's account.

type tc struct {
	name string
	in   string
	want string
	err  error
}

func run(t *testing.T, fn func(string) (string, error), cases []tc) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := fn(c.in)
			if c.err != nil {
				var e *Error
				if !errors.Is(err, c.err) || !errors.As(err, &e) || e.Msg == "" {
					t.Fatalf("(%q) = %q, %v; want error %v", c.in, got, err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
		})
	}
}

func TestIBAN(t *testing.T) {
	run(t, IBAN, []tc{
		{"ES", "ES1221000418461234567890", "ES1221000418461234567890", nil},
		{"ES printed", "es12 2100 0418 4612 3456 7890", "ES1221000418461234567890", nil},
		{"ES ccc 11→0", "ES4400491500050000000001", "ES4400491500050000000001", nil},
		{"ES third", "ES2899998888807777777777", "ES2899998888807777777777", nil},
		{"DE", "DE23100000001234567890", "DE23100000001234567890", nil},
		{"FR", "FR76 3000 6000 0112 3456 7890 189", "FR7630006000011234567890189", nil},
		{"NL", "NL02ABNA0123456789", "NL02ABNA0123456789", nil},
		{"BE", "BE53123456789012", "BE53123456789012", nil},
		{"GB", "GB29NWBK60161331926819", "GB29NWBK60161331926819", nil},
		{"PT", "PT35000200000000000000001", "PT35000200000000000000001", nil},
		{"IT", "IT60X0542811101000000123456", "IT60X0542811101000000123456", nil},
		{"AT", "AT611904300234573201", "AT611904300234573201", nil},
		{"CH", "CH9300762011623852957", "CH9300762011623852957", nil},
		{"LU", "LU280019400644750000", "LU280019400644750000", nil},
		{"IE", "IE29AIBK93115212345678", "IE29AIBK93115212345678", nil},
		{"NO shortest", "NO9386011117947", "NO9386011117947", nil},
		{"MT longest SEPA", "MT84MALT011000012345MTLCAST001S", "MT84MALT011000012345MTLCAST001S", nil},
		{"BR non-SEPA", "BR9700360305000010009795493P1", "BR9700360305000010009795493P1", nil},
		{"tab and newline", "\tSE45 5000 0000 0583 9825 7466\n", "SE4550000000058398257466", nil},
		{"ES bad bank control", "ES7421000418451234567890", "", ErrChecksum},
		{"ES bad account control", "ES" + ibanCheck("ES", "21000418471234567890") + "21000418471234567890", "", ErrChecksum},
		{"ES letter in BBAN", "ES" + ibanCheck("ES", "2100041846123456789A") + "2100041846123456789A", "", ErrFormat},
		{"broken digit", "ES1221000418461234567891", "", ErrChecksum},
		{"wrong check digits", "DE24100000001234567890", "", ErrChecksum},
		{"swapped digits", "GB29NWBK60161331926891", "", ErrChecksum},
		{"too long", "DE231000000012345678900", "", ErrLength},
		{"too short", "NL02ABNA012345678", "", ErrLength},
		{"unknown country", "US12345678901234567890", "", ErrCountry},
		{"dashes", "ES12-2100-0418-4612-3456-7890", "", ErrFormat},
		{"iban prefix", "IBAN ES1221000418461234567890", "", ErrFormat},
		{"digits country", "1212345678901234", "", ErrFormat},
		{"letters check", "DEAB100000001234567890", "", ErrFormat},
		{"empty", "", "", ErrLength},
		{"unicode", "DE23１00000001234567890", "", ErrFormat},
	})
}

func TestIBANLengthsAndSEPA(t *testing.T) {
	want := map[string]int{"ES": 24, "PT": 25, "FR": 27, "DE": 22, "IT": 27, "NL": 18, "BE": 16, "AT": 20, "IE": 22, "GB": 22, "CH": 21, "LU": 20}
	for cc, n := range want {
		if ibanLength[cc] != n {
			t.Errorf("length %s = %d, want %d", cc, ibanLength[cc], n)
		}
	}
	sepa := strings.Fields("AD AT BE BG CH CY CZ DE DK EE ES FI FR GB GI GR HR HU IE IS IT LI LT LU LV MC MT NL NO PL PT RO SE SI SK SM VA")
	for _, cc := range sepa {
		if !IsSEPA(cc) {
			t.Errorf("IsSEPA(%s) = false", cc)
		}
		if ibanLength[cc] == 0 {
			t.Errorf("no IBAN length for SEPA country %s", cc)
		}
		// Every SEPA country accepts a valid IBAN of its length.
		bban := strings.Repeat("1", ibanLength[cc]-4)
		if cc == "ES" {
			bban = "99998888807777777777"
		}
		if _, err := IBAN(cc + ibanCheck(cc, bban) + bban); err != nil {
			t.Errorf("IBAN for %s: %v", cc, err)
		}
	}
	if len(sepaAlpha2) != len(sepa) {
		t.Errorf("%d SEPA countries, want %d", len(sepaAlpha2), len(sepa))
	}
	for _, cc := range []string{"US", "BR", "TR", "MX", "", "es "} {
		if IsSEPA(cc) != (cc == "es ") {
			t.Errorf("IsSEPA(%q) wrong", cc)
		}
	}
}

func TestBIC(t *testing.T) {
	run(t, BIC, []tc{
		{"8", "DEUTDEFF", "DEUTDEFF", nil},
		{"11", "deutdeff500", "DEUTDEFF500", nil},
		{"spaces", " CAIX ES BB XXX ", "CAIXESBBXXX", nil},
		{"digit location", "BSCHESM1", "BSCHESM1", nil},
		{"9", "DEUTDEFF5", "", ErrLength},
		{"12", "DEUTDEFF5000", "", ErrLength},
		{"digit bank", "DEU1DEFF", "", ErrFormat},
		{"digit country", "DEUTD3FF", "", ErrFormat},
		{"symbol branch", "DEUTDEFF50*", "", ErrFormat},
		{"empty", "", "", ErrLength},
	})
}

func TestCLABE(t *testing.T) {
	run(t, CLABE, []tc{
		{"valid", "002180000118359710", "002180000118359710", nil},
		{"valid 2", "014180001234567897", "014180001234567897", nil},
		{"spaced", "123 456 78901234567 3", "123456789012345673", nil},
		{"dashed", "014-180-00123456789-7", "014180001234567897", nil},
		{"wrong check", "002180000118359711", "", ErrChecksum},
		{"broken digit", "002180000118359810", "", ErrChecksum},
		{"17", "00218000011835971", "", ErrLength},
		{"19", "0021800001183597100", "", ErrLength},
		{"letter", "00218000011835971A", "", ErrFormat},
		{"empty", "", "", ErrLength},
	})
}

func TestCBU(t *testing.T) {
	run(t, CBU, []tc{
		{"valid", "0110599520000000012346", "0110599520000000012346", nil},
		{"valid 2", "0000003110000000001239", "0000003110000000001239", nil},
		{"spaced", "28505909 94009004181356", "2850590994009004181356", nil},
		{"block 1 check", "0110599420000000012346", "", ErrChecksum},
		{"block 1 digit", "0110598520000000012346", "", ErrChecksum},
		{"block 2 check", "0110599520000000012345", "", ErrChecksum},
		{"block 2 digit", "0110599520000000022346", "", ErrChecksum},
		{"21", "011059952000000001234", "", ErrLength},
		{"letter", "011059952000000001234X", "", ErrFormat},
	})
}

func TestLocal(t *testing.T) {
	for _, c := range []struct {
		country, in, want string
		err               error
	}{
		{"ESP", "ES12 2100 0418 4612 3456 7890", "ES1221000418461234567890", nil},
		{"ESP", "DE23100000001234567890", "DE23100000001234567890", nil}, // any SEPA IBAN
		{"esp", "GB29NWBK60161331926819", "GB29NWBK60161331926819", nil},
		{"FRA", "FR7630006000011234567890189", "FR7630006000011234567890189", nil},
		{"ESP", "BR9700360305000010009795493P1", "", ErrCountry},
		{"ESP", "ES1221000418461234567891", "", ErrChecksum},
		{"ESP", "002180000118359710", "", ErrFormat},
		{"MEX", "002180000118359710", "002180000118359710", nil},
		{"MEX", "002180000118359711", "", ErrChecksum},
		{"ARG", "0110599520000000012346", "0110599520000000012346", nil},
		{"ARG", "0110599520000000012345", "", ErrChecksum},
		{"PER", "00219300123456789012", "00219300123456789012", nil},
		{"PER", "002-193-00123456789012", "00219300123456789012", nil},
		{"PER", "0021930012345678901", "", ErrLength},
		{"PER", "0021930012345678901A", "", ErrFormat},
		{"CHL", "00-123-45678-09", "001234567809", nil},
		{"CHL", "12345", "", ErrLength},
		{"COL", "123456789012345678901", "", ErrLength},
		{"COL", "4567 8901 2345", "456789012345", nil},
		{"COL", "4567ABC", "", ErrFormat},
		{"COL", "", "", ErrFormat},
		{"BRA", "BR9700360305000010009795493P1", "BR9700360305000010009795493P1", nil},
		{"USA", "123456789", "", ErrCountry},
		{"TUR", "TR00123", "", ErrLength},
	} {
		got, err := Local(c.country, c.in)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("Local(%q,%q) = %q, %v; want %v", c.country, c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("Local(%q,%q) = %q, %v; want %q", c.country, c.in, got, err, c.want)
		}
	}
}

func TestErrorMessages(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{second(IBAN("DE231000000012345678900")), "IBAN for country DE must be 22 characters, got 23"},
		{second(IBAN("DE24100000001234567890")), "IBAN check digits are wrong (mod 97)"},
		{second(CLABE("002180000118359711")), "CLABE check digit is wrong"},
		{second(BIC("DEU1DEFF")), "BIC bank code (characters 1–4) must be letters"},
	} {
		if c.err == nil || c.err.Error() != c.want {
			t.Errorf("error %v, want %q", c.err, c.want)
		}
	}
}

func second(_ string, err error) error { return err }

// ibanCheck computes the two IBAN check digits with math/big, independently
// of the package's digit-by-digit mod97.
func ibanCheck(cc, bban string) string {
	var sb strings.Builder
	for _, c := range bban + cc + "00" {
		if c >= 'A' && c <= 'Z' {
			fmt.Fprint(&sb, int(c-'A')+10)
		} else {
			sb.WriteRune(c)
		}
	}
	n, _ := new(big.Int).SetString(sb.String(), 10)
	return fmt.Sprintf("%02d", 98-new(big.Int).Mod(n, big.NewInt(97)).Int64())
}

// Generated accounts: valid when completed by the helpers, rejected when
// their last check digit is changed.
func TestGenerated(t *testing.T) {
	mod10 := func(d string, w []int) string {
		s := 0
		for i, c := range d {
			s += int(c-'0') * w[i%len(w)]
		}
		return fmt.Sprint((10 - s%10) % 10)
	}
	bump := func(s string) string {
		last := s[len(s)-1]
		return s[:len(s)-1] + string(rune('0'+(last-'0'+1)%10))
	}
	for i := range 300 {
		body := fmt.Sprintf("%017d", uint64(i)*982451653%100000000000000000)
		clabe := body + mod10(body, []int{3, 7, 1})
		b1, b2 := body[:7], body[4:17]
		cbu := b1 + mod10(b1, []int{7, 1, 3, 9, 7, 1, 3}) + b2 + mod10(b2, []int{3, 9, 7, 1, 3, 9, 7, 1, 3, 9, 7, 1, 3})
		bban := body[:16]
		de := "DE" + ibanCheck("DE", bban+"00") + bban + "00"
		for name, v := range map[string]struct {
			fn func(string) (string, error)
			s  string
		}{"CLABE": {CLABE, clabe}, "CBU": {CBU, cbu}, "IBAN": {IBAN, de}} {
			if _, err := v.fn(v.s); err != nil {
				t.Fatalf("%s %s: %v", name, v.s, err)
			}
			if _, err := v.fn(bump(v.s)); !errors.Is(err, ErrChecksum) {
				t.Fatalf("%s %s accepted with a wrong check digit", name, bump(v.s))
			}
		}
	}
}
