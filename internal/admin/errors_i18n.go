package admin

import (
	"errors"
	"sort"
	"strings"

	"github.com/pocketramp/pocketramp/internal/errcode"
)

// The domain services answer in English, as the JSON API does. The console shows their errors
// in the page's language: a business error by its contract code (errText), a validation error
// field by field with the field's name translated (fieldText). In Spanish the service's own
// English sentence follows as the detail, since it names the exact rule or value.

// errText maps contract codes to what the console says: {Spanish, English}.
var errText = map[string][2]string{
	"amount_mismatch":                 {"El importe no coincide con el esperado.", "The amount does not match the expected one."},
	"authorization_incorrect":         {"Credenciales incorrectas.", "Wrong credentials."},
	"bank_account_not_found":          {"No existe esa cuenta bancaria.", "There is no such bank account."},
	"bank_export_failed":              {"No se pudo generar el fichero de pagos.", "The payment file could not be produced."},
	"bank_payout_invalid_state":       {"El pago bancario no está en un estado que lo permita.", "The bank payout is not in a state that allows this."},
	"bank_payout_not_found":           {"No existe ese pago bancario.", "There is no such bank payout."},
	"bank_payouts_held":               {"Ningún pago se exportó: todos quedaron apartados para corregirlos.", "No payout was exported: all were set aside to be corrected."},
	"coin_not_supported":              {"Ese activo no está disponible.", "That asset is not available."},
	"currency_mismatch":               {"La moneda no coincide.", "The currency does not match."},
	"delivery_not_found":              {"No existe ese envío de webhook.", "There is no such webhook delivery."},
	"email_not_allowed":               {"Ese correo no está permitido.", "That e-mail address is not allowed."},
	"external_id_already_used":        {"Ese identificador externo ya se usó.", "That external id was already used."},
	"invalid_event_type":              {"Tipo de evento desconocido.", "Unknown event type."},
	"invalid_file":                    {"El fichero no es válido.", "The file is not valid."},
	"invalid_kyc_transition":          {"Ese cambio de estado KYC no está permitido.", "That KYC status change is not allowed."},
	"invalid_payment_transition":      {"Ese cambio de estado del pago no está permitido.", "That payment status change is not allowed."},
	"invalid_rampoff_transition":      {"Ese cambio de estado de la venta no está permitido.", "That off-ramp status change is not allowed."},
	"invalid_url":                     {"La URL no es válida.", "The URL is not valid."},
	"kyc_reinforced_required":         {"Hace falta la verificación reforzada.", "Enhanced verification is required."},
	"limit_exceded":                   {"Se supera el límite.", "The limit is exceeded."},
	"method_not_allowed":              {"Ese método de pago no está habilitado.", "That payment method is not enabled."},
	"min_purchase":                    {"Por debajo de la compra mínima.", "Below the minimum purchase."},
	"min_sale":                        {"Por debajo de la venta mínima.", "Below the minimum sale."},
	"not_found":                       {"No encontrado.", "Not found."},
	"nothing_to_refund":               {"No hay nada que devolver.", "There is nothing to refund."},
	"operator_not_found":              {"No existe ese operador.", "There is no such operator."},
	"payment_not_found":               {"No existe ese pago.", "There is no such payment."},
	"payment_not_reconcilable":        {"Ese pago no se puede conciliar.", "That payment cannot be reconciled."},
	"price_unavailable":               {"No hay precio disponible ahora mismo.", "No price is available right now."},
	"rampoff_not_found":               {"No existe esa venta.", "There is no such off-ramp."},
	"rampoff_not_held":                {"Esa venta no está retenida.", "That off-ramp is not held."},
	"subscription_already_exists":     {"Esa suscripción ya existe.", "That subscription already exists."},
	"subscription_not_found":          {"No existe esa suscripción.", "There is no such subscription."},
	"token_not_found":                 {"No existe ese token.", "There is no such token."},
	"too_many_requests":               {"Demasiadas peticiones: espera un momento.", "Too many requests: wait a moment."},
	"transaction_already_reconciled":  {"Ese movimiento ya está conciliado.", "That transaction is already reconciled."},
	"transaction_not_found":           {"No existe ese movimiento.", "There is no such transaction."},
	"user_banned":                     {"El cliente está bloqueado.", "The customer is banned."},
	"user_not_found":                  {"No existe ese cliente.", "There is no such customer."},
	"user_not_in_integration":         {"El cliente no pertenece a esa integración.", "The customer does not belong to that integration."},
	"idempotency_key_reused":          {"Esa clave de idempotencia ya se usó con otra petición.", "That idempotency key was used with another request."},
	"idempotency_request_in_progress": {"Esa petición aún se está procesando.", "That request is still being processed."},
}

// fieldKeys names the console's label for a form field, where one exists.
var fieldKeys = map[string]string{
	"ip_allowlist": "integration.allow", "token_ttl": "integration.ttl", "rate_per_second": "integration.rate", "rate_burst": "integration.burst",
	"grace_hours": "integration.grace", "name": "col.name", "assets": "o.assets", "min_sale_eur": "o.min_sale",
	"deposit_window_minutes": "o.window", "tolerance_percent": "o.tolerance", "fee_percent": "o.fee", "markup_bps": "o.markup",
	"spread_bps": "o.spread", "quote_ttl_seconds": "o.quote_ttl", "min_purchase_eur": "on.min_purchase", "basic_limit_eur": "on.basic",
	"reinforced_limit_eur": "on.reinforced", "card_quarter_limit_eur": "on.card_quarter", "honour_hours": "on.honour",
	"methods": "on.methods", "fees": "on.fees", "reason": "f.reason", "decision": "f.decision",
}

// errorText is err as a form shows it, in the page's language; ok is false for errors that are
// not the user's to fix (they render as the error page).
func (v *view) errorText(err error) (string, bool) {
	var inv *errcode.Invalid
	if errors.As(err, &inv) {
		return v.invalidText(inv), true
	}
	var biz *errcode.Error
	if errors.As(err, &biz) && !errors.Is(err, errForbidden) && biz.Kind != errcode.KindNotFound {
		return v.codeText(biz), true
	}
	return "", false
}

// codeText is a business error: the code's text, and the service's detail.
func (v *view) codeText(e *errcode.Error) string {
	t, ok := errText[e.Code]
	switch {
	case !ok && e.Message != "":
		return e.Message
	case !ok:
		return e.Code
	case v.Lang == "es" && e.Message != "":
		return t[0] + " " + v.T("err.detail", e.Message)
	case v.Lang == "es":
		return t[0]
	case e.Message != "":
		return e.Message
	}
	return t[1]
}

// invalidText lists every wrong field (the summary's first, then by name).
func (v *view) invalidText(inv *errcode.Invalid) string {
	keys := make([]string, 0, len(inv.Fields))
	for k := range inv.Fields {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if (keys[i] == inv.First) != (keys[j] == inv.First) {
			return keys[i] == inv.First
		}
		return keys[i] < keys[j]
	})
	var parts []string
	for _, k := range keys {
		for _, msg := range inv.Fields[k] {
			parts = append(parts, v.fieldText(k, msg))
		}
	}
	if len(parts) == 0 {
		return v.T("err.invalid")
	}
	return strings.Join(parts, " · ")
}

// fieldText is one field's message: in Spanish, the field's name and "not valid", then the
// service's English rule as the detail.
func (v *view) fieldText(field, msg string) string {
	if v.Lang != "es" {
		return msg
	}
	label := errcode.Label(field)
	if k, ok := fieldKeys[field]; ok {
		label = v.T(k)
	}
	return v.T("err.field", label) + " " + v.T("err.detail", msg)
}
