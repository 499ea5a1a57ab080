package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// val is a value the renderer writes: as an HCL expression in the
// Terraform module, and as JSON in the dashboard body. One tree serves
// both, so the dashboard that `render dashboard` prints and the one the
// module deploys cannot drift apart.
type val interface{ hcl() hclwrite.Tokens }

// str is a string made of parts: literal text, and references to
// Terraform values (var.workgroup_name) that stand for a known literal in
// JSON. A str with references becomes an HCL template.
type str []part

type part struct {
	// lit is the text, or for a reference the value it stands for.
	lit string
	// ref is an absolute traversal (var.region, aws_sns_topic.x.arn);
	// empty for literal text.
	ref string
}

// lit returns a literal string.
func lit(s string) str { return str{{lit: s}} }

// ref returns a reference that stands for the literal value v.
func ref(traversal, v string) str { return str{{lit: v, ref: traversal}} }

// cat concatenates strings.
func cat(parts ...str) str {
	var out str
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// String returns the value the string has once Terraform resolves it to
// the spec's values.
func (s str) String() string {
	var b bytes.Buffer
	for _, p := range s {
		b.WriteString(p.lit)
	}
	return b.String()
}

func (s str) hcl() hclwrite.Tokens {
	s = s.merged()
	switch {
	case len(s) == 0:
		return hclwrite.TokensForValue(cty.StringVal(""))
	case len(s) == 1 && s[0].ref == "":
		return hclwrite.TokensForValue(cty.StringVal(s[0].lit))
	case len(s) == 1:
		return traversal(s[0].ref)
	}
	toks := hclwrite.Tokens{{Type: hclsyntax.TokenOQuote, Bytes: []byte(`"`)}}
	for _, p := range s {
		if p.ref == "" {
			toks = append(toks, quotedLit(p.lit)...)
			continue
		}
		toks = append(toks, &hclwrite.Token{Type: hclsyntax.TokenTemplateInterp, Bytes: []byte("${")})
		toks = append(toks, traversal(p.ref)...)
		toks = append(toks, &hclwrite.Token{Type: hclsyntax.TokenTemplateSeqEnd, Bytes: []byte("}")})
	}
	return append(toks, &hclwrite.Token{Type: hclsyntax.TokenCQuote, Bytes: []byte(`"`)})
}

// merged joins adjacent literal parts.
func (s str) merged() str {
	var out str
	for _, p := range s {
		if n := len(out); n > 0 && p.ref == "" && out[n-1].ref == "" {
			out[n-1].lit += p.lit
			continue
		}
		out = append(out, p)
	}
	return out
}

// quotedLit returns the escaped body of a quoted string: hclwrite escapes
// quotes, backslashes, control characters and the template introducers
// ${ and %{ (as $${ and %%{).
func quotedLit(s string) hclwrite.Tokens {
	toks := hclwrite.TokensForValue(cty.StringVal(s))
	return toks[1 : len(toks)-1]
}

// traversal returns the tokens of an absolute traversal written in HCL
// syntax. The renderer builds every traversal itself from sanitised
// identifiers, so a parse failure is a bug.
func traversal(expr string) hclwrite.Tokens {
	t, diags := hclsyntax.ParseTraversalAbs([]byte(expr), "", hcl.InitialPos)
	if diags.HasErrors() {
		panic(fmt.Sprintf("render: bad traversal %q: %v", expr, diags))
	}
	return hclwrite.TokensForTraversal(t)
}

// num is a number.
type num float64

func (n num) hcl() hclwrite.Tokens { return hclwrite.TokensForValue(cty.NumberFloatVal(float64(n))) }

// boolean is true or false.
type boolean bool

func (b boolean) hcl() hclwrite.Tokens { return hclwrite.TokensForValue(cty.BoolVal(bool(b))) }

// list is a tuple.
type list []val

func (l list) hcl() hclwrite.Tokens {
	elems := make([]hclwrite.Tokens, len(l))
	multiline := false
	for i, v := range l {
		elems[i] = v.hcl()
		_, isObj := v.(obj)
		_, isList := v.(list)
		multiline = multiline || isObj || isList
	}
	if !multiline {
		return hclwrite.TokensForTuple(elems)
	}
	// One element a line, each with a trailing comma, as people write
	// lists of objects: `terraform fmt` keeps it and indents it evenly.
	nl := &hclwrite.Token{Type: hclsyntax.TokenNewline, Bytes: []byte("\n")}
	toks := hclwrite.Tokens{{Type: hclsyntax.TokenOBrack, Bytes: []byte("[")}, nl}
	for _, e := range elems {
		toks = append(toks, e...)
		toks = append(toks, &hclwrite.Token{Type: hclsyntax.TokenComma, Bytes: []byte(",")}, nl)
	}
	return append(toks, &hclwrite.Token{Type: hclsyntax.TokenCBrack, Bytes: []byte("]")})
}

// obj is an object whose keys keep the order they were added in.
type obj []field

type field struct {
	key string
	v   val
}

// bareKeyRE matches object keys that may be written without quotes.
var bareKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (o obj) hcl() hclwrite.Tokens {
	attrs := make([]hclwrite.ObjectAttrTokens, len(o))
	for i, f := range o {
		name := hclwrite.TokensForValue(cty.StringVal(f.key))
		if bareKeyRE.MatchString(f.key) && f.key != "true" && f.key != "false" && f.key != "null" {
			name = hclwrite.TokensForIdentifier(f.key)
		}
		attrs[i] = hclwrite.ObjectAttrTokens{Name: name, Value: f.v.hcl()}
	}
	return hclwrite.TokensForObject(attrs)
}

// call is a function call, such as jsonencode({...}).
type call struct {
	fn   string
	args []val
}

func (c call) hcl() hclwrite.Tokens {
	args := make([]hclwrite.Tokens, len(c.args))
	for i, a := range c.args {
		args[i] = a.hcl()
	}
	return hclwrite.TokensForFunctionCall(c.fn, args...)
}

// expr is an HCL expression written as source, such as a conditional.
// The renderer writes these from fixed text and identifiers only.
type expr string

func (e expr) hcl() hclwrite.Tokens {
	f, diags := hclwrite.ParseConfig([]byte("x = "+string(e)+"\n"), "", hcl.InitialPos)
	if diags.HasErrors() {
		panic(fmt.Sprintf("render: bad expression %q: %v", e, diags))
	}
	return f.Body().GetAttribute("x").Expr().BuildTokens(nil)
}

// toJSON converts a value tree to JSON. References become the literal
// values they stand for; calls and expressions have no JSON form.
func toJSON(v val) (any, error) {
	switch v := v.(type) {
	case str:
		return v.String(), nil
	case num:
		return float64(v), nil
	case boolean:
		return bool(v), nil
	case list:
		out := make([]any, len(v))
		for i, e := range v {
			j, err := toJSON(e)
			if err != nil {
				return nil, err
			}
			out[i] = j
		}
		return out, nil
	case obj:
		out := make(orderedJSON, len(v))
		for i, f := range v {
			j, err := toJSON(f.v)
			if err != nil {
				return nil, err
			}
			out[i] = jsonField{f.key, j}
		}
		return out, nil
	case expr:
		if v == "null" {
			return nil, nil
		}
	}
	return nil, fmt.Errorf("render: %T has no JSON form", v)
}

// orderedJSON is a JSON object that keeps its keys' order.
type orderedJSON []jsonField

type jsonField struct {
	key string
	v   any
}

func (o orderedJSON) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := encodeJSON(&b, f.key); err != nil {
			return nil, err
		}
		b.WriteByte(':')
		if err := encodeJSON(&b, f.v); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// encodeJSON writes v without escaping <, > and &: the dashboard's
// markdown and queries stay readable.
func encodeJSON(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}

// marshalIndent renders v as indented JSON ending in a newline.
func marshalIndent(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
