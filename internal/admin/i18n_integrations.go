package admin

// The integrations, webhooks and error strings of the console, kept apart from i18n.go's text
// (and added to it at start) so each journey's strings live beside its pages.
func init() {
	for k, v := range integrationText {
		if _, dup := text[k]; dup {
			panic("duplicate console text " + k)
		}
		text[k] = v
	}
}

var integrationText = map[string][2]string{
	"integration.mode":        {"Modo", "Mode"},
	"integration.live":        {"producción", "live"},
	"integration.new":         {"Nueva integración", "New integration"},
	"integration.sandbox_new": {"Sandbox (pruebas: sin dinero real)", "Sandbox (testing: no real money)"},
	"integration.live_hint":   {"Sin marcar, la integración es de producción: tras crearla verás qué le falta a este servidor para que funcione.", "Unticked, the integration is live: once created you will see what this server still needs for it to work."},
	"integration.create":      {"Crear integración", "Create integration"},
	"integration.credentials": {"Credenciales", "Credentials"},
	"integration.once":        {"Cópialas ahora: el secreto no se volverá a mostrar.", "Copy them now: the secret will not be shown again."},
	"integration.secret":      {"Secreto API", "API secret"},
	"integration.needs":       {"Para que funcione en producción falta:", "Before it works live, this server needs:"},
	"integration.ready":       {"Nada más: este servidor está listo para operar en producción.", "Nothing more: this server is ready to operate live."},
	"integration.new_secret":  {"Nuevo secreto", "New secret"},
	"integration.prev_until":  {"El secreto anterior funciona hasta", "The previous secret works until"},
	"integration.prev_ended":  {"ya no funciona (tokens revocados)", "no longer works (tokens revoked)"},
	"integration.rotated_at":  {"Secreto cambiado", "Secret rotated"},
	"integration.never":       {"nunca", "never"},
	"integration.prev_works":  {"el anterior funciona hasta %s", "the previous one works until %s"},
	"integration.keys":        {"Claves", "Keys"},
	"integration.rotate_hint": {"Genera un secreto nuevo; la clave API no cambia. El anterior sigue valiendo durante el periodo de gracia para que el socio lo cambie sin cortes; con 0 deja de valer al momento y se revocan sus tokens.", "Issues a new secret; the API key stays. The previous one keeps working for the grace period so the partner can switch without downtime; with 0 it stops at once and its tokens are revoked."},
	"integration.grace":       {"Periodo de gracia (horas, 0–720)", "Grace period (hours, 0–720)"},
	"integration.rotate":      {"Cambiar el secreto", "Rotate the secret"},
	"integration.ttl_s":       {"Duración de los tokens (s, 60–2592000)", "Token lifetime (s, 60–2592000)"},
	"integration.rate":        {"Peticiones por segundo (0: sin límite)", "Requests per second (0: unlimited)"},
	"integration.burst":       {"Ráfaga", "Burst"},
	"integration.onramp":      {"Compras (on-ramp)", "On-ramp settings"},
	"on.min_purchase":         {"Compra mínima (EUR)", "Minimum purchase (EUR)"},
	"on.basic":                {"Límite nivel básico (EUR/30 días)", "Basic level limit (EUR/30 days)"},
	"on.reinforced":           {"Límite nivel reforzado (EUR/30 días)", "Reinforced level limit (EUR/30 days)"},
	"on.card_quarter":         {"Límite con tarjeta (EUR/trimestre)", "Card limit (EUR/quarter)"},
	"on.honour":               {"Ventana de precio garantizado (horas)", "Honour window (hours)"},
	"on.methods_hint":         {"Métodos habilitados (todos o ninguno marcado: todos) y la comisión de procesamiento que paga esta integración.", "Enabled methods (all or none ticked: all) and the processing fee this integration pays."},
	"on.enabled":              {"Activo", "On"},
	"on.method":               {"Método", "Method"},
	"on.fee_percent":          {"Comisión %", "Fee %"},
	"on.fee_fixed":            {"Comisión fija", "Fixed fee"},
	"on.own_fee":              {"propia", "own"},
	"on.methods":              {"Métodos de pago", "Payment methods"},
	"on.fees":                 {"Comisiones por método", "Fees per method"},
	"f.decision":              {"Decisión", "Decision"},

	"webhooks.nav":          {"Webhooks", "Webhooks"},
	"webhooks.open":         {"Endpoints y envíos", "Endpoints and deliveries"},
	"webhooks.title":        {"Webhooks de %s", "Webhooks of %s"},
	"webhooks.endpoints":    {"Endpoints", "Endpoints"},
	"webhooks.type":         {"Evento", "Event"},
	"webhooks.last_ok":      {"Último éxito", "Last success"},
	"webhooks.disabled":     {"desactivado", "disabled"},
	"webhooks.failing":      {"fallando", "failing"},
	"webhooks.since":        {"desde %s", "since %s"},
	"webhooks.enabled":      {"activo", "enabled"},
	"webhooks.enable":       {"Reactivar", "Re-enable"},
	"webhooks.no_endpoints": {"Esta integración no se ha suscrito a ningún evento.", "This integration has not subscribed to any event."},
	"webhooks.deliveries":   {"Envíos", "Deliveries"},
	"webhooks.delivery":     {"Envío", "Delivery"},
	"webhooks.attempts":     {"Intentos", "Attempts"},
	"webhooks.last":         {"Último resultado", "Last result"},
	"webhooks.latency":      {"Latencia", "Latency"},
	"webhooks.next":         {"Próximo intento", "Next retry"},
	"webhooks.redeliver":    {"Reenviar", "Redeliver"},
	"webhooks.delivered":    {"Entregado", "Delivered"},
	"webhooks.log":          {"Intentos", "Attempts"},
	"webhooks.response":     {"Respuesta", "Response"},
	"webhooks.fail":         {"fallo", "failed"},
	"webhooks.no_attempts":  {"Aún no se ha intentado.", "Not attempted yet."},

	"flash.integration_created": {"Integración creada.", "Integration created."},
	"flash.rotated":             {"Secreto cambiado.", "Secret rotated."},
	"err.detail":                {"(Detalle: %s)", "(Detail: %s)"},
	"err.field":                 {"«%s» no es válido.", "%s is not valid."},
	"err.invalid":               {"Los datos no son válidos.", "The data is not valid."},
}
