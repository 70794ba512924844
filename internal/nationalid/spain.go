package nationalid

import "strings"

const dniLetters = "TRWAGMYFPDXBNJZSQVHLCKE"

// dniLetter is the check letter of an 8-digit number (n mod 23).
func dniLetter(digits string) byte {
	n := 0
	for i := 0; i < len(digits); i++ {
		n = (n*10 + digitVal(digits[i])) % 23
	}
	return dniLetters[n]
}

func validateDNI(n, doc string) (string, []string, error) {
	if len(n) != 9 || !isDigits(n[:8]) || !isLetter(rune(n[8])) {
		return "", nil, formatErr(doc, "must be 8 digits followed by a letter")
	}
	if dniLetter(n[:8]) != n[8] {
		return "", nil, checkErr(doc, "check letter")
	}
	return n, nil, nil
}

// validateNIE maps the X/Y/Z prefix to 0/1/2 and applies the DNI rule.
func validateNIE(n, doc string) (string, []string, error) {
	if len(n) != 9 || strings.IndexByte("XYZ", n[0]) < 0 || !isDigits(n[1:8]) || !isLetter(rune(n[8])) {
		return "", nil, formatErr(doc, "must be X, Y or Z, 7 digits and a letter")
	}
	prefix := string(rune('0' + strings.IndexByte("XYZ", n[0])))
	if dniLetter(prefix+n[1:8]) != n[8] {
		return "", nil, checkErr(doc, "check letter")
	}
	return n, nil, nil
}

// validateESPassport is format only: Spain publishes no passport checksum.
func validateESPassport(n, doc string) (string, []string, error) {
	if len(n) != 9 || !allOf(n[:3], isLetter) || !isDigits(n[3:]) {
		return "", nil, formatErr(doc, "must be 3 letters followed by 6 digits")
	}
	return n, nil, nil
}

const (
	cifOrgLetters     = "ABCDEFGHJNPQRSUVW"
	cifControlLetters = "JABCDEFGHI"
)

// cifControl is D = (10 − (A+B) mod 10) mod 10 over the 7 digits, where A
// sums the even positions and B the digit sums of twice the odd ones.
func cifControl(digits string) int {
	sum := 0
	for i := 0; i < 7; i++ {
		d := digitVal(digits[i])
		if i%2 == 1 { // positions 2, 4, 6
			sum += d
		} else { // positions 1, 3, 5, 7
			sum += (2*d)/10 + (2*d)%10
		}
	}
	return (10 - sum%10) % 10
}

func validateCIF(n, doc string) (string, []string, error) {
	if len(n) != 9 || strings.IndexByte(cifOrgLetters, n[0]) < 0 || !isDigits(n[1:8]) {
		return "", nil, formatErr(doc, "must be an organisation letter (%s), 7 digits and a control character", cifOrgLetters)
	}
	c := n[8]
	isDigitCtl := isDigit(rune(c))
	if !isDigitCtl && strings.IndexByte(cifControlLetters, c) < 0 {
		return "", nil, formatErr(doc, "control character must be a digit or a letter A–J")
	}
	// The letter rule is checked first, so an A/B/E/H entity with province
	// 00 (non-resident) needs the letter form too.
	switch {
	case strings.IndexByte("PQRSNW", n[0]) >= 0 && isDigitCtl:
		return "", nil, formatErr(doc, "of organisation type %c must end in a control letter", n[0])
	case n[1:3] == "00" && isDigitCtl:
		return "", nil, formatErr(doc, "with province code 00 must end in a control letter")
	case strings.IndexByte("ABEH", n[0]) >= 0 && n[1:3] != "00" && !isDigitCtl:
		return "", nil, formatErr(doc, "of organisation type %c must end in a control digit", n[0])
	}
	d := cifControl(n[1:8])
	if (isDigitCtl && c != byte('0'+d)) || (!isDigitCtl && c != cifControlLetters[d]) {
		return "", nil, checkErr(doc, "control character")
	}
	return n, nil, nil
}
