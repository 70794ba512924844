package docs

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// refGroups sort the operations of the reference into sections by path prefix; the first
// matching group wins, and operations keep the document's order inside a group.
var refGroups = []struct {
	Title    string
	Prefixes []string
}{
	{"Authentication and catalogue", []string{"/authenticate", "/available-assets", "/token-price"}},
	{"Sandbox", []string{"/sandbox/"}},
	{"Customers and KYC", []string{"/registerUser", "/register/", "/kyc/", "/onboarding-form", "/customers/"}},
	{"On-ramp (buy)", []string{"/payment-methods", "/quote", "/createPayment", "/createGuidedPayment", "/payment/", "/payments"}},
	{"Off-ramp (sell)", []string{"/rampoff", "/createRampoff", "/getRampoff"}},
	{"Webhooks and events", []string{"/webhooks", "/subscribeToWebhook", "/updateWebhookSubscription", "/unsubscribeFromWebhook", "/events"}},
	{"Bank accounts", []string{"/banking/"}},
	{"Other", []string{"/"}},
}

type operation struct {
	Method, Path string
	Op           *openapi3.Operation
	Item         *openapi3.PathItem
	line         int
}

var methodOrder = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// ReferenceMarkdown renders an OpenAPI document as the Markdown of the API reference page: one
// section per group of endpoints, each endpoint with its parameters, request body and
// responses, and a table per component schema ($refs link to it).
func ReferenceMarkdown(spec []byte) ([]byte, error) {
	loader := openapi3.NewLoader()
	loader.IncludeOrigin = true
	doc, err := loader.LoadFromData(spec)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	base := "/api"
	if len(doc.Servers) > 0 && strings.HasPrefix(doc.Servers[0].URL, "/") {
		base = strings.TrimSuffix(doc.Servers[0].URL, "/")
	}
	var ops []operation
	for p, item := range doc.Paths.Map() {
		line := 0
		if item.Origin != nil && item.Origin.Key != nil {
			line = item.Origin.Key.Line
		}
		for _, m := range methodOrder {
			if op := item.GetOperation(m); op != nil {
				ops = append(ops, operation{Method: m, Path: p, Op: op, Item: item, line: line})
			}
		}
	}
	sort.SliceStable(ops, func(i, j int) bool {
		if ops[i].line != ops[j].line {
			return ops[i].line < ops[j].line
		}
		if ops[i].Path != ops[j].Path {
			return ops[i].Path < ops[j].Path
		}
		return slices.Index(methodOrder, ops[i].Method) < slices.Index(methodOrder, ops[j].Method)
	})
	grouped := make([][]operation, len(refGroups))
	for _, op := range ops {
		for gi, g := range refGroups {
			if slices.ContainsFunc(g.Prefixes, func(pre string) bool { return strings.HasPrefix(op.Path, pre) }) {
				grouped[gi] = append(grouped[gi], op)
				break
			}
		}
	}

	w := &mdWriter{}
	w.line("# API reference")
	w.line("")
	w.line("Generated when the server starts from `openapi/openapi.yaml`, the same document every API test checks each response against; download it from `GET " + base + "/openapi.yaml`. " + fmt.Sprintf("Version %s, %d operations.", doc.Info.Version, len(ops)))
	w.line("")
	if doc.Info.Description != "" {
		w.line(strings.TrimSpace(doc.Info.Description))
		w.line("")
	}
	w.line("Every call except `POST " + base + "/authenticate` needs the token in a header named `auth` (or `Authorization: Bearer <token>`). Sandbox routes answer 404 to production integrations. Paths below include the `" + base + "` prefix. Request fields marked *required* are checked by the server (a missing one is a 422 naming it) even where the schema, which follows CryptoPocket's lenient shapes, does not insist.")
	w.line("")
	for gi, g := range refGroups {
		if len(grouped[gi]) == 0 {
			continue
		}
		w.line("## " + g.Title)
		w.line("")
		w.line("| Method | Path | Summary |")
		w.line("|---|---|---|")
		for _, op := range grouped[gi] {
			w.line(fmt.Sprintf("| `%s` | [`%s`](#%s) | %s |", op.Method, base+op.Path, opAnchor(op), cell(op.Op.Summary)))
		}
		w.line("")
		for _, op := range grouped[gi] {
			writeOperation(w, base, op)
		}
	}
	writeSchemas(w, doc)
	return []byte(w.String()), nil
}

func opAnchor(op operation) string {
	s := strings.ToLower(op.Method + "-" + op.Path)
	s = strings.NewReplacer("/", "-", "{", "", "}", "", "_", "-").Replace(s)
	for strings.Contains(s, "--") {
		s = strings.ReplaceAll(s, "--", "-")
	}
	return "op-" + strings.Trim(s, "-")
}

func schemaAnchor(name string) string { return "schema-" + strings.ToLower(name) }

type mdWriter struct{ strings.Builder }

func (w *mdWriter) line(s string) { w.WriteString(s + "\n") }

// cell makes text safe inside a table cell.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

func writeOperation(w *mdWriter, base string, op operation) {
	w.line(fmt.Sprintf("### `%s %s` {#%s}", op.Method, base+op.Path, opAnchor(op)))
	w.line("")
	if op.Op.Summary != "" {
		w.line(cell(op.Op.Summary) + ".")
		w.line("")
	}
	if op.Op.Description != "" {
		w.line(strings.TrimSpace(op.Op.Description))
		w.line("")
	}
	if op.Op.Security != nil && len(*op.Op.Security) == 0 {
		w.line("No token needed.")
		w.line("")
	}
	params := append(openapi3.Parameters{}, op.Item.Parameters...)
	params = append(params, op.Op.Parameters...)
	if len(params) > 0 {
		w.line("**Parameters**")
		w.line("")
		w.line("| Name | In | Type | Description |")
		w.line("|---|---|---|---|")
		for _, pr := range params {
			p := pr.Value
			if p == nil {
				continue
			}
			desc := p.Description
			if p.Required || strings.HasPrefix(strings.ToLower(desc), "required") {
				desc = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(desc, "required"), ";"))
				if desc != "" {
					desc = "*required*; " + desc
				} else {
					desc = "*required*"
				}
			}
			typ := ""
			if p.Schema != nil {
				typ = typeOf(p.Schema)
				if p.Schema.Value != nil && p.Schema.Value.Default != nil {
					desc = strings.TrimSpace(desc + fmt.Sprintf(" Default `%v`.", p.Schema.Value.Default))
				}
			}
			w.line(fmt.Sprintf("| `%s` | %s | %s | %s |", p.Name, p.In, typ, cell(desc)))
		}
		w.line("")
	}
	if rb := op.Op.RequestBody; rb != nil && rb.Value != nil {
		for _, ct := range sortedKeys(rb.Value.Content) {
			mt := rb.Value.Content[ct]
			w.line(fmt.Sprintf("**Request body** (`%s`)", ct))
			w.line("")
			writeSchemaBlock(w, mt.Schema)
		}
	}
	if op.Op.Responses != nil {
		w.line("**Responses**")
		w.line("")
		for _, code := range sortedKeys(op.Op.Responses.Map()) {
			rr := op.Op.Responses.Value(code)
			if rr == nil || rr.Value == nil {
				continue
			}
			desc := ""
			if rr.Value.Description != nil {
				desc = *rr.Value.Description
			}
			w.line(fmt.Sprintf("- **%s** %s", code, cell(desc)))
			w.line("")
			for _, ct := range sortedKeys(rr.Value.Content) {
				writeSchemaBlockIndented(w, rr.Value.Content[ct].Schema)
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// writeSchemaBlockIndented writes a response schema under its list item.
func writeSchemaBlockIndented(w *mdWriter, s *openapi3.SchemaRef) {
	inner := &mdWriter{}
	writeSchemaBlock(inner, s)
	for _, l := range strings.Split(strings.TrimRight(inner.String(), "\n"), "\n") {
		if l == "" {
			w.line("")
			continue
		}
		w.line("  " + l)
	}
	w.line("")
}

// writeSchemaBlock writes a schema: a link for a component, a field table for an object, one
// block per alternative for oneOf.
func writeSchemaBlock(w *mdWriter, s *openapi3.SchemaRef) {
	switch {
	case s == nil || s.Value == nil:
		return
	case s.Ref != "":
		w.line("[" + refName(s.Ref) + "](#" + schemaAnchor(refName(s.Ref)) + ")")
		w.line("")
	case len(s.Value.OneOf) > 0:
		w.line("One of:")
		w.line("")
		for i, alt := range s.Value.OneOf {
			if alt.Ref != "" {
				w.line(fmt.Sprintf("%d. [%s](#%s)", i+1, refName(alt.Ref), schemaAnchor(refName(alt.Ref))))
				w.line("")
				continue
			}
			w.line(fmt.Sprintf("%d. %s", i+1, describeAlt(alt)))
			w.line("")
			inner := &mdWriter{}
			writeSchemaBlock(inner, alt)
			for _, l := range strings.Split(strings.TrimRight(inner.String(), "\n"), "\n") {
				if l == "" {
					w.line("")
				} else {
					w.line("   " + l)
				}
			}
			w.line("")
		}
	case isObject(s.Value):
		rows := fieldRows(s, "", 0)
		if len(rows) == 0 {
			w.line("An object.")
			w.line("")
			return
		}
		w.line("| Field | Type | Required | Description |")
		w.line("|---|---|---|---|")
		for _, r := range rows {
			w.line(r)
		}
		w.line("")
	default:
		w.line("A value of type " + typeOf(s) + ".")
		w.line("")
	}
}

// describeAlt names a oneOf alternative by what tells it apart.
func describeAlt(s *openapi3.SchemaRef) string {
	v := s.Value
	if st := v.Properties["status"]; st != nil && st.Value != nil && len(st.Value.Enum) == 1 {
		return fmt.Sprintf("`status` is `%v`:", st.Value.Enum[0])
	}
	return "An object:"
}

func isObject(s *openapi3.Schema) bool {
	return s.Type.Is("object") || len(s.Properties) > 0 || len(s.AllOf) > 0
}

func refName(ref string) string { return ref[strings.LastIndex(ref, "/")+1:] }

// properties lists an object's properties (allOf merged) in document order.
func properties(s *openapi3.Schema) ([]string, map[string]*openapi3.SchemaRef, map[string]bool) {
	props := map[string]*openapi3.SchemaRef{}
	required := map[string]bool{}
	lines := map[string]int{}
	var order []string
	var add func(s *openapi3.Schema)
	add = func(s *openapi3.Schema) {
		for _, sub := range s.AllOf {
			if sub.Value != nil {
				add(sub.Value)
			}
		}
		for name, p := range s.Properties {
			if _, seen := props[name]; !seen {
				order = append(order, name)
			}
			props[name] = p
			if s.Origin != nil {
				if loc, ok := s.Origin.Fields.Lookup(name); ok {
					lines[name] = loc.Line
				}
			}
			if p.Origin != nil && p.Origin.Key != nil && lines[name] == 0 {
				lines[name] = p.Origin.Key.Line
			}
		}
		for _, r := range s.Required {
			required[r] = true
		}
	}
	add(s)
	sort.SliceStable(order, func(i, j int) bool {
		li, lj := lines[order[i]], lines[order[j]]
		if li == 0 || lj == 0 {
			if li == lj {
				return order[i] < order[j]
			}
			return li != 0
		}
		return li < lj
	})
	return order, props, required
}

// fieldRows flattens an object's fields into table rows; inline objects nest as a.b, arrays of
// inline objects as a[].b.
func fieldRows(s *openapi3.SchemaRef, prefix string, depth int) []string {
	order, props, required := properties(s.Value)
	var rows []string
	for _, name := range order {
		p := props[name]
		req := ""
		if required[name] {
			req = "yes"
		}
		desc := ""
		if p.Value != nil && p.Ref == "" {
			desc = p.Value.Description
		}
		rows = append(rows, fmt.Sprintf("| `%s` | %s | %s | %s |", prefix+name, typeOf(p), req, cell(desc)))
		if p.Ref != "" || p.Value == nil || depth > 4 {
			continue
		}
		switch {
		case isObject(p.Value) && len(p.Value.Properties) > 0:
			rows = append(rows, fieldRows(p, prefix+name+".", depth+1)...)
		case p.Value.Type.Is("array") && p.Value.Items != nil && p.Value.Items.Ref == "" && p.Value.Items.Value != nil &&
			isObject(p.Value.Items.Value) && len(p.Value.Items.Value.Properties) > 0:
			rows = append(rows, fieldRows(p.Value.Items, prefix+name+"[].", depth+1)...)
		}
	}
	return rows
}

// typeOf is a short description of a schema's type, with links to components.
func typeOf(s *openapi3.SchemaRef) string {
	if s == nil {
		return "any"
	}
	if s.Ref != "" {
		n := refName(s.Ref)
		return "[" + n + "](#" + schemaAnchor(n) + ")"
	}
	v := s.Value
	if v == nil {
		return "any"
	}
	var t string
	switch {
	case len(v.OneOf) > 0:
		alts := make([]string, len(v.OneOf))
		for i, a := range v.OneOf {
			alts[i] = typeOf(a)
		}
		t = strings.Join(alts, " or ")
	case len(v.AnyOf) > 0:
		alts := make([]string, len(v.AnyOf))
		for i, a := range v.AnyOf {
			alts[i] = typeOf(a)
		}
		t = strings.Join(alts, " or ")
	case v.Type.Is("array"):
		t = "array of " + typeOf(v.Items)
	case v.Type == nil || len(v.Type.Slice()) == 0:
		if len(v.Properties) > 0 {
			t = "object"
		} else {
			t = "any"
		}
	default:
		t = strings.Join(v.Type.Slice(), " or ")
		if v.Type.Is("object") && v.AdditionalProperties.Schema != nil {
			t = "map of " + typeOf(v.AdditionalProperties.Schema)
		}
	}
	var notes []string
	if v.Format != "" {
		notes = append(notes, v.Format)
	}
	if len(v.Enum) > 0 {
		vals := make([]string, len(v.Enum))
		for i, e := range v.Enum {
			vals[i] = fmt.Sprintf("`%v`", e)
		}
		notes = append(notes, "one of "+strings.Join(vals, ", "))
	}
	if v.Pattern != "" {
		notes = append(notes, "pattern `"+strings.ReplaceAll(v.Pattern, "|", `\|`)+"`")
	}
	if v.MaxLength != nil && v.MinLength == *v.MaxLength {
		notes = append(notes, fmt.Sprintf("%d characters", *v.MaxLength))
	}
	if v.Min != nil || v.Max != nil {
		switch {
		case v.Min != nil && v.Max != nil:
			notes = append(notes, fmt.Sprintf("%v–%v", *v.Min, *v.Max))
		case v.Min != nil:
			notes = append(notes, fmt.Sprintf("≥ %v", *v.Min))
		default:
			notes = append(notes, fmt.Sprintf("≤ %v", *v.Max))
		}
	}
	if v.Nullable {
		notes = append(notes, "nullable")
	}
	if len(notes) > 0 {
		t += " (" + strings.Join(notes, "; ") + ")"
	}
	return t
}

func writeSchemas(w *mdWriter, doc *openapi3.T) {
	if doc.Components == nil || len(doc.Components.Schemas) == 0 {
		return
	}
	names := sortedKeys(doc.Components.Schemas)
	w.line("## Schemas")
	w.line("")
	w.line("The objects the operations above refer to.")
	w.line("")
	for _, name := range names {
		s := doc.Components.Schemas[name]
		w.line(fmt.Sprintf("### %s {#%s}", name, schemaAnchor(name)))
		w.line("")
		if s.Value != nil && s.Value.Description != "" {
			w.line(strings.TrimSpace(s.Value.Description))
			w.line("")
		}
		if s.Value != nil && isObject(s.Value) {
			writeSchemaBlock(w, &openapi3.SchemaRef{Value: s.Value})
			continue
		}
		w.line(cell(typeOf(&openapi3.SchemaRef{Value: s.Value})) + ".")
		w.line("")
	}
}
