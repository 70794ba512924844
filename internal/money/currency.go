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
