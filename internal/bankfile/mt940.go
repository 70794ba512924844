package bankfile

import "io"

// ParseMT940 parses a SWIFT MT940 customer statement file.
func ParseMT940(r io.Reader) ([]*Statement, error) {
	return nil, &FormatError{Msg: "MT940 is not supported yet"}
}
