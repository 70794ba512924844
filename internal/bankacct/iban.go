package bankacct

import "strings"

// ibanLength is the fixed IBAN length per country, from the SWIFT IBAN
// registry (all SEPA members plus the other registered countries).
var ibanLength = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
	"BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
	"DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
	"FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
	"GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
	"IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
	"LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
	"MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
	"PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
	"SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
	"SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
	"YE": 30,
}

// sepaAlpha3 maps the SEPA countries (EEA plus CH, GB, GI, MC, SM, VA, AD) to
// their alpha-2 codes. Customers are stored with alpha-3 codes; IBANs carry
// alpha-2.
var sepaAlpha3 = map[string]string{
	"AND": "AD", "AUT": "AT", "BEL": "BE", "BGR": "BG", "CHE": "CH", "CYP": "CY",
	"CZE": "CZ", "DEU": "DE", "DNK": "DK", "EST": "EE", "ESP": "ES", "FIN": "FI",
	"FRA": "FR", "GBR": "GB", "GIB": "GI", "GRC": "GR", "HRV": "HR", "HUN": "HU",
	"IRL": "IE", "ISL": "IS", "ITA": "IT", "LIE": "LI", "LTU": "LT", "LUX": "LU",
	"LVA": "LV", "MCO": "MC", "MLT": "MT", "NLD": "NL", "NOR": "NO", "POL": "PL",
	"PRT": "PT", "ROU": "RO", "SWE": "SE", "SVN": "SI", "SVK": "SK", "SMR": "SM",
	"VAT": "VA",
}

var sepaAlpha2 = func() map[string]bool {
	m := map[string]bool{}
	for _, a2 := range sepaAlpha3 {
		m[a2] = true
	}
	return m
}()

// IsSEPA reports whether the alpha-2 country code is in the SEPA scheme area.
func IsSEPA(countryAlpha2 string) bool {
	return sepaAlpha2[strings.ToUpper(strings.TrimSpace(countryAlpha2))]
}

// mod97 computes the ISO 7064 MOD 97-10 remainder of an IBAN rearranged with
// its first four characters at the end and letters as 10..35, digit by digit
// so no big integers are needed.
func mod97(iban string) int {
	r := 0
	for _, c := range iban[4:] + iban[:4] {
		if c >= 'A' {
			r = (r*100 + int(c-'A') + 10) % 97
		} else {
			r = (r*10 + int(c-'0')) % 97
		}
	}
	return r
}

// IBAN checks an ISO 13616 IBAN: known country, its fixed length, mod 97 = 1,
// and for Spain the CCC control digits. Spaces are dropped; anything else
// (dashes, an "IBAN" prefix) is refused so the stored value is unambiguous.
func IBAN(s string) (string, error) {
	b := compact(s, false)
	if len(b) < 4 {
		return "", errf(ErrLength, "IBAN is too short")
	}
	if !isAlnum(b) {
		return "", errf(ErrFormat, "IBAN must contain only letters and digits")
	}
	cc := b[:2]
	if !isLetters(cc) || !isDigits(b[2:4]) {
		return "", errf(ErrFormat, "IBAN must start with a 2-letter country code and 2 check digits")
	}
	want, ok := ibanLength[cc]
	if !ok {
		return "", errf(ErrCountry, "IBAN country code %s is not an IBAN country", cc)
	}
	if len(b) != want {
		return "", errf(ErrLength, "IBAN for country %s must be %d characters, got %d", cc, want, len(b))
	}
	if mod97(b) != 1 {
		return "", errf(ErrChecksum, "IBAN check digits are wrong (mod 97)")
	}
	if cc == "ES" {
		if err := spanishCCC(b[4:]); err != nil {
			return "", err
		}
	}
	return b, nil
}

var cccWeights = []int{1, 2, 4, 8, 5, 10, 9, 7, 3, 6}

// cccDigit is 11 − (Σ dᵢ·wᵢ mod 11), with 11→0 and 10→1.
func cccDigit(ten string) byte {
	sum := 0
	for i := 0; i < 10; i++ {
		sum += int(ten[i]-'0') * cccWeights[i]
	}
	switch d := 11 - sum%11; d {
	case 11:
		return '0'
	case 10:
		return '1'
	default:
		return byte('0' + d)
	}
}

// spanishCCC checks the two control digits of a Spanish BBAN
// (bank 4, branch 4, control 2, account 10). An IBAN generated from a
// mistyped CCC passes mod 97, since its check digits were computed after the
// typo, but names no real account.
func spanishCCC(bban string) error {
	if !isDigits(bban) {
		return errf(ErrFormat, "Spanish IBAN must have only digits after the check digits")
	}
	if cccDigit("00"+bban[:8]) != bban[8] {
		return errf(ErrChecksum, "Spanish IBAN control digit for bank and branch (position 13) is wrong")
	}
	if cccDigit(bban[10:]) != bban[9] {
		return errf(ErrChecksum, "Spanish IBAN control digit for the account number (position 14) is wrong")
	}
	return nil
}
