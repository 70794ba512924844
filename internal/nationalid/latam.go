package nationalid

import "strings"

// rutCheck: weights 2..7 repeating from the right; r = 11 − sum mod 11,
// 11→0 and 10→K.
func rutCheck(body string) byte {
	sum, w := 0, 2
	for i := len(body) - 1; i >= 0; i-- {
		sum += digitVal(body[i]) * w
		if w++; w > 7 {
			w = 2
		}
	}
	switch r := 11 - sum%11; r {
	case 11:
		return '0'
	case 10:
		return 'K'
	default:
		return byte('0' + r)
	}
}

// validateRUT stores body and check digit without separators, e.g. 12345678K.
// Leading zeros of the body do not change the check digit, so they are
// dropped to give one stored form per RUT.
func validateRUT(n, doc string) (string, []string, error) {
	for len(n) > 1 && n[0] == '0' {
		n = n[1:]
	}
	if len(n) < 8 || len(n) > 9 || !isDigits(n[:len(n)-1]) || !strings.ContainsRune("0123456789K", rune(n[len(n)-1])) {
		return "", nil, formatErr(doc, "must be a 7–8 digit body and a check digit (0–9 or K)")
	}
	if rutCheck(n[:len(n)-1]) != n[len(n)-1] {
		return "", nil, checkErr(doc, "check digit")
	}
	return n, nil, nil
}

var nitWeights = []int{3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71}

// validateNIT: weights from the right; r = sum mod 11; check r if r<2 else
// 11−r. Bodies are 6–15 digits: persons use their cédula (6–10) as NIT.
func validateNIT(n, doc string) (string, []string, error) {
	if !isDigits(n) || len(n) < 7 || len(n) > 16 {
		return "", nil, formatErr(doc, "must be 6 to 15 digits followed by a check digit")
	}
	body := n[:len(n)-1]
	sum := 0
	for i := 0; i < len(body); i++ {
		sum += digitVal(body[len(body)-1-i]) * nitWeights[i]
	}
	r := sum % 11
	if r >= 2 {
		r = 11 - r
	}
	if byte('0'+r) != n[len(n)-1] {
		return "", nil, checkErr(doc, "check digit")
	}
	return n, nil, nil
}

// validatePeruDNI accepts 8 digits plus the optional check character printed
// on the card, and stores the 8 digits only.
func validatePeruDNI(n, doc string) (string, []string, error) {
	if (len(n) != 8 && len(n) != 9) || !isDigits(n[:8]) {
		return "", nil, formatErr(doc, "must be 8 digits, optionally followed by its check character")
	}
	if len(n) == 9 {
		c := weighted(n[:8], []int{3, 2, 7, 6, 5, 4, 3, 2}) % 11
		if n[8] != "65432110987"[c] && n[8] != "KJIHGFEDCBA"[c] {
			return "", nil, checkErr(doc, "check character")
		}
	}
	return n[:8], nil, nil
}

// mod11Check is the Peruvian/Argentine rule: weights 5,4,3,2,7,6,5,4,3,2 over
// the first 10 digits, r = 11 − sum mod 11.
func mod11Check(n string) int {
	return 11 - weighted(n[:10], []int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2})%11
}

func validateRUC(n, doc string) (string, []string, error) {
	if len(n) != 11 || !isDigits(n) {
		return "", nil, formatErr(doc, "must be 11 digits")
	}
	switch n[:2] {
	case "10", "15", "16", "17", "20":
	default:
		return "", nil, formatErr(doc, "must start with 10, 15, 16, 17 or 20")
	}
	r := mod11Check(n) % 10 // 10→0, 11→1
	if byte('0'+r) != n[10] {
		return "", nil, checkErr(doc, "check digit")
	}
	return n, nil, nil
}

func validateCUIT(n, doc string) (string, []string, error) {
	if len(n) != 11 || !isDigits(n) {
		return "", nil, formatErr(doc, "must be 11 digits")
	}
	switch n[:2] {
	case "20", "23", "24", "27", "30", "33", "34":
	default:
		return "", nil, formatErr(doc, "must start with 20, 23, 24, 27, 30, 33 or 34")
	}
	r := mod11Check(n)
	switch r {
	case 11:
		r = 0
	case 10:
		// AFIP never issues these: it changes the prefix instead.
		return "", nil, checkErr(doc, "check digit")
	}
	if byte('0'+r) != n[10] {
		return "", nil, checkErr(doc, "check digit")
	}
	return n, nil, nil
}
