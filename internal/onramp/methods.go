package onramp

import (
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/money"
)

// Kinds of payment method (REFERENCE §4.1).
const (
	KindCard         = "card"
	KindBankTransfer = "bank_transfer"
	KindOpenBanking  = "open_banking"
	KindLocal        = "local"
)

// Method is a payment method of the catalogue.
type Method struct {
	Code       string
	Name       string
	Fiat       string
	Kind       string
	Min        string        // in Fiat; EUR methods use the integration's minimum purchase instead
	Max        string        // in Fiat
	FeePercent string        // processing fee, percent of the amount
	FeeFixed   string        // processing fee, fixed, in Fiat
	Expiry     time.Duration // an unpaid payment expires after this
}

// Methods is the operator's catalogue. Bank transfers can take days to arrive, so they expire
// after a week; hosted methods after an hour.
var Methods = []Method{
	{Code: "card", Name: "Card", Fiat: "EUR", Kind: KindCard, Min: "10", Max: "5000", FeePercent: "2.5", FeeFixed: "0.30", Expiry: time.Hour},
	{Code: "psd2", Name: "Pay from your bank (PSD2)", Fiat: "EUR", Kind: KindOpenBanking, Min: "10", Max: "15000", FeePercent: "0.9", FeeFixed: "0", Expiry: time.Hour},
	{Code: "transfer", Name: "SEPA bank transfer", Fiat: "EUR", Kind: KindBankTransfer, Min: "10", Max: "50000", FeePercent: "0", FeeFixed: "0", Expiry: 7 * 24 * time.Hour},
	{Code: "paypal", Name: "PayPal", Fiat: "EUR", Kind: KindLocal, Min: "10", Max: "2500", FeePercent: "3.4", FeeFixed: "0.35", Expiry: time.Hour},
	{Code: "KHIPU", Name: "Khipu", Fiat: "CLP", Kind: KindLocal, Min: "10000", Max: "5000000", FeePercent: "1.5", FeeFixed: "0", Expiry: time.Hour},
	{Code: "SPEI", Name: "SPEI", Fiat: "MXN", Kind: KindLocal, Min: "200", Max: "200000", FeePercent: "1", FeeFixed: "0", Expiry: 24 * time.Hour},
	{Code: "PSE", Name: "PSE", Fiat: "COP", Kind: KindLocal, Min: "40000", Max: "40000000", FeePercent: "1.5", FeeFixed: "0", Expiry: time.Hour},
	{Code: "PAGOEFECTIVO", Name: "PagoEfectivo", Fiat: "PEN", Kind: KindLocal, Min: "40", Max: "20000", FeePercent: "2", FeeFixed: "0", Expiry: 24 * time.Hour},
	{Code: "MERCADOPAGO", Name: "Mercado Pago", Fiat: "ARS", Kind: KindLocal, Min: "10000", Max: "10000000", FeePercent: "2.5", FeeFixed: "0", Expiry: time.Hour},
}

// MethodByCode finds a method, case-insensitively (CryptoPocket clients send "PSD2", "TRANSFER").
func MethodByCode(code string) (Method, bool) {
	for _, m := range Methods {
		if strings.EqualFold(m.Code, strings.TrimSpace(code)) {
			return m, true
		}
	}
	return Method{}, false
}

// Hosted reports whether the customer pays on our checkout page (everything but transfers).
func (m Method) Hosted() bool { return m.Kind != KindBankTransfer }

// LATAMFiat are the currencies of the LATAM markets.
var LATAMFiat = map[string]bool{"CLP": true, "MXN": true, "COP": true, "PEN": true, "ARS": true}

func (m Method) scale() int {
	s, _ := money.FiatScale(m.Fiat)
	return s
}

// fees parses fee (the catalogue's or the integration's, validated when saved) for m.
func (m Method) fees(fee MethodFee) (money.Rate, money.Amount) {
	pct, _ := money.ParsePercent(fee.Percent)
	fixed := money.MustParse(fee.Fixed, m.scale())
	return pct, fixed
}
