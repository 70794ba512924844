package contact

import (
	_ "embed"
	"strings"
	"unicode"
)

//go:embed countries.tsv
var countryTable string

var (
	alpha3To2     = map[string]string{}
	countryByName = map[string]string{} // folded name → alpha-3
	countryName   = map[string]string{} // alpha-3 → ISO English short name
)

func init() {
	for _, line := range strings.Split(countryTable, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			panic("contact: bad countries.tsv line: " + line)
		}
		alpha3To2[f[0]] = f[1]
		countryName[f[0]], _, _ = strings.Cut(f[2], "|")
		for _, n := range strings.Split(f[2], "|") {
			countryByName[foldName(n)] = f[0]
		}
	}
}

// CountryCode accepts an ISO 3166-1 alpha-3 code in any case and returns it
// upper-cased.
func CountryCode(s string) (string, bool) {
	c := strings.ToUpper(strings.TrimSpace(s))
	_, ok := alpha3To2[c]
	if !ok {
		return "", false
	}
	return c, true
}

// Alpha2 maps an alpha-3 code to its alpha-2 code (IBANs and phone regions
// use alpha-2).
func Alpha2(alpha3 string) (string, bool) {
	a2, ok := alpha3To2[strings.ToUpper(strings.TrimSpace(alpha3))]
	return a2, ok
}

// CountryName is the ISO English short name of an alpha-3 code ("ESP" → "Spain").
func CountryName(alpha3 string) (string, bool) {
	n, ok := countryName[strings.ToUpper(strings.TrimSpace(alpha3))]
	return n, ok
}

// CountryByName maps a country name, English or Spanish (ISO short and
// official names plus common aliases such as "EE.UU." or "Holanda"), to its
// alpha-3 code, ignoring case, accents and punctuation. An alpha-3 code is
// accepted as well, since clients sometimes send one in the name field.
func CountryByName(name string) (string, bool) {
	if c, ok := countryByName[foldName(name)]; ok {
		return c, true
	}
	return CountryCode(name)
}

// accentFold strips the diacritics found in Spanish, Portuguese, French,
// German and Nordic country names without pulling in a Unicode normaliser.
var accentFold = strings.NewReplacer(
	"á", "a", "à", "a", "â", "a", "ä", "a", "ã", "a", "å", "a",
	"é", "e", "è", "e", "ê", "e", "ë", "e",
	"í", "i", "ì", "i", "î", "i", "ï", "i",
	"ó", "o", "ò", "o", "ô", "o", "ö", "o", "õ", "o", "ø", "o",
	"ú", "u", "ù", "u", "û", "u", "ü", "u",
	"ñ", "n", "ç", "c", "ý", "y", "ÿ", "y", "æ", "ae", "œ", "oe", "ß", "ss",
	"\u0301", "", "\u0300", "", "\u0302", "", "\u0303", "", "\u0308", "", "\u0327", "",
)

// foldName lower-cases, strips accents, turns '-', '_' and whitespace into
// single spaces and drops other punctuation, so "EE.UU." equals "eeuu" and
// "Côte d'Ivoire" equals "cote divoire".
func foldName(s string) string {
	s = accentFold.Replace(strings.ToLower(s))
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		case unicode.IsSpace(r) || r == '-' || r == '_':
			space = true
		}
	}
	return b.String()
}
