package money

import "testing"

func TestCurrencyScale(t *testing.T) {
	for code, want := range map[string]int{
		"EUR": 2, "USD": 2, "CHF": 2, "SEK": 2, "GBP": 2, "RON": 2, "MXN": 2, "JPY": 0, "CLP": 0, "KRW": 0,
		"BHD": 3, "KWD": 3, "TND": 3, "CLF": 4, "UYW": 4, "HRK": 2,
	} {
		if got, ok := CurrencyScale(code); !ok || got != want {
			t.Errorf("%s: %d, %v; want %d", code, got, ok, want)
		}
	}
	for _, code := range []string{"", "eur", "XAU", "XXX", "EURO", "XTS"} {
		if _, ok := CurrencyScale(code); ok {
			t.Errorf("%q accepted", code)
		}
	}
	// Every pricing currency is an ISO 4217 currency with the same scale.
	for _, code := range FiatCodes() {
		s, _ := FiatScale(code)
		if got, ok := CurrencyScale(code); !ok || got != s {
			t.Errorf("%s: fiat scale %d, ISO scale %d", code, s, got)
		}
	}
}

func TestCurrencyByNumber(t *testing.T) {
	for num, want := range map[string]string{"978": "EUR", "840": "USD", "826": "GBP", "392": "JPY", "484": "MXN", "032": "ARS", "946": "RON"} {
		if got, ok := CurrencyByNumber(num); !ok || got != want {
			t.Errorf("%s: %s, %v; want %s", num, got, ok, want)
		}
	}
	for num, code := range iso4217Numeric {
		if _, ok := CurrencyScale(code); !ok {
			t.Errorf("%s maps to %s, which has no scale", num, code)
		}
	}
	if _, ok := CurrencyByNumber("999"); ok {
		t.Error("999 accepted")
	}
}
