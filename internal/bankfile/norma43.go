package bankfile

import "io"

// ParseNorma43 parses an AEB Cuaderno 43 (Norma 43) statement file.
func ParseNorma43(r io.Reader) ([]*Statement, error) {
	return nil, &FormatError{Msg: "Norma 43 is not supported yet"}
}
