package api_test

// Test vectors for identification numbers, built from the rules in
// shared/reference/identifiers.md by an implementation independent of internal/nationalid:
// compute the check character of a made-up body, then break one character for the invalid case.

import (
	"fmt"
	"strings"
)

const dniLetters = "TRWAGMYFPDXBNJZSQVHLCKE"

func dni(n int) string { return fmt.Sprintf("%08d%c", n, dniLetters[n%23]) }

func nie(prefix byte, n int) string {
	full := int(prefix-'X')*10000000 + n
	return fmt.Sprintf("%c%07d%c", prefix, n, dniLetters[full%23])
}

func cif(org byte, digits string) string {
	a, b := 0, 0
	for i, c := range digits {
		d := int(c - '0')
		if i%2 == 1 {
			a += d
		} else {
			x := 2 * d
			b += x/10 + x%10
		}
	}
	d := (10 - (a+b)%10) % 10
	if strings.IndexByte("PQRSNW", org) >= 0 {
		return fmt.Sprintf("%c%s%c", org, digits, "JABCDEFGHI"[d])
	}
	return fmt.Sprintf("%c%s%d", org, digits, d)
}

func rut(body int) string {
	sum, w := 0, 2
	for n := body; n > 0; n /= 10 {
		sum += (n % 10) * w
		if w++; w > 7 {
			w = 2
		}
	}
	r := 11 - sum%11
	check := fmt.Sprint(r)
	switch r {
	case 11:
		check = "0"
	case 10:
		check = "K"
	}
	return fmt.Sprintf("%d-%s", body, check)
}

func curpValue(c rune) int {
	if c >= '0' && c <= '9' {
		return int(c - '0')
	}
	for i, l := range []rune("ABCDEFGHIJKLMNÑOPQRSTUVWXYZ") {
		if l == c {
			return 10 + i
		}
	}
	return -1
}

func curp(body17 string) string {
	sum := 0
	for i, c := range []rune(body17) {
		sum += curpValue(c) * (18 - i)
	}
	return fmt.Sprintf("%s%d", body17, (10-sum%10)%10)
}

func rfcValue(c rune) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'N':
		return 10 + int(c-'A')
	case c == '&':
		return 24
	case c >= 'O' && c <= 'Z':
		return 25 + int(c-'O')
	case c == ' ':
		return 37
	case c == 'Ñ':
		return 38
	}
	return 0
}

func rfc(body string) string {
	padded := []rune(body)
	if len(padded) == 11 {
		padded = append([]rune{' '}, padded...)
	}
	sum := 0
	for i, c := range padded {
		sum += rfcValue(c) * (13 - i)
	}
	r := sum % 11
	switch r {
	case 0:
		return body + "0"
	case 1:
		return body + "A"
	}
	return body + fmt.Sprint(11-r)
}

func weighted(digits string, weights []int) int {
	sum := 0
	for i, c := range digits {
		sum += int(c-'0') * weights[i]
	}
	return sum
}

func nit(body string) string {
	weights := []int{3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71}
	sum := 0
	for i := range body {
		sum += int(body[len(body)-1-i]-'0') * weights[i]
	}
	r := sum % 11
	if r >= 2 {
		r = 11 - r
	}
	return fmt.Sprintf("%s-%d", body, r)
}

func ruc(body10 string) string {
	r := 11 - weighted(body10, []int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2})%11
	switch r {
	case 10:
		r = 0
	case 11:
		r = 1
	}
	return fmt.Sprintf("%s%d", body10, r)
}

// cuit returns a valid CUIT for a 10-digit body, or "" when the check would be 10 (never issued).
func cuit(body10 string) string {
	r := 11 - weighted(body10, []int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2})%11
	switch r {
	case 11:
		r = 0
	case 10:
		return ""
	}
	return fmt.Sprintf("%s%d", body10, r)
}

// breakLast changes the last character to another valid-looking one.
func breakLast(s string) string {
	r := []rune(s)
	last := r[len(r)-1]
	switch {
	case last >= '0' && last <= '8':
		r[len(r)-1] = last + 1
	case last == '9':
		r[len(r)-1] = '0'
	case last >= 'A' && last < 'Z':
		r[len(r)-1] = last + 1
	default:
		r[len(r)-1] = 'A'
	}
	return string(r)
}

type idCase struct {
	country, idType, valid, invalid string
	company                         bool
}

func idCases() []idCase {
	cuitBody := "2012345678"
	for i := 0; cuit(cuitBody) == ""; i++ {
		cuitBody = fmt.Sprintf("20%08d", 12345678+i)
	}
	return []idCase{
		{"ESP", "GOVERNMENT_ID", dni(12345678), breakLast(dni(12345678)), false},
		{"ESP", "PERMANENT_RESIDENCE_PERMIT", nie('Y', 1234567), breakLast(nie('Y', 1234567)), false},
		{"ESP", "PASSPORT", "ABC123456", "AB1234567", false},
		{"ESP", "CIF", cif('B', "1234567"), breakLast(cif('B', "1234567")), true},
		{"CHL", "RUT", rut(12345678), breakLast(rut(12345678)), false},
		{"MEX", "CURP", curp("GOMA850101HDFRRN0"), breakLast(curp("GOMA850101HDFRRN0")), false},
		{"MEX", "RFC", rfc("ABC850101AB"), "ABC8501X1AB1", true},
		{"COL", "CED_CIU", "1234567890", "12345", false},
		{"COL", "CED_EXT", "654321", "12AB34", false},
		{"COL", "TI", "1234567890", "123456789", false},
		{"COL", "NUIP", "12345678901", "123", false},
		{"COL", "TE", "9876543", "98765432101", false},
		{"COL", "PPT", "1234567", "123456", false},
		{"COL", "PASS", "AB12345", "AB1", false},
		{"COL", "PEP", "123456789012345", "12345678901234", false},
		{"COL", "RC", "1234567890", "12345678", false},
		{"COL", "NIT", nit("900123456"), breakLast(nit("900123456")), true},
		{"PER", "DNI", "12345678", "1234567", false},
		{"PER", "CE", "001234567", "12-34", false},
		{"PER", "RUC", ruc("2012345678"), breakLast(ruc("2012345678")), true},
		{"ARG", "DNI", "30123456", "123456", false},
		{"ARG", "CUIT", cuit(cuitBody), breakLast(cuit(cuitBody)), false},
	}
}
