package web

import (
	"fmt"
	"strings"
)

func init() {
	for k, v := range payText {
		if _, dup := text[k]; dup {
			panic("web: text key defined twice: " + k)
		}
		text[k] = v
	}
}

// trf is tr for texts that may or may not use the arguments: they use explicit indexes
// (%[2]s), and a text without any verb is returned as it is.
func trf(lang, key string, args ...any) string {
	s := tr(lang, key)
	if !strings.Contains(s, "%") {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// payText is every string of the payment pages: key → {Spanish, English}.
var payText = map[string][2]string{
	"pay.footer":    {"Pagos procesados por pocketramp. No compartas este enlace: da acceso a tu pago.", "Payments processed by pocketramp. Do not share this link: it gives access to your payment."},
	"paylink.title": {"Este enlace no es válido", "This link is not valid"},
	"paylink.body":  {"Comprueba que has copiado el enlace completo, o vuelve a la aplicación desde la que llegaste y empieza de nuevo.", "Check that you copied the whole link, or go back to the app that sent you here and start again."},
	"pay.sandbox":   {"Modo de prueba", "Test mode"},
	"pay.copy":      {"Copiar", "Copy"},
	"pay.copy_x":    {"Copiar %s", "Copy %s"},
	"pay.copied":    {"Copiado", "Copied"},
	"pay.updating":  {"Esta página se actualiza sola.", "This page updates by itself."},

	"deal.pay":     {"Pagas", "You pay"},
	"deal.receive": {"Recibes", "You receive"},
	"deal.network": {"Red", "Network"},
	"deal.fees":    {"Comisiones incluidas", "Fees included"},
	"deal.method":  {"Método de pago", "Payment method"},
	"deal.wallet":  {"Wallet", "Wallet"},

	"pm.card":     {"Tarjeta", "Card"},
	"pm.psd2":     {"Pago desde tu banco", "Pay from your bank"},
	"pm.transfer": {"Transferencia bancaria", "Bank transfer"},
	"pm.paypal":   {"PayPal", "PayPal"},

	"co.title":        {"Pagar a %s", "Pay %s"},
	"co.pay":          {"Pagar %s", "Pay %s"},
	"co.fail":         {"Simular un fallo", "Simulate a failure"},
	"co.card":         {"Datos de la tarjeta", "Card details"},
	"co.card.h":       {"Tarjeta de prueba: no se cobra nada y estos datos no se envían a ninguna parte.", "Test card: nothing is charged and these details are not sent anywhere."},
	"co.number":       {"Número de tarjeta", "Card number"},
	"co.expiry":       {"Caducidad", "Expiry date"},
	"co.cvc":          {"CVC", "CVC"},
	"co.other":        {"En modo de prueba el paso «%s» se simula: pulsa Pagar para confirmar el pago.", "In test mode the “%s” step is simulated: press Pay to confirm the payment."},
	"co.sandbox_note": {"Modo de prueba: no se mueve dinero real. «Pagar» confirma el pago como lo haría el proveedor; «Simular un fallo» lo rechaza.", "Test mode: no real money moves. “Pay” confirms the payment as the provider would; “Simulate a failure” declines it."},
	"co.live.title":   {"Tu proveedor de pago gestiona este pago", "Your payment provider handles this payment"},
	"co.live.body":    {"Completa el pago en la página del proveedor a la que te enviamos. Si la cerraste, vuelve a la aplicación desde la que llegaste.", "Complete the payment on the provider's page you were sent to. If you closed it, go back to the app you came from."},

	"gw.title":            {"Compra %s", "Buy %s"},
	"gw.intro":            {"Revisa tu compra, indica la wallet que recibirá los %s y elige cómo pagar.", "Review your purchase, enter the wallet that will receive the %s and choose how to pay."},
	"gw.wallet":           {"Dirección de tu wallet en %s", "Your wallet address on %s"},
	"gw.wallet.short":     {"Wallet", "Wallet"},
	"gw.wallet.h":         {"Ahí enviaremos tus %s. Pégala y comprueba el principio y el final: lo enviado a una dirección equivocada no se puede recuperar.", "We will send your %s there. Paste it and check its start and end: coins sent to a wrong address cannot be recovered."},
	"gw.method":           {"¿Cómo quieres pagar?", "How do you want to pay?"},
	"gw.desc.card":        {"Visa o Mastercard. Al instante.", "Visa or Mastercard. Instant."},
	"gw.desc.psd2":        {"Autoriza el pago en la app de tu banco. Al instante.", "Approve the payment in your bank's app. Instant."},
	"gw.desc.transfer":    {"Transferencia SEPA desde cualquier banco. Llega en un día hábil, o en segundos si es inmediata.", "SEPA transfer from any bank. Arrives within one business day, or in seconds if instant."},
	"gw.continue":         {"Continuar", "Continue"},
	"gw.err.wallet":       {"No es una dirección válida de %s. Cópiala otra vez desde tu wallet.", "This is not a valid %s address. Copy it again from your wallet."},
	"gw.err.wallet_empty": {"Introduce la dirección de tu wallet.", "Enter your wallet address."},
	"gw.err.method":       {"Elige cómo quieres pagar.", "Choose how you want to pay."},
	"gw.err.unavailable":  {"Este método de pago no está disponible ahora. Elige otro.", "This payment method is not available right now. Choose another one."},

	"tr.title":         {"Paga por transferencia", "Pay by bank transfer"},
	"tr.intro":         {"Haz una transferencia desde tu banco con estos datos. Cuando llegue, enviaremos los %s a tu wallet.", "Make a transfer from your bank with these details. When it arrives we will send the %s to your wallet."},
	"tr.reference":     {"Concepto de la transferencia", "Transfer reference"},
	"tr.reference.h":   {"Escribe exactamente este concepto, sin añadir nada más: así sabemos que la transferencia es tuya.", "Write exactly this reference, and nothing else: it is how we know the transfer is yours."},
	"tr.details":       {"Datos de la transferencia", "Transfer details"},
	"tr.beneficiary":   {"Beneficiario", "Beneficiary"},
	"tr.bic":           {"BIC / SWIFT", "BIC / SWIFT"},
	"tr.amount":        {"Importe exacto", "Exact amount"},
	"tr.bank":          {"Banco", "Bank"},
	"tr.deadline":      {"Envíala antes del %s. Si el importe o el concepto no coinciden, tardaremos más en identificarla.", "Send it before %s. If the amount or the reference differ, it will take us longer to identify it."},
	"tr.sent":          {"Ya he hecho la transferencia", "I have sent the transfer"},
	"tr.pending.title": {"Estamos esperando a tu banco", "We are waiting for your bank"},
	"tr.pending.body":  {"Gracias. En cuanto llegue tu transferencia enviaremos los %s a tu wallet. Suele tardar hasta un día hábil; una transferencia inmediata, unos segundos.", "Thank you. As soon as your transfer arrives we will send the %s to your wallet. It usually takes up to one business day; an instant transfer, a few seconds."},

	"st.pending.title":  {"Estamos esperando tu pago", "We are waiting for your payment"},
	"st.pending.body":   {"En cuanto llegue enviaremos %[1]s a tu wallet en %[2]s.", "As soon as it arrives we will send %[1]s to your wallet on %[2]s."},
	"st.received.title": {"Pago recibido", "Payment received"},
	"st.received.body":  {"Estamos enviando %[1]s a tu wallet en %[2]s. Suele tardar menos de un minuto.", "We are sending %[1]s to your wallet on %[2]s. It usually takes less than a minute."},
	"st.hold.title":     {"Pago recibido", "Payment received"},
	"st.hold.body":      {"Antes de enviar %[1]s tenemos que hacer una comprobación. No tienes que hacer nada: te avisaremos en cuanto salgan.", "Before sending %[1]s we need to run a check. There is nothing you need to do: we will let you know as soon as they are on their way."},
	"st.sent.title":     {"Hemos enviado tus %[1]s", "Your %[1]s has been sent"},
	"st.sent.body":      {"%[1]s han llegado a tu wallet en %[2]s.", "%[1]s arrived in your wallet on %[2]s."},
	"st.failed.title":   {"El pago no se ha completado", "The payment did not go through"},
	"st.failed.body":    {"No se ha cobrado nada. Vuelve a la aplicación desde la que llegaste para intentarlo de nuevo.", "Nothing has been charged. Go back to the app you came from to try again."},
	"st.declined.title": {"Pago rechazado", "Payment declined"},
	"st.declined.body":  {"El proveedor ha rechazado el pago y no se ha cobrado nada. Vuelve a la aplicación desde la que llegaste para intentarlo de nuevo.", "The provider declined the payment and nothing has been charged. Go back to the app you came from to try again."},
	"st.expired.title":  {"Este pago ha caducado", "This payment has expired"},
	"st.expired.body":   {"No se completó a tiempo. Si ya enviaste una transferencia, la identificaremos o te la devolveremos. Para comprar de nuevo, vuelve a la aplicación desde la que llegaste.", "It was not completed in time. If you already sent a transfer, we will match it or send it back. To buy again, go back to the app you came from."},
	"st.refunded.title": {"Este pago se ha devuelto", "This payment was refunded"},
	"st.refunded.body":  {"Te hemos devuelto el dinero. Si tienes dudas, contacta con la aplicación desde la que llegaste.", "Your money has been returned. If you have questions, contact the app you came from."},
	"st.paid":           {"Importe", "Amount"},
	"st.receive":        {"Recibes", "You receive"},
	"st.sent":           {"Enviado", "Sent"},
	"st.network":        {"Red", "Network"},
	"st.wallet":         {"Wallet", "Wallet"},
	"st.txid":           {"Transacción", "Transaction"},
	"st.reference":      {"Referencia del pago", "Payment reference"},
}
