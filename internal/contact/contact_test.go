package contact

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestEmail(t *testing.T) {
	long := strings.Repeat("a", 64)
	for _, c := range []struct{ in, want string }{
		{"user@example.com", "user@example.com"},
		{"  User.Name+tag@Example.COM \n", "User.Name+tag@example.com"},
		{"a@b.co", "a@b.co"},
		{"o'brien@mail.example.es", "o'brien@mail.example.es"},
		{"x@xn--espaa-rta.es", "x@xn--espaa-rta.es"},
		{"josé@example.es", "josé@example.es"},
		{long + "@example.com", long + "@example.com"},
		{"a@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 63) + "." + strings.Repeat("e", 56) + ".com", ""}, // 254 chars, see below
		{"", "!"},
		{"   ", "!"},
		{"plainaddress", "!"},
		{"a@@example.com", "!"},
		{"a@b@example.com", "!"},
		{"@example.com", "!"},
		{"user@", "!"},
		{"user@localhost", "!"},
		{"user@example.", "!"},
		{"user@.example.com", "!"},
		{"user@exa_mple.com", "!"},
		{"user@-example.com", "!"},
		{"user@example-.com", "!"},
		{"user@1.2.3.4", "!"},
		{"user@[1.2.3.4]", "!"},
		{"user@example.c", "!"},
		{"user@españa.es", "!"},
		{"John <john@example.com>", "!"},
		{"<john@example.com>", "!"},
		{"john@example.com (John)", "!"},
		{`"john doe"@example.com`, "!"},
		{`"john"@example.com`, "!"},
		{"john doe@example.com", "!"},
		{"john@exa mple.com", "!"},
		{".john@example.com", "!"},
		{"john.@example.com", "!"},
		{"jo..hn@example.com", "!"},
		{"john\x00@example.com", "!"},
		{long + "a@example.com", "!"},
		{"a@" + strings.Repeat("b", 250) + ".com", "!"},
		{"user@example\u212a.com", "!"}, // Kelvin sign must not fold to k
	} {
		got, err := Email(c.in)
		switch {
		case c.want == "!":
			if err == nil || !errors.Is(err, ErrInvalid) {
				t.Errorf("Email(%q) = %q, %v; want error", c.in, got, err)
			}
		case c.want == "":
			if len(c.in) != 254 || err != nil {
				t.Errorf("Email(254 chars, len %d) = %v", len(c.in), err)
			}
			if _, err := Email("a" + c.in); err == nil {
				t.Errorf("Email(255 chars) accepted")
			}
		case err != nil || got != c.want:
			t.Errorf("Email(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	var e *Error
	if _, err := Email("x"); !errors.As(err, &e) || e.Field != "email" {
		t.Errorf("error %v has no email field", err)
	}
}

func TestDisposable(t *testing.T) {
	for in, want := range map[string]bool{
		"someone@mailinator.com":        true,
		"someone@MAILINATOR.COM":        true,
		"someone@sub.mailinator.com":    true,
		"someone@a.b.guerrillamail.com": true,
		"x@yopmail.fr":                  true,
		"x@10minutemail.com":            true,
		"x@trashmail.de":                true,
		"x@temp-mail.org":               true,
		"yopmail.com":                   true,
		" x@sharklasers.com. ":          true,
		"x@gmail.com":                   false,
		"x@outlook.es":                  false,
		"x@notmailinator.co":            false, // look-alike, not listed
		"x@mailinator.com.example.es":   false, // listed name only as a suffix counts
		"x@amailinator.com":             false,
		"":                              false,
		"x@":                            false,
		"x@com":                         false,
	} {
		if got := Disposable(in); got != want {
			t.Errorf("Disposable(%q) = %v, want %v", in, got, want)
		}
	}
	if n := len(disposableDomains); n < 300 {
		t.Errorf("only %d disposable domains", n)
	}
	for d := range disposableDomains {
		if strings.ContainsAny(d, " @#\t") || !strings.Contains(d, ".") {
			t.Errorf("bad list entry %q", d)
		}
	}
}

func TestPhone(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"+34600000000", "+34600000000"},    // ES mobile
		{"+34 912 345 678", "+34912345678"}, // ES landline
		// Example numbers of the numbering-plan data, not subscribers'.
		{"+34 612 34 56 78", "+34612345678"},
		{"+52 222 123 4567", "+522221234567"},
		{"+56 2 2123 4567", "+56221234567"},
		{"+57 321 123 4567", "+573211234567"},
		{"+51 912 345 678", "+51912345678"},
		{"+51 1 1234567", "+5111234567"},
		{"+54 9 11 2345-6789", "+5491123456789"},
		{"+1 (201) 555-0123", "+12015550123"},
		{"+44 20 7946 0958", "+442079460958"},
		{"+39 02 1234 5678", "+390212345678"}, // Italian leading zero kept
		{"\t+34-600.000.000 ", "+34600000000"},
		{"600000000", "!"},
		{"0034600000000", "!"},
		{"+", "!"},
		{"+3460", "!"},             // too short
		{"+3460000000000000", "!"}, // 16 digits
		{"+34 600 000 00a", "!"},
		{"+34600000000 ext 1", "!"},
		{"+0123456789", "!"},
		{"+34 100 000 000", "!"}, // not in Spain's plan
		{"+999 1234 5678", "!"},  // no such country code
		{"++34600000000", "!"},
		{"", "!"},
	} {
		got, err := Phone(c.in)
		if c.want == "!" {
			if err == nil {
				t.Errorf("Phone(%q) = %q, want error", c.in, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("Phone(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestDateOfBirth(t *testing.T) {
	now := time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"1990-05-20", true},
		{" 1990-05-20 ", true},
		{"2008-03-15", true},  // 18 today
		{"2008-03-16", false}, // 18 tomorrow
		{"2007-03-16", true},
		{"1906-03-15", true},  // exactly 120
		{"1906-03-14", true},  // 120 and a day
		{"1905-03-16", true},  // 121 tomorrow
		{"1905-03-15", false}, // 121 today
		{"2000-02-29", true},
		{"2001-02-29", false}, // not a real date
		{"1990-13-01", false},
		{"1990-00-10", false},
		{"1990-04-31", false},
		{"2030-01-01", false}, // future
		{"2026-03-16", false}, // tomorrow
		{"90-05-20", false},
		{"1990/05/20", false},
		{"1990-5-20", false},
		{"20-05-1990", false},
		{"1990-05-20T00:00:00Z", false},
		{"+990-05-20", false},
		{"", false},
	} {
		got, err := DateOfBirth(c.in, now)
		if c.ok != (err == nil) {
			t.Errorf("DateOfBirth(%q) = %v, %v; want ok %v", c.in, got, err, c.ok)
		}
		if c.ok && got.Format(time.DateOnly) != strings.TrimSpace(c.in) {
			t.Errorf("DateOfBirth(%q) = %v", c.in, got)
		}
	}
	// Feb 29 births come of age on Mar 1 in common years.
	leap := "2008-02-29"
	if _, err := DateOfBirth(leap, time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC)); err == nil {
		t.Error("leap-day birth adult on Feb 28")
	}
	if _, err := DateOfBirth(leap, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Errorf("leap-day birth not adult on Mar 1: %v", err)
	}
	// The calendar day of now in its own location counts.
	madrid := time.FixedZone("CET", 3600)
	if _, err := DateOfBirth("2008-03-16", time.Date(2026, 3, 16, 0, 30, 0, 0, madrid)); err != nil {
		t.Errorf("birthday in now's location: %v", err)
	}
}

func TestCountryCode(t *testing.T) {
	if len(alpha3To2) != 249 {
		t.Errorf("%d countries, want 249", len(alpha3To2))
	}
	for _, c := range []struct{ in, want string }{
		{"ESP", "ESP"}, {"chl", "CHL"}, {" mex ", "MEX"}, {"COL", "COL"}, {"PER", "PER"}, {"ARG", "ARG"},
		{"USA", "USA"}, {"ATA", "ATA"}, {"ALA", "ALA"}, {"ZWE", "ZWE"},
		{"ES", ""}, {"XKX", ""}, {"ABC", ""}, {"", ""}, {"ESPA", ""},
	} {
		got, ok := CountryCode(c.in)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("CountryCode(%q) = %q, %v; want %q", c.in, got, ok, c.want)
		}
	}
}

func TestAlpha2(t *testing.T) {
	for in, want := range map[string]string{"ESP": "ES", "chl": "CL", "MEX": "MX", "COL": "CO", "PER": "PE", "ARG": "AR", "GBR": "GB", "DEU": "DE", "XXX": "", "ES": ""} {
		got, ok := Alpha2(in)
		if got != want || ok != (want != "") {
			t.Errorf("Alpha2(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestCountryByName(t *testing.T) {
	for in, want := range map[string]string{
		"Spain": "ESP", "españa": "ESP", "ESPAÑA": "ESP", "Espana": "ESP", "Reino de España": "ESP",
		"Chile": "CHL", "chile": "CHL",
		"Mexico": "MEX", "México": "MEX", "MÉXICO": "MEX", "Estados Unidos Mexicanos": "MEX",
		"Colombia": "COL", "Perú": "PER", "peru": "PER", "Argentina": "ARG", "República Argentina": "ARG",
		"Germany": "DEU", "Alemania": "DEU", "France": "FRA", "Francia": "FRA", "Portugal": "PRT",
		"Italy": "ITA", "Italia": "ITA", "United Kingdom": "GBR", "Reino Unido": "GBR", "UK": "GBR",
		"United States": "USA", "Estados Unidos": "USA", "EE.UU.": "USA", "EEUU": "USA",
		"Netherlands": "NLD", "Países Bajos": "NLD", "Holanda": "NLD", "Brasil": "BRA", "Brazil": "BRA",
		"Bolivia": "BOL", "Venezuela": "VEN", "Uruguay": "URY", "Ecuador": "ECU", "Bélgica": "BEL",
		"Suiza": "CHE", "Switzerland": "CHE", "Côte d'Ivoire": "CIV", "cote divoire": "CIV",
		"  united   states  of america ": "USA", "Guinea-Bissau": "GNB", "Guinea Bissau": "GNB",
		"Korea, Republic of": "KOR", "South Korea": "KOR", "Türkiye": "TUR", "Turkey": "TUR",
		"ESP": "ESP", "arg": "ARG",
		"Atlantis": "", "": "", "Span": "",
	} {
		got, ok := CountryByName(in)
		if got != want || ok != (want != "") {
			t.Errorf("CountryByName(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// No folded name may point at two countries (a later line would silently win).
func TestCountryNamesUnambiguous(t *testing.T) {
	seen := map[string]string{}
	for _, line := range strings.Split(countryTable, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, "\t")
		for _, n := range strings.Split(f[2], "|") {
			k := foldName(n)
			if prev, ok := seen[k]; ok && prev != f[0] {
				t.Errorf("name %q maps to %s and %s", n, prev, f[0])
			}
			seen[k] = f[0]
		}
	}
}
