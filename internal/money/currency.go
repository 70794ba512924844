package money

import "strings"

// iso4217Scales holds the ISO 4217 minor units ("exponent") of every
// currency a bank file may carry, in list order: the active codes of ISO
// 4217 list one, the fund and unit-of-account codes banks report (BOV, CHE,
// CHW, CLF, COU, MXV, USN, UYI, UYW) and codes withdrawn recently enough to
// appear in archived statements (ActiveOrHistoricCurrencyCode in camt).
// Precious metals, XDR and test codes have no minor unit and are not money a
// bank account is kept in, so they are left out.
//
// FiatScale is the narrower list of currencies pocketramp prices and pays
// in; CurrencyScale is what statement parsers and operator bank accounts
// accept.
var iso4217Scales = func() map[string]int {
	m := map[string]int{}
	add := func(scale int, codes string) {
		for _, c := range strings.Fields(codes) {
			m[c] = scale
		}
	}
	add(2, `AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD
		BTN BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR
		FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW
		KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD
		NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP
		SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED
		VES WST XCD XCG YER ZAR ZMW ZWG`)
	add(0, `BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF`)
	add(3, `BHD IQD JOD KWD LYD OMR TND`)
	add(4, `CLF UYW`)
	// Withdrawn codes still found in older statements.
	add(2, `HRK LTL LVL EEK SKK SIT CYP MTL SLL ZWL VEF MRO STD`)
	add(0, `BYR`)
	return m
}()

// CurrencyScale returns the ISO 4217 minor units of an active (or recently
// withdrawn) currency code, upper case only, and false for anything else.
// JPY has 0 decimals, EUR 2, KWD 3, CLF 4.
func CurrencyScale(code string) (int, bool) {
	s, ok := iso4217Scales[code]
	return s, ok
}

// iso4217Numeric maps ISO 4217 numeric codes to alphabetic ones, for formats
// that carry the number (Norma 43 writes 978 for EUR). It covers the
// currencies of iso4217Scales that such files use in practice.
var iso4217Numeric = map[string]string{
	"008": "ALL", "012": "DZD", "032": "ARS", "036": "AUD", "048": "BHD", "051": "AMD", "068": "BOB",
	"124": "CAD", "152": "CLP", "156": "CNY", "170": "COP", "188": "CRC", "191": "HRK", "203": "CZK",
	"208": "DKK", "214": "DOP", "320": "GTQ", "340": "HNL", "344": "HKD", "348": "HUF", "352": "ISK",
	"356": "INR", "360": "IDR", "368": "IQD", "376": "ILS", "392": "JPY", "398": "KZT", "400": "JOD",
	"404": "KES", "410": "KRW", "414": "KWD", "434": "LYD", "458": "MYR", "484": "MXN", "504": "MAD",
	"512": "OMR", "554": "NZD", "558": "NIO", "566": "NGN", "578": "NOK", "590": "PAB", "600": "PYG",
	"604": "PEN", "608": "PHP", "634": "QAR", "643": "RUB", "682": "SAR", "702": "SGD", "704": "VND",
	"710": "ZAR", "752": "SEK", "756": "CHF", "764": "THB", "784": "AED", "788": "TND", "818": "EGP",
	"826": "GBP", "840": "USD", "858": "UYU", "860": "UZS", "901": "TWD", "928": "VES", "933": "BYN",
	"941": "RSD", "944": "AZN", "946": "RON", "949": "TRY", "971": "AFN", "975": "BGN", "978": "EUR",
	"980": "UAH", "981": "GEL", "985": "PLN", "986": "BRL",
}

// CurrencyByNumber returns the alphabetic ISO 4217 code of a 3-digit
// numeric code ("978" → "EUR").
func CurrencyByNumber(num string) (string, bool) {
	c, ok := iso4217Numeric[num]
	return c, ok
}
