package web

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// Languages of the hosted pages.
const (
	es = "es"
	en = "en"
)

// spanishByDefault are the countries whose customers get Spanish when their browser states no
// preference for either language.
var spanishByDefault = map[string]bool{"ESP": true, "CHL": true, "MEX": true, "COL": true, "PER": true, "ARG": true}

// pickLang chooses the page language: ?lang= first (the switch and our form actions set it),
// then the browser's Accept-Language, then the customer's country.
func pickLang(r *http.Request, country string) string {
	switch l := r.URL.Query().Get("lang"); l {
	case es, en:
		return l
	}
	if l := acceptLanguage(r.Header.Get("Accept-Language")); l != "" {
		return l
	}
	if spanishByDefault[strings.ToUpper(country)] {
		return es
	}
	return en
}

// acceptLanguage returns es or en, whichever the header weights higher (the first on a tie), or
// "" when it names neither.
func acceptLanguage(h string) string {
	best, bestQ := "", 0.0
	for _, part := range strings.Split(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if primary != es && primary != en {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		if q > bestQ {
			best, bestQ = primary, q
		}
	}
	return best
}

// text is every string the pages show: key → {Spanish, English}.
var text = map[string][2]string{
	"lang.nav":       {"Idioma", "Language"},
	"optional":       {"opcional", "optional"},
	"choose":         {"Elige una opción", "Choose an option"},
	"choose.country": {"Elige primero el país", "Choose the country first"},
	"footer":         {"Tus datos viajan cifrados y solo se usan para la verificación.", "Your data travels encrypted and is only used for the verification."},

	"err.summary":     {"Revisa los campos marcados", "Please check the highlighted fields"},
	"err.refile":      {"Por seguridad, los archivos no se conservan: vuelve a adjuntarlos.", "For your security files are not kept: please attach them again."},
	"err.required":    {"Este campo es obligatorio.", "This field is required."},
	"err.check":       {"Revisa este campo: %s", "Please check this field: %s"},
	"err.too_long":    {"El texto es demasiado largo (máximo %s caracteres).", "This is too long (at most %s characters)."},
	"err.id_number":   {"El número de documento no es válido (%s).", "The document number is not valid (%s)."},
	"err.id_type":     {"Este tipo de documento no corresponde al país elegido.", "This document type does not belong to the chosen country."},
	"err.country":     {"Elige un país de la lista.", "Choose a country from the list."},
	"err.too_large":   {"Los archivos ocupan demasiado: cada uno puede tener hasta 10 MB y el envío completo hasta 40 MB.", "The files are too large: each may be up to 10 MB and the whole submission up to 40 MB."},
	"err.too_many":    {"Puedes adjuntar como máximo %d archivos.", "You can attach at most %d files."},
	"err.kyb_expired": {"Tu sesión ha caducado. Introduce la contraseña otra vez.", "Your session has expired. Please enter the password again."},
	"err.kyb_locked":  {"Demasiadas contraseñas incorrectas. Vuelve a intentarlo dentro de %d minutos.", "Too many wrong passwords. Please try again in %d minutes."},

	"link.title": {"Este enlace no es válido", "This link is not valid"},
	"link.body":  {"Puede que haya caducado o que ya se haya usado. Pide un enlace nuevo en la aplicación desde la que llegaste.", "It may have expired or already been used. Ask the app that sent you here for a new link."},
	"csrf.title": {"La página ha caducado", "This page has expired"},
	"csrf.body":  {"No pudimos confirmar que el envío viniera de este formulario. Vuelve a abrir el enlace e inténtalo de nuevo.", "We could not confirm the submission came from this form. Open the link again and try once more."},
	"bad.title":  {"No pudimos leer el envío", "We could not read the submission"},
	"bad.body":   {"Vuelve a abrir el enlace e inténtalo de nuevo.", "Open the link again and try once more."},
	"500.title":  {"Algo ha ido mal", "Something went wrong"},
	"500.body":   {"No es culpa tuya. Inténtalo de nuevo en unos minutos.", "It is not your fault. Please try again in a few minutes."},

	"done.title":      {"¡Gracias!", "Thank you!"},
	"done.kyc":        {"Hemos recibido tu verificación. La revisaremos en breve y te avisaremos del resultado.", "We have received your verification. We will review it shortly and let you know the result."},
	"done.kyb":        {"Hemos recibido la información de tu empresa. La revisaremos en breve y te avisaremos del resultado.", "We have received your company's information. We will review it shortly and let you know the result."},
	"done.onboarding": {"Hemos recibido tu declaración. Cuando la aprobemos, se ampliarán tus límites.", "We have received your declaration. Once we approve it, your limits will be raised."},
	"done.redirect":   {"Te llevaremos de vuelta a %s en unos segundos.", "We will take you back to %s in a few seconds."},
	"done.back":       {"Volver a %s", "Return to %s"},
	"done.close":      {"Ya puedes cerrar esta página.", "You can close this page now."},

	"status.processing":       {"Estamos revisando tu verificación", "We are reviewing your verification"},
	"status.processing.body":  {"Ya hemos recibido tus datos. No tienes que hacer nada más: te avisaremos cuando terminemos.", "We already have your details. There is nothing else you need to do: we will let you know when we are done."},
	"status.valid":            {"Tu identidad ya está verificada", "Your identity is already verified"},
	"status.valid.company":    {"Tu empresa ya está verificada", "Your company is already verified"},
	"status.valid.body":       {"No tienes que hacer nada más.", "There is nothing else you need to do."},
	"status.onboarding":       {"Ya hemos recibido tu declaración", "We already have your declaration"},
	"status.onboarding.valid": {"Tu verificación reforzada ya está aprobada", "Your enhanced verification is already approved"},

	"kyc.title":      {"Verifica tu identidad", "Verify your identity"},
	"kyc.intro":      {"Necesitamos algunos datos y fotos de tu documento de identidad para cumplir la normativa contra el blanqueo de capitales. Tardarás unos 5 minutos.", "We need a few details and photos of your ID document to comply with anti-money-laundering rules. It takes about 5 minutes."},
	"kyc.rejected":   {"No pudimos aprobar tu verificación anterior. Revisa tus datos y vuelve a enviarla.", "We could not approve your previous verification. Please check your details and send it again."},
	"kyc.personal":   {"Datos personales", "Personal details"},
	"kyc.document":   {"Documento de identidad", "Identity document"},
	"kyc.address":    {"Domicilio", "Home address"},
	"kyc.photos":     {"Fotos", "Photos"},
	"kyc.photos.h":   {"Fotos nítidas, sin reflejos y con las cuatro esquinas visibles. JPEG, PNG o PDF, hasta 10 MB cada una.", "Sharp photos, no glare, all four corners visible. JPEG, PNG or PDF, up to 10 MB each."},
	"kyc.consent":    {"Consentimiento", "Consent"},
	"kyc.submit":     {"Enviar verificación", "Submit verification"},
	"f.name":         {"Nombre", "First name"},
	"f.last_name":    {"Apellidos", "Last name"},
	"f.dob":          {"Fecha de nacimiento", "Date of birth"},
	"f.country":      {"País", "Country"},
	"f.id_type":      {"Tipo de documento", "Document type"},
	"f.id_number":    {"Número de documento", "Document number"},
	"h.id_number":    {"Tal como aparece en el documento, con letras si las tiene.", "As printed on the document, including any letters."},
	"f.address":      {"Dirección", "Street address"},
	"f.city":         {"Ciudad", "City"},
	"f.zipcode":      {"Código postal", "Postcode"},
	"f.front":        {"Parte delantera del documento", "Front of the document"},
	"f.back":         {"Parte trasera del documento", "Back of the document"},
	"h.back":         {"Si es un pasaporte, sube la página de la firma.", "For a passport, upload the signature page."},
	"f.selfie":       {"Selfie", "Selfie"},
	"h.selfie":       {"Una foto de tu cara, mirando a la cámara y con buena luz.", "A photo of your face, looking at the camera, in good light."},
	"f.consent":      {"Acepto que pocketramp trate mis datos personales y documentos para verificar mi identidad, como exige la normativa de prevención del blanqueo de capitales.", "I agree that pocketramp processes my personal data and documents to verify my identity, as anti-money-laundering rules require."},
	"kyb.title":      {"Verificación de empresa", "Company verification"},
	"kyb.unlock":     {"Introduce la contraseña de 12 caracteres que recibiste junto con este enlace.", "Enter the 12-character password you received with this link."},
	"kyb.continue":   {"Continuar", "Continue"},
	"kyb.intro":      {"Necesitamos los datos de tu empresa, sus titulares reales y sus documentos de constitución.", "We need your company's details, its beneficial owners and its incorporation documents."},
	"kyb.company":    {"Empresa", "Company"},
	"kyb.owners":     {"Titulares reales", "Beneficial owners"},
	"kyb.owners.h":   {"Personas que poseen o controlan, directa o indirectamente, más del 25 % de la empresa. Añade al menos una.", "People who own or control, directly or indirectly, more than 25% of the company. Add at least one."},
	"kyb.owner":      {"Titular %d", "Owner %d"},
	"kyb.add":        {"Añadir otro titular", "Add another owner"},
	"kyb.docs":       {"Documentos", "Documents"},
	"kyb.submit":     {"Enviar verificación", "Submit verification"},
	"f.password":     {"Contraseña", "Password"},
	"f.company":      {"Razón social", "Company name"},
	"f.reg_country":  {"País de registro", "Country of registration"},
	"f.tax_type":     {"Tipo de identificación fiscal", "Tax ID type"},
	"f.tax_number":   {"Número de identificación fiscal", "Tax ID number"},
	"f.reg_address":  {"Domicilio social", "Registered address"},
	"f.owner_name":   {"Nombre completo", "Full name"},
	"f.owner_id":     {"Número de documento", "ID number"},
	"f.owner_pct":    {"Participación (%)", "Ownership (%)"},
	"f.company_docs": {"Documentos de la empresa", "Company documents"},
	"h.company_docs": {"Escritura de constitución, extracto del registro mercantil, estructura de propiedad… Puedes elegir varios archivos (JPEG, PNG o PDF, hasta 10 MB cada uno).", "Deed of incorporation, company registry extract, ownership chart… You can choose several files (JPEG, PNG or PDF, up to 10 MB each)."},

	"ob.title":       {"Verificación reforzada", "Enhanced verification"},
	"ob.intro":       {"Para ampliar tus límites necesitamos saber de dónde procede tu dinero y cómo usarás el servicio.", "To raise your limits we need to know where your money comes from and how you will use the service."},
	"ob.funds":       {"Tu actividad y tus fondos", "Your activity and funds"},
	"ob.declaration": {"Declaración", "Declaration"},
	"ob.docs":        {"Justificantes", "Evidence"},
	"ob.submit":      {"Enviar declaración", "Submit declaration"},
	"f.source":       {"Origen de los fondos", "Source of funds"},
	"f.activity":     {"Actividad profesional", "Occupation or business activity"},
	"h.activity":     {"Cuéntanos a qué te dedicas y para qué usarás el servicio.", "Tell us what you do for a living and what you will use the service for."},
	"f.volume":       {"Volumen mensual previsto", "Expected monthly volume"},
	"f.support_docs": {"Documentos justificativos", "Supporting documents"},
	"h.support_docs": {"Nóminas, extractos bancarios, escrituras… JPEG, PNG o PDF, hasta 10 MB cada uno.", "Payslips, bank statements, deeds… JPEG, PNG or PDF, up to 10 MB each."},
	"f.declaration":  {"Declaro que la información facilitada es veraz y que los fondos no proceden de actividades ilícitas.", "I declare that the information given is true and that the funds do not come from unlawful activities."},

	"src.salary":           {"Salario o pensión", "Salary or pension"},
	"src.business":         {"Ingresos de un negocio", "Business income"},
	"src.savings":          {"Ahorros", "Savings"},
	"src.investments":      {"Inversiones", "Investments"},
	"src.inheritance":      {"Herencia o donación", "Inheritance or gift"},
	"src.sale_of_property": {"Venta de un inmueble", "Sale of property"},
	"src.crypto":           {"Criptoactivos", "Crypto assets"},
	"src.other":            {"Otro", "Other"},
	"vol.lt_1000":          {"Menos de 1.000 €", "Less than €1,000"},
	"vol.1000_10000":       {"De 1.000 € a 10.000 €", "€1,000 to €10,000"},
	"vol.10000_50000":      {"De 10.000 € a 50.000 €", "€10,000 to €50,000"},
	"vol.gt_50000":         {"Más de 50.000 €", "More than €50,000"},

	"country.ESP": {"España", "Spain"},
	"country.CHL": {"Chile", "Chile"},
	"country.MEX": {"México", "Mexico"},
	"country.COL": {"Colombia", "Colombia"},
	"country.PER": {"Perú", "Peru"},
	"country.ARG": {"Argentina", "Argentina"},

	"id.GOVERNMENT_ID":              {"DNI", "DNI (national ID card)"},
	"id.PERMANENT_RESIDENCE_PERMIT": {"NIE", "NIE (foreigner ID number)"},
	"id.PASSPORT":                   {"Pasaporte", "Passport"},
	"id.RUT":                        {"RUT", "RUT"},
	"id.CURP":                       {"CURP", "CURP"},
	"id.CED_CIU":                    {"Cédula de ciudadanía", "Citizenship card (CC)"},
	"id.CED_EXT":                    {"Cédula de extranjería", "Foreigner ID card (CE)"},
	"id.TI":                         {"Tarjeta de identidad", "Identity card (TI)"},
	"id.NUIP":                       {"NUIP", "NUIP"},
	"id.TE":                         {"Tarjeta de extranjería", "Foreigner card (TE)"},
	"id.PPT":                        {"Permiso por Protección Temporal (PPT)", "Temporary Protection Permit (PPT)"},
	"id.PASS":                       {"Pasaporte", "Passport"},
	"id.PEP":                        {"Permiso Especial de Permanencia (PEP)", "Special Stay Permit (PEP)"},
	"id.RC":                         {"Registro civil", "Civil registration (RC)"},
	"id.DNI":                        {"DNI", "DNI (national ID card)"},
	"id.CE":                         {"Carné de extranjería", "Foreigner card (CE)"},
	"id.CUIT":                       {"CUIT / CUIL", "CUIT / CUIL"},
	"id.CIF":                        {"CIF / NIF", "CIF / NIF"},
	"id.RFC":                        {"RFC", "RFC"},
	"id.NIT":                        {"NIT", "NIT"},
	"id.RUC":                        {"RUC", "RUC"},
}

// tr returns the text of key in lang, formatted with args; an unknown key shows itself so a
// missing translation is visible rather than blank.
func tr(lang, key string, args ...any) string {
	t, ok := text[key]
	if !ok {
		return key
	}
	s := t[1]
	if lang == es {
		s = t[0]
	}
	if len(args) > 0 {
		s = fmt.Sprintf(s, args...)
	}
	return s
}

// serviceText translates the customer service's English field messages into Spanish. The keys
// are the messages' stable English; patterns below cover the parametrised ones.
var serviceText = map[string]string{
	"You must accept the processing of your data to continue.":                        "Debes aceptar el tratamiento de tus datos para continuar.",
	"The password is not correct.":                                                    "La contraseña no es correcta.",
	"Declare at least one beneficial owner.":                                          "Indica al menos un titular real.",
	"Upload at least one company document (deed of incorporation, registry extract).": "Sube al menos un documento de la empresa (escritura de constitución, extracto del registro).",
	"Choose a source of funds.":                                                       "Elige el origen de los fondos.",
	"Choose the expected volume.":                                                     "Elige el volumen previsto.",
	"You must confirm the declaration is true.":                                       "Debes confirmar que la declaración es veraz.",
	"The activity must not be greater than 2000 characters.":                          "El texto es demasiado largo (máximo 2000 caracteres).",
	"The file must be a PDF, JPEG or PNG image.":                                      "El archivo debe ser un PDF o una imagen JPEG o PNG.",
	"The file is empty.":                                                              "El archivo está vacío.",
	"The file is larger than 10 MB.":                                                  "El archivo ocupa más de 10 MB.",
	"customer must be at least 18 years old":                                          "Debes tener al menos 18 años.",
	"dob is in the future":                                                            "La fecha está en el futuro.",
	"dob is more than 120 years ago":                                                  "La fecha es de hace más de 120 años.",
	"dob must be a date in YYYY-MM-DD format":                                         "Introduce una fecha válida.",
}

var (
	reRequired = regexp.MustCompile(`^The [a-z0-9 ]+ field is required`)
	reTooLong  = regexp.MustCompile(`^The [a-z0-9 ]+ field must not be greater than (\d+) characters\.$`)
	reIDNumber = regexp.MustCompile(`^The identification number is not valid: (.*)\.$`)
)

// fieldMessage shows a service field message in lang: the frequent ones are translated, the
// rest get a translated "please check this field" around the service's own words.
func fieldMessage(lang, msg string) string {
	switch {
	case reRequired.MatchString(msg):
		return tr(lang, "err.required")
	case strings.HasPrefix(msg, "The identification type must be one of"):
		return tr(lang, "err.id_type")
	case strings.HasPrefix(msg, "The country code must be"):
		return tr(lang, "err.country")
	}
	if m := reTooLong.FindStringSubmatch(msg); m != nil {
		return tr(lang, "err.too_long", m[1])
	}
	if m := reIDNumber.FindStringSubmatch(msg); m != nil {
		return tr(lang, "err.id_number", m[1])
	}
	if lang == en {
		if s := strings.TrimSpace(msg); s != "" && !strings.HasSuffix(s, ".") {
			return strings.ToUpper(s[:1]) + s[1:] + "."
		}
		return msg
	}
	if s, ok := serviceText[msg]; ok {
		return s
	}
	return tr(lang, "err.check", msg)
}
