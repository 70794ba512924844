package bankfile

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// maxTextFile bounds the line-based formats (MT940, Norma 43), which are read
// whole: a year of daily statements of a busy account is a few MB.
const maxTextFile = 256 << 20

// readTextLines reads a line-based bank file as text lines without their
// terminators (LF, CRLF or CR). A file that is not valid UTF-8 is read as
// ISO-8859-1, the encoding of most Spanish and German exports (every byte is
// a character, so nothing is lost or refused).
func readTextLines(r io.Reader) ([]string, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxTextFile+1))
	if err != nil {
		return nil, &FormatError{Msg: "cannot read: " + err.Error()}
	}
	if len(b) > maxTextFile {
		return nil, &FormatError{Msg: fmt.Sprintf("file is larger than %d MB", maxTextFile>>20)}
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	var s string
	if utf8.Valid(b) {
		s = string(b)
	} else {
		var sb strings.Builder
		sb.Grow(len(b) + len(b)/8)
		for _, c := range b {
			sb.WriteRune(rune(c))
		}
		s = sb.String()
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Split(s, "\n"), nil
}

// lineErr is a FormatError at a 1-based line of a text file; what names the
// field or record ("record 22", ":61:").
func lineErr(line int, what, format string, args ...any) *FormatError {
	return &FormatError{Path: what, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// yymmdd reads a 6-digit date. Two-digit years are 1980–2079: SWIFT and AEB
// files from before 1980 do not exist electronically.
func yymmdd(s string) (time.Time, bool) {
	if len(s) != 6 || !allDigits(s) {
		return time.Time{}, false
	}
	y := int(s[0]-'0')*10 + int(s[1]-'0')
	if y < 80 {
		y += 2000
	} else {
		y += 1900
	}
	return dateOf(y, s[2:4], s[4:6])
}

func dateOf(y int, mm, dd string) (time.Time, bool) {
	if !allDigits(mm) || !allDigits(dd) {
		return time.Time{}, false
	}
	m := int(mm[0]-'0')*10 + int(mm[1]-'0')
	d := int(dd[0]-'0')*10 + int(dd[1]-'0')
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Month() != time.Month(m) || t.Day() != d || m == 0 || d == 0 {
		return time.Time{}, false
	}
	return t, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
