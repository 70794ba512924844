package docs

import (
	"bytes"
	"html"
	"html/template"
	"path"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// rendered is one page's HTML and what the layout needs around it.
type rendered struct {
	Title string
	TOC   []tocEntry
	Body  template.HTML
}

type tocEntry struct {
	ID, Text string
}

// markdown is the one Markdown pipeline: GitHub-flavoured tables, heading ids, {#id} attributes,
// no raw HTML (comments carry test directives and are dropped), links between the .md files
// rewritten to /docs URLs, and "http" blocks shown as labelled requests and responses.
var markdown = goldmark.New(
	goldmark.WithExtensions(extension.Table, extension.Strikethrough),
	goldmark.WithParserOptions(parser.WithAutoHeadingID(), parser.WithAttribute(),
		parser.WithASTTransformers(util.Prioritized(linkRewriter{}, 100))),
	goldmark.WithRendererOptions(renderer.WithNodeRenderers(util.Prioritized(blockRenderer{}, 100))),
)

func renderMarkdown(src []byte) (rendered, error) {
	doc := markdown.Parser().Parse(text.NewReader(src))
	var r rendered
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		h, ok := n.(*ast.Heading)
		if !entering || !ok {
			return ast.WalkContinue, nil
		}
		id, _ := h.AttributeString("id")
		idStr, _ := id.([]byte)
		switch h.Level {
		case 1:
			if r.Title == "" {
				r.Title = plainText(h, src)
			}
		case 2:
			r.TOC = append(r.TOC, tocEntry{ID: string(idStr), Text: plainText(h, src)})
		}
		return ast.WalkSkipChildren, nil
	})
	var buf bytes.Buffer
	if err := markdown.Renderer().Render(&buf, src, doc); err != nil {
		return r, err
	}
	r.Body = template.HTML(buf.String())
	return r, nil
}

// plainText is the text of an inline tree (headings).
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch t := c.(type) {
		case *ast.Text:
			b.Write(t.Segment.Value(src))
			if t.SoftLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(t.Value)
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}

// slugOf maps a Markdown file name to its page slug.
func slugOf(file string) (string, bool) {
	for _, p := range Pages {
		if p.File == file && p.File != "" {
			return p.Slug, true
		}
	}
	if file == "api.md" { // the generated reference has no file; link to it as api.md
		return "api", true
	}
	return "", false
}

// linkRewriter turns links between the Markdown files ("buy.md#quote") into /docs URLs, so the
// sources read well on a code host and the served pages link to each other.
type linkRewriter struct{}

func (linkRewriter) Transform(doc *ast.Document, reader text.Reader, pc parser.Context) {
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		l, ok := n.(*ast.Link)
		if !entering || !ok {
			return ast.WalkContinue, nil
		}
		dest := string(l.Destination)
		file, frag, _ := strings.Cut(dest, "#")
		if strings.Contains(file, ":") || !strings.HasSuffix(file, ".md") {
			return ast.WalkContinue, nil
		}
		if slug, ok := slugOf(path.Base(file)); ok {
			u := href(slug)
			if frag != "" {
				u += "#" + frag
			}
			l.Destination = []byte(u)
		}
		return ast.WalkContinue, nil
	})
}

// blockRenderer renders fenced code blocks (examples get a label and a curl equivalent) and
// drops raw HTML.
type blockRenderer struct{}

func (blockRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindFencedCodeBlock, renderFenced)
	reg.Register(ast.KindHTMLBlock, func(util.BufWriter, []byte, ast.Node, bool) (ast.WalkStatus, error) {
		return ast.WalkSkipChildren, nil
	})
	reg.Register(ast.KindRawHTML, func(util.BufWriter, []byte, ast.Node, bool) (ast.WalkStatus, error) {
		return ast.WalkSkipChildren, nil
	})
}

var languageNames = map[string]string{"go": "Go", "js": "JavaScript (Node.js)", "javascript": "JavaScript (Node.js)",
	"python": "Python", "php": "PHP", "sh": "Shell", "json": "JSON", "text": ""}

func blockText(n ast.Node, src []byte) string {
	var b strings.Builder
	lines := n.Lines()
	for i := 0; i < lines.Len(); i++ {
		seg := lines.At(i)
		b.Write(seg.Value(src))
	}
	return b.String()
}

func renderFenced(w util.BufWriter, src []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.FencedCodeBlock)
	lang, attrs := parseInfo(n, src)
	body := blockText(n, src)
	esc := html.EscapeString
	if lang != "http" {
		w.WriteString(`<div class="code">`)
		if name := languageNames[lang]; name != "" {
			w.WriteString(`<div class="code-label">` + esc(name) + `</div>`)
		}
		w.WriteString(`<pre><code`)
		if lang != "" {
			w.WriteString(` class="language-` + esc(lang) + `"`)
		}
		w.WriteString(`>` + esc(body) + "</code></pre></div>\n")
		return ast.WalkSkipChildren, nil
	}
	if isResponse(body) {
		label := "Response"
		if _, ok := attrs["wait"]; ok {
			label = "Response (poll until it looks like this)"
		}
		w.WriteString(`<div class="example response"><div class="code-label">` + esc(label) + `</div><pre><code>` +
			esc(body) + "</code></pre></div>\n")
		return ast.WalkSkipChildren, nil
	}
	w.WriteString(`<div class="example request"><div class="code-label">Request</div><pre><code>` + esc(body) + `</code></pre>`)
	if req, err := ParseRequest(body); err == nil {
		w.WriteString(`<details><summary>as curl</summary><pre><code>` + esc(req.Curl()) + `</code></pre></details>`)
	}
	w.WriteString("</div>\n")
	return ast.WalkSkipChildren, nil
}

// parseInfo splits a fenced block's info string into its language and attributes
// ("http wait" → "http", {"wait": ""}; "http wait=60s" → {"wait": "60s"}).
func parseInfo(n *ast.FencedCodeBlock, src []byte) (string, map[string]string) {
	attrs := map[string]string{}
	if n.Info == nil {
		return "", attrs
	}
	fields := strings.Fields(string(n.Info.Segment.Value(src)))
	if len(fields) == 0 {
		return "", attrs
	}
	for _, f := range fields[1:] {
		k, v, _ := strings.Cut(f, "=")
		attrs[k] = v
	}
	return strings.ToLower(fields[0]), attrs
}
