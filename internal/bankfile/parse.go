package bankfile

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/pocketramp/pocketramp/internal/bankacct"
)

// Format families returned by Detect.
const (
	FormatCAMT = "camt" // ISO 20022 camt.052, camt.053 or camt.054 (XML)
)

// ParseOptions says what a file cannot say about itself.
type ParseOptions struct {
	// Account is the account a CSV export belongs to (an IBAN or another
	// account id): CSV exports do not name it. The other formats name their
	// account(s) themselves.
	Account string
	// CSV is the column mapping of a CSV export; nil means SpanishBankCSV.
	CSV *CSVMapping
}

var (
	// An MT940 statement has a ":20:" transaction reference and a ":25:"
	// account line, each at the start of a line, possibly after a SWIFT
	// "{4:" block opener.
	mt940Tag20 = regexp.MustCompile(`(?m)^(\{4:\s*)?:20:`)
	mt940Tag25 = regexp.MustCompile(`(?m)^:25[P]?:`)
	// A Norma 43 file starts with a record 11 (account header): "11", bank
	// and branch (8 digits), account (10 digits), two dates YYMMDD.
	norma43Header = regexp.MustCompile(`^11\d{18}\d{12}`)
)

// Detect names the format of a bank file from its content: FormatCAMT for
// XML, FormatMT940, FormatNorma43, and FormatCSV for any other text (CSV
// exports have no signature; the mapping decides).
func Detect(raw []byte) string {
	b := bytes.TrimLeft(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")), " \t\r\n")
	switch {
	case bytes.HasPrefix(b, []byte("<")):
		return FormatCAMT
	case norma43Header.Match(b):
		return FormatNorma43
	}
	head := b
	if len(head) > 64<<10 {
		head = head[:64<<10]
	}
	if mt940Tag20.Match(head) && mt940Tag25.Match(head) {
		return FormatMT940
	}
	return FormatCSV
}

// Parse reads a bank file of any supported format, detected from its
// content (see Detect), into its statements. A malformed file is refused
// whole with a *FormatError naming the element (XML) or line.
func Parse(raw []byte, opt ParseOptions) ([]*Statement, error) {
	if len(bytes.TrimSpace(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")))) == 0 {
		return nil, &FormatError{Msg: "the file is empty"}
	}
	switch Detect(raw) {
	case FormatCAMT:
		return ParseCAMT(bytes.NewReader(raw))
	case FormatMT940:
		return ParseMT940(bytes.NewReader(raw))
	case FormatNorma43:
		return ParseNorma43(bytes.NewReader(raw))
	}
	m := SpanishBankCSV()
	if opt.CSV != nil {
		m = *opt.CSV
	}
	st, err := ParseCSV(bytes.NewReader(raw), m, opt.Account)
	if err != nil {
		return nil, err
	}
	return []*Statement{st}, nil
}

// accountOf reads an account id given by the operator (CSV imports): an
// IBAN when it looks like one (two letters, two digits), which must then be
// valid; anything else is another account id (CLABE, CBU, local number).
func accountOf(id string) (Account, error) {
	c := compactIBAN(id)
	if len(c) >= 4 && isLetter(c[0]) && isLetter(c[1]) && isDigit(c[2]) && isDigit(c[3]) {
		iban, err := bankacct.IBAN(c)
		if err != nil {
			return Account{}, fmt.Errorf("account IBAN %q: %v", id, err)
		}
		return Account{IBAN: iban}, nil
	}
	other := compactID(id)
	if other == "" {
		return Account{}, fmt.Errorf("the account id is empty")
	}
	if strings.ContainsAny(other, "\x00\r\n") {
		return Account{}, fmt.Errorf("account id %q is not valid", id)
	}
	return Account{Other: other}, nil
}

func isLetter(b byte) bool { return b >= 'A' && b <= 'Z' }
func isDigit(b byte) bool  { return b >= '0' && b <= '9' }
