package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/onramp"
	"github.com/pocketramp/pocketramp/internal/ramp"
)

// The customer payment pages. One link token opens a payment's pages:
//
//	/gateway/{token}   guided payment: review, wallet, method → checkout or transfer details
//	/checkout/{token}  the sandbox provider's hosted checkout (card, psd2, paypal, LATAM methods)
//	/transfer/{token}  the bank details and reference of a transfer payment
//
// Each page shows the payment's status once it has moved past what the page is for, and a
// page opened for the wrong kind of payment sends the customer to the right one. The status
// endpoints answer {"status","txid"} for the small poll of pay.js; without JavaScript a meta
// refresh does the same.

// payment is the payment behind a page link, with the page language.
type payment struct {
	token string
	page  onramp.Page
	lang  string
}

func (pm payment) p() onramp.Payment { return pm.page.Payment }

// payView is what the payment templates draw.
type payView struct {
	Token       string
	Sandbox     bool
	Status      string
	Amount      string // "50,00 €"
	AmountPlain string // the number to copy into a banking app: "50,00"
	Coin        string
	CoinAmount  string // "48,73 USDC"
	Chain       string // "Polygon"
	Method      string
	Card        bool // the checkout draws the test card fields
	Wallet      string
	WalletShort string
	Fees        string
	Poll        string // the status URL the page polls; "" once final
	Details     []detail
	Callback    string
	Host        string

	// gateway
	WalletField field
	Methods     []methodChoice
	MethodError []string

	// transfer
	IBAN, IBANPlain, BIC, Beneficiary, BankName, Concept, Expires string
	Pending                                                       bool
}

// detail is one row of a definition list; Copy is the text a copy button copies.
type detail struct {
	ID, Label, Value, Copy string
	Mono                   bool
}

// methodChoice is one radio card of the gateway.
type methodChoice struct {
	ID, Code, Name, Desc string
	Checked              bool
}

// payRoutes are the payment pages' routes.
func (p *Pages) payRoutes() map[string]http.Handler {
	return map[string]http.Handler{
		"GET /checkout/{token}":        p.page(p.checkoutGet),
		"POST /checkout/{token}":       p.page(p.checkoutPost),
		"GET /checkout/{token}/status": http.HandlerFunc(p.payStatus),
		"GET /gateway/{token}":         p.page(p.gatewayGet),
		"POST /gateway/{token}":        p.page(p.gatewayPost),
		"GET /transfer/{token}":        p.page(p.transferGet),
		"POST /transfer/{token}":       p.page(p.transferPost),
		"GET /transfer/{token}/status": http.HandlerFunc(p.payStatus),
	}
}

// merchant is who the sandbox checkout says the customer pays.
const merchant = "pocketramp"

// maxPayForm caps the body of the payment forms: a few short fields.
const maxPayForm = 64 << 10

// openPayment finds the payment of the link and picks the language: ?lang=, the browser, then
// the customer's country.
func (p *Pages) openPayment(r *http.Request) (payment, error) {
	token := r.PathValue("token")
	if p.Onramp == nil {
		return payment{}, onramp.ErrPaymentNotFound
	}
	pg, err := p.Onramp.PageByToken(r.Context(), token)
	if err != nil {
		return payment{}, err
	}
	country := ""
	if p.Customers != nil {
		if c, err := p.Customers.Get(r.Context(), pg.Payment.IntegrationID, pg.Payment.UserID); err == nil {
			country = c.CountryCode
		}
	}
	return payment{token: token, page: pg, lang: pickLang(r, country)}, nil
}

// homeOf is the page a payment waiting for the customer belongs on.
func homeOf(pay onramp.Payment) string {
	switch {
	case pay.Guided && pay.Wallet == "":
		return "gateway"
	case pay.BankIBAN != "":
		return "transfer"
	default:
		return "checkout"
	}
}

// redirect sends the customer to another page of the payment (post/redirect/get as well).
func (p *Pages) redirect(w http.ResponseWriter, r *http.Request, pm payment, page string) error {
	http.Redirect(w, r, "/"+page+"/"+pm.token+"?lang="+pm.lang, http.StatusSeeOther)
	return nil
}

// settled handles a payment the customer has nothing more to do on: a transfer already
// announced goes to its page, anything past that gets the status page. It reports whether it
// answered.
func (p *Pages) settled(w http.ResponseWriter, r *http.Request, pm payment, here string) bool {
	switch pm.p().Status {
	case onramp.StatusStarted:
		return false
	case onramp.StatusPendingBank:
		if here == "transfer" {
			return false
		}
		p.redirect(w, r, pm, "transfer")
		return true
	}
	p.render(w, http.StatusOK, "pay_status", p.statusPage(r, pm))
	return true
}

// readPayForm parses a payment page's POST and checks its CSRF token.
func (p *Pages) readPayForm(w http.ResponseWriter, r *http.Request, pm payment, purpose string) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxPayForm)
	if _, err := parseForm(w, r); err != nil {
		return inLang(pm.lang, errBadRequest)
	}
	return inLang(pm.lang, p.checkCSRF(r, purpose, pm.token))
}

// ---- checkout (the sandbox provider's hosted page) ----

func (p *Pages) checkoutGet(w http.ResponseWriter, r *http.Request) error {
	pm, err := p.openPayment(r)
	if err != nil {
		return err
	}
	if p.settled(w, r, pm, "checkout") {
		return nil
	}
	if home := homeOf(pm.p()); home != "checkout" {
		return p.redirect(w, r, pm, home)
	}
	if !pm.p().Sandbox {
		p.render(w, http.StatusOK, "message", p.providerPage(r, pm))
		return nil
	}
	p.render(w, http.StatusOK, "pay_checkout", p.checkoutPage(r, pm))
	return nil
}

func (p *Pages) checkoutPost(w http.ResponseWriter, r *http.Request) error {
	pm, err := p.openPayment(r)
	if err != nil {
		return err
	}
	if err := p.readPayForm(w, r, pm, "checkout"); err != nil {
		return err
	}
	pay := pm.p()
	if pay.Status != onramp.StatusStarted || homeOf(pay) != "checkout" || !pay.Sandbox {
		return p.redirect(w, r, pm, "checkout") // the GET shows where the payment is now
	}
	var paid bool
	switch r.PostFormValue("outcome") {
	case "pay":
		paid = true
	case "fail":
	default:
		return inLang(pm.lang, errBadRequest)
	}
	_, err = p.Onramp.CompleteCheckout(r.Context(), pm.token, paid)
	// A payment that moved on meanwhile (a second click, the sandbox API) is shown as it is.
	if err != nil && !errors.Is(err, onramp.ErrNotReconcilable) && !errors.Is(err, onramp.ErrInvalidTransition) && invalid(err) == nil {
		return inLang(pm.lang, err)
	}
	return p.redirect(w, r, pm, "checkout")
}

func (p *Pages) checkoutPage(r *http.Request, pm payment) *view {
	v, pv := p.payView(r, pm, tr(pm.lang, "co.title", merchant))
	v.Action, v.CSRF = "/checkout/"+pm.token+"?lang="+pm.lang, p.csrfToken("checkout", pm.token)
	pv.Card = pm.p().PaymentType == "card"
	v.Submit = tr(pm.lang, "co.pay", pv.Amount)
	return v
}

// providerPage answers a production payment's checkout link: the provider's own page takes
// the payment, ours has nothing to offer.
func (p *Pages) providerPage(r *http.Request, pm payment) *view {
	v := p.statusView(r, pm.lang, "wait", "co.live.title", "co.live.body", pm.p().CallbackURL)
	v.Foot = tr(pm.lang, "pay.footer")
	return v
}

// ---- gateway (guided payment) ----

func (p *Pages) gatewayGet(w http.ResponseWriter, r *http.Request) error {
	pm, err := p.openPayment(r)
	if err != nil {
		return err
	}
	if p.settled(w, r, pm, "gateway") {
		return nil
	}
	pay := pm.p()
	if !pay.Guided {
		return p.redirect(w, r, pm, homeOf(pay))
	}
	v, err := p.gatewayPage(r, pm, pay.Wallet, pay.PaymentType, nil)
	if err != nil {
		return inLang(pm.lang, err)
	}
	p.render(w, http.StatusOK, "pay_gateway", v)
	return nil
}

func (p *Pages) gatewayPost(w http.ResponseWriter, r *http.Request) error {
	pm, err := p.openPayment(r)
	if err != nil {
		return err
	}
	if err := p.readPayForm(w, r, pm, "gateway"); err != nil {
		return err
	}
	pay := pm.p()
	if pay.Status != onramp.StatusStarted || !pay.Guided {
		return p.redirect(w, r, pm, "gateway")
	}
	wallet, method := strings.TrimSpace(r.PostFormValue("wallet")), r.PostFormValue("method")
	next, err := p.Onramp.SubmitGateway(r.Context(), pm.token, onramp.GatewayChoice{Wallet: wallet, Method: method})
	errs := errcode.Fields{}
	switch {
	case err == nil:
		http.Redirect(w, r, next+"?lang="+pm.lang, http.StatusSeeOther)
		return nil
	case invalid(err) != nil:
		errs = invalid(err).Fields
	case errors.Is(err, onramp.ErrMethodNotAllowed), errors.Is(err, onramp.ErrPaymentCreation), errors.Is(err, ramp.ErrLimit):
		errs.Add("method", "unavailable")
	case errors.Is(err, onramp.ErrInvalidTransition):
		return p.redirect(w, r, pm, "gateway")
	default:
		return inLang(pm.lang, err)
	}
	v, err := p.gatewayPage(r, pm, wallet, method, errs)
	if err != nil {
		return inLang(pm.lang, err)
	}
	p.render(w, http.StatusUnprocessableEntity, "pay_gateway", v)
	return nil
}

func (p *Pages) gatewayPage(r *http.Request, pm payment, wallet, method string, errs errcode.Fields) (*view, error) {
	lang, pay := pm.lang, pm.p()
	v, pv := p.payView(r, pm, tr(lang, "gw.title", pay.Coin))
	v.Intro = tr(lang, "gw.intro", pay.Coin)
	v.Action, v.CSRF, v.Submit = "/gateway/"+pm.token+"?lang="+lang, p.csrfToken("gateway", pm.token), tr(lang, "gw.continue")
	methods, err := p.Onramp.GatewayMethods(r.Context(), pay)
	if err != nil {
		return nil, err
	}
	if method == "" || len(methods) == 1 {
		method = "card"
		if len(methods) > 0 {
			method = methods[0].Code
		}
	}
	for _, m := range methods {
		pv.Methods = append(pv.Methods, methodChoice{ID: "method-" + m.Code, Code: m.Code, Name: methodName(lang, m.Code),
			Desc: tr(lang, "gw.desc."+m.Code), Checked: strings.EqualFold(m.Code, method)})
	}
	pv.WalletField = field{ID: "wallet", Name: "wallet", Label: tr(lang, "gw.wallet", pv.Chain), Help: tr(lang, "gw.wallet.h", pay.Coin),
		Value: wallet, MaxLen: 120}
	for key, msgs := range errs {
		for _, m := range msgs {
			switch key {
			case "wallet":
				msg := tr(lang, "gw.err.wallet", pv.Chain)
				if wallet == "" {
					msg = tr(lang, "gw.err.wallet_empty")
				}
				pv.WalletField.Errors = append(pv.WalletField.Errors, msg)
			case "method":
				msg := tr(lang, "gw.err.method")
				if m == "unavailable" {
					msg = tr(lang, "gw.err.unavailable")
				}
				pv.MethodError = append(pv.MethodError, msg)
			default:
				v.Summary = append(v.Summary, summaryItem{Label: errcode.Label(key), Message: fieldMessage(lang, m)})
			}
		}
	}
	// The summary lists the fields in page order, each message once.
	if len(pv.WalletField.Errors) > 0 {
		pv.WalletField.Errors = pv.WalletField.Errors[:1]
		v.Summary = append([]summaryItem{{Anchor: "wallet", Label: tr(lang, "gw.wallet.short"), Message: pv.WalletField.Errors[0]}}, v.Summary...)
	}
	if len(pv.MethodError) > 0 {
		pv.MethodError = pv.MethodError[:1]
		anchor := "method-card"
		if len(pv.Methods) > 0 {
			anchor = pv.Methods[0].ID
		}
		v.Summary = append(v.Summary, summaryItem{Anchor: anchor, Label: tr(lang, "gw.method"), Message: pv.MethodError[0]})
	}
	return v, nil
}

// ---- transfer details ----

func (p *Pages) transferGet(w http.ResponseWriter, r *http.Request) error {
	pm, err := p.openPayment(r)
	if err != nil {
		return err
	}
	if p.settled(w, r, pm, "transfer") {
		return nil
	}
	if home := homeOf(pm.p()); home != "transfer" {
		return p.redirect(w, r, pm, home)
	}
	p.render(w, http.StatusOK, "pay_transfer", p.transferPage(r, pm))
	return nil
}

func (p *Pages) transferPost(w http.ResponseWriter, r *http.Request) error {
	pm, err := p.openPayment(r)
	if err != nil {
		return err
	}
	if err := p.readPayForm(w, r, pm, "transfer"); err != nil {
		return err
	}
	if pay := pm.p(); pay.Status == onramp.StatusStarted && homeOf(pay) == "transfer" {
		if _, err := p.Onramp.MarkSent(r.Context(), pay.ID); err != nil {
			return inLang(pm.lang, err)
		}
	}
	return p.redirect(w, r, pm, "transfer")
}

func (p *Pages) transferPage(r *http.Request, pm payment) *view {
	lang, pay, acct := pm.lang, pm.p(), pm.page.Account
	v, pv := p.payView(r, pm, tr(lang, "tr.title"))
	v.Intro = tr(lang, "tr.intro", pay.Coin)
	v.Action, v.CSRF, v.Submit = "/transfer/"+pm.token+"?lang="+lang, p.csrfToken("transfer", pm.token), tr(lang, "tr.sent")
	pv.IBAN, pv.IBANPlain = groupIBAN(pay.BankIBAN), strings.ReplaceAll(pay.BankIBAN, " ", "")
	pv.BIC, pv.Beneficiary, pv.BankName, pv.Concept = acct.BIC, acct.HolderName, acct.BankName, pay.Concept
	pv.Expires = formatDate(lang, pay.ExpiresAt)
	if pay.Status == onramp.StatusPendingBank {
		pv.Pending = true
		pv.Poll = "/transfer/" + pm.token + "/status"
		v.Title = tr(lang, "tr.pending.title")
		v.Intro = tr(lang, "tr.pending.body", pay.Coin)
	}
	pv.Details = []detail{
		{ID: "beneficiary", Label: tr(lang, "tr.beneficiary"), Value: pv.Beneficiary, Copy: pv.Beneficiary},
		{ID: "iban", Label: "IBAN", Value: pv.IBAN, Copy: pv.IBANPlain, Mono: true},
		{ID: "bic", Label: tr(lang, "tr.bic"), Value: pv.BIC, Copy: pv.BIC, Mono: true},
		{ID: "amount", Label: tr(lang, "tr.amount"), Value: pv.Amount, Copy: pv.AmountPlain},
	}
	if pv.BankName != "" {
		pv.Details = append(pv.Details, detail{ID: "bank", Label: tr(lang, "tr.bank"), Value: pv.BankName})
	}
	return v
}

// ---- status ----

// statusPage shows where a payment stands once the customer has done their part.
func (p *Pages) statusPage(r *http.Request, pm payment) *view {
	lang, pay := pm.lang, pm.p()
	v, pv := p.payView(r, pm, "")
	key, icon, poll := "", "wait", false
	switch pay.Status {
	case onramp.StatusPendingBank:
		key, poll = "pending", true
	case onramp.StatusPaymentReceived:
		key, poll = "received", true
		if pay.HoldReason != "" {
			key, poll = "hold", false
		}
	case onramp.StatusCoinsSent:
		key, icon = "sent", "ok"
	case onramp.StatusFailed:
		key, icon = "failed", "error"
		if pay.FailureReason == "card_declined" {
			key = "declined"
		}
	case onramp.StatusExpired:
		key, icon = "expired", "error"
	case onramp.StatusRefunded:
		key, icon = "refunded", "error"
	default:
		key = "pending"
	}
	v.Title = trf(lang, "st."+key+".title", pay.Coin)
	v.Body = trf(lang, "st."+key+".body", pv.CoinAmount, pv.Chain)
	v.Icon = icon
	if poll {
		pv.Poll = "/checkout/" + pm.token + "/status"
	}
	receiveLabel := "st.receive"
	if pay.Status == onramp.StatusCoinsSent {
		receiveLabel = "st.sent"
	}
	pv.Details = []detail{
		{Label: tr(lang, "st.paid"), Value: pv.Amount},
		{Label: tr(lang, receiveLabel), Value: pv.CoinAmount},
		{Label: tr(lang, "st.network"), Value: pv.Chain},
	}
	if pay.Wallet != "" {
		pv.Details = append(pv.Details, detail{ID: "wallet", Label: tr(lang, "st.wallet"), Value: pay.Wallet, Mono: true})
	}
	if tx := pay.View().TxID; tx != nil {
		pv.Details = append(pv.Details, detail{ID: "txid", Label: tr(lang, "st.txid"), Value: *tx, Copy: *tx, Mono: true})
	}
	pv.Details = append(pv.Details, detail{Label: tr(lang, "st.reference"), Value: pay.ID, Mono: true})
	return v
}

// payStatus answers the pages' poll: {"status","txid"} (txid once coins_sent).
func (p *Pages) payStatus(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-store")
	var pg onramp.Page
	var err error = onramp.ErrPaymentNotFound
	if p.Onramp != nil {
		pg, err = p.Onramp.PageByToken(r.Context(), r.PathValue("token"))
	}
	if err != nil {
		status, code := http.StatusInternalServerError, "unexpected_error"
		if errors.Is(err, onramp.ErrPaymentNotFound) {
			status, code = http.StatusNotFound, "payment_not_found"
		} else {
			p.Log.ErrorContext(r.Context(), "payment status", slog.String("path", redactPath(r.URL.Path)), slog.Any("err", err))
		}
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": code})
		return
	}
	pv := pg.Payment.View()
	json.NewEncoder(w).Encode(struct {
		Status string  `json:"status"`
		TxID   *string `json:"txid"`
	}{pv.Status, pv.TxID})
}

// ---- shared ----

// payView starts a payment page: the amounts, coin and chain every page shows.
func (p *Pages) payView(r *http.Request, pm payment, title string) (*view, *payView) {
	lang, pay := pm.lang, pm.p()
	v := p.view(r, lang, title)
	v.Foot = tr(lang, "pay.footer")
	pv := &payView{Token: pm.token, Sandbox: pay.Sandbox, Status: string(pay.Status),
		Amount: fiatText(lang, pay.FiatAmount, pay.Fiat), AmountPlain: localNumber(lang, pay.FiatAmount.String()),
		Coin: pay.Coin, CoinAmount: coinText(lang, pay.CoinAmount, pay.Coin), Chain: chainName(pay.Chain),
		Method: methodName(lang, pay.PaymentType), Wallet: pay.Wallet, WalletShort: shortAddress(pay.Wallet)}
	var fees struct {
		Total string `json:"total"`
	}
	if json.Unmarshal(pay.Fees, &fees) == nil && fees.Total != "" {
		if a, err := money.Parse(fees.Total, pay.FiatAmount.Scale(), money.ParseOptions{}); err == nil {
			pv.Fees = fiatText(lang, a, pay.Fiat)
		}
	}
	pv.Callback, pv.Host = callbackTarget(pay.CallbackURL)
	v.Pay = pv
	return v, pv
}

// chainNames are the networks as people know them.
var chainNames = map[string]string{"polygon": "Polygon", "ethereum": "Ethereum", "bsc": "BNB Smart Chain",
	"arbitrum": "Arbitrum One", "base": "Base"}

func chainName(c string) string {
	if n, ok := chainNames[c]; ok {
		return n
	}
	return c
}

// methodName is a payment method's name in lang; the catalogue's own name otherwise.
func methodName(lang, code string) string {
	if _, ok := text["pm."+code]; ok {
		return tr(lang, "pm."+code)
	}
	if m, ok := onramp.MethodByCode(code); ok {
		return m.Name
	}
	return code
}

// localNumber writes a decimal string ("1234.50") the way lang does: "1.234,50" or "1,234.50".
func localNumber(lang, s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, hasFrac := strings.Cut(s, ".")
	group, point := ",", "."
	if lang == es {
		group, point = ".", ","
	}
	// Spanish leaves four-digit numbers ungrouped.
	if len(whole) > 4 || (lang != es && len(whole) > 3) {
		var b strings.Builder
		for i, c := range whole {
			if i > 0 && (len(whole)-i)%3 == 0 {
				b.WriteString(group)
			}
			b.WriteRune(c)
		}
		whole = b.String()
	}
	if neg {
		whole = "-" + whole
	}
	if hasFrac {
		return whole + point + frac
	}
	return whole
}

// fiatText is an amount of money: "50,00 €" in Spanish, "€50.00" in English, the code for
// other currencies.
func fiatText(lang string, a money.Amount, code string) string {
	n := localNumber(lang, a.String())
	switch {
	case code == "EUR" && lang == es:
		return n + " €"
	case code == "EUR":
		return "€" + n
	default:
		return n + " " + code
	}
}

// coinText is a token amount without trailing zeros: "48,73 USDC".
func coinText(lang string, a money.Amount, symbol string) string {
	s := a.String()
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return localNumber(lang, s) + " " + symbol
}

// groupIBAN writes an IBAN in groups of four, as banks print it.
func groupIBAN(iban string) string {
	iban = strings.ReplaceAll(iban, " ", "")
	var b strings.Builder
	for i, c := range iban {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// shortAddress keeps the ends of a wallet address, which is what people compare.
func shortAddress(a string) string {
	if len(a) <= 14 {
		return a
	}
	return a[:6] + "…" + a[len(a)-4:]
}

var months = [2][12]string{
	{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"},
	{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
}

// formatDate is a UTC date and time in lang: "3 de julio de 2026, 10:30 UTC".
func formatDate(lang string, t time.Time) string {
	t = t.UTC()
	if lang == es {
		return fmt.Sprintf("%d de %s de %d, %s UTC", t.Day(), months[0][t.Month()-1], t.Year(), t.Format("15:04"))
	}
	return fmt.Sprintf("%d %s %d, %s UTC", t.Day(), months[1][t.Month()-1], t.Year(), t.Format("15:04"))
}
