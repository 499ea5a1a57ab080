package spec

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v4"
)

// source remembers the file a spec came from and the position of every
// value in it, keyed by path ("alarms[0].period", "channels.slack.url").
type source struct {
	file string
	pos  map[string]Pos
}

// at returns the position of path, or of its nearest ancestor that has one
// (a defaulted value has no position of its own).
func (s *source) at(path string) Pos {
	if s == nil {
		return Pos{}
	}
	for {
		if p, ok := s.pos[path]; ok {
			return p
		}
		i := strings.LastIndexAny(path, ".[")
		if i <= 0 {
			return Pos{File: s.file, Line: 1, Col: 1}
		}
		path = path[:i]
	}
}

// has reports whether path was written in the file.
func (s *source) has(path string) bool {
	if s == nil {
		return false
	}
	_, ok := s.pos[path]
	return ok
}

// unsetVar is a ${VAR} whose variable is not set.
type unsetVar struct {
	name string
	pos  Pos
	path string
}

// maxNodes bounds the work of decoding, so that nested aliases cannot make
// a small file expand without end.
const maxNodes = 1 << 16

// decoder turns a YAML node tree into spec types. Unlike yaml's own
// decoder it reports every problem with its line and column, keeps going
// after the first one, expands ${VAR}, and records each value's position.
type decoder struct {
	src    *source
	lookup func(string) (string, bool)
	diags  Diagnostics
	unset  []unsetVar
	nodes  int
	depth  int
	// active holds the alias targets being decoded, to catch an alias that
	// refers to a value containing it.
	active map[*yaml.Node]bool
	fields map[reflect.Type]*structInfo
}

// maxDepth bounds nesting; no spec needs more than a few levels.
const maxDepth = 64

// nodeDecoder is implemented by spec types with a YAML shape of their own.
type nodeDecoder interface {
	decodeNode(d *decoder, n *yaml.Node, path string)
}

func (d *decoder) pos(n *yaml.Node) Pos {
	return Pos{File: d.src.file, Line: n.Line, Col: n.Column}
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.diags = append(d.diags, Diagnostic{Pos: d.pos(n), Severity: Error, Message: fmt.Sprintf(format, args...)})
}

// resolve follows aliases and counts the nodes visited.
func (d *decoder) resolve(n *yaml.Node) (*yaml.Node, bool) {
	for hops := 0; n.Kind == yaml.AliasNode; hops++ {
		if n.Alias == nil || hops > 100 {
			d.errorf(n, "alias %q cannot be resolved", n.Value)
			return nil, false
		}
		n = n.Alias
	}
	d.nodes++
	if d.nodes > maxNodes {
		if d.nodes == maxNodes+1 {
			d.errorf(n, "the spec expands to more than %d values (aliases nested too deep?)", maxNodes)
		}
		return nil, false
	}
	return n, true
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// value decodes n into v and records its position under path.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	alias := n
	n, ok := d.resolve(n)
	if !ok {
		return
	}
	if alias != n {
		if d.active[n] {
			d.errorf(alias, "%s: alias *%s refers to a value that contains it", displayPath(path), alias.Value)
			return
		}
		d.active[n] = true
		defer delete(d.active, n)
	}
	if d.depth >= maxDepth {
		d.errorf(n, "%s: nested more than %d levels deep", displayPath(path), maxDepth)
		return
	}
	d.depth++
	defer func() { d.depth-- }()
	d.src.pos[path] = d.pos(n)
	if v.CanAddr() {
		if nd, ok := v.Addr().Interface().(nodeDecoder); ok {
			nd.decodeNode(d, n, path)
			return
		}
	}
	switch v.Kind() {
	case reflect.Pointer:
		if isNull(n) {
			v.SetZero()
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(n, v.Elem(), path)
	case reflect.Struct:
		d.structure(n, v, path)
	case reflect.Slice:
		d.slice(n, v, path)
	case reflect.String:
		if s, ok := d.scalar(n, path, "a string"); ok {
			v.SetString(s)
		}
	case reflect.Bool:
		if s, ok := d.scalar(n, path, "true or false"); ok {
			switch s {
			case "true":
				v.SetBool(true)
			case "false":
				v.SetBool(false)
			default:
				d.errorf(n, "%s: want true or false, got %q", path, s)
			}
		}
	case reflect.Int, reflect.Int64:
		if s, ok := d.scalar(n, path, "a whole number"); ok {
			i, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				d.errorf(n, "%s: want a whole number, got %q", path, s)
				return
			}
			v.SetInt(i)
		}
	case reflect.Float64:
		if s, ok := d.scalar(n, path, "a number"); ok {
			f, ok := parseNumber(s)
			if !ok {
				d.errorf(n, "%s: want a finite number, got %q", path, s)
				return
			}
			v.SetFloat(f)
		}
	default:
		// Every spec type is one of the kinds above; reaching here is a
		// programming error in this package, not a user error.
		panic(fmt.Sprintf("spec: cannot decode into %s", v.Type()))
	}
}

// parseNumber parses a finite number; YAML's .inf and .nan are refused.
func parseNumber(s string) (float64, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// scalar returns the text of a scalar node with ${VAR} expanded. A null
// becomes "". want describes the expected value for the error message.
func (d *decoder) scalar(n *yaml.Node, path, want string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, "%s: want %s, got %s", path, want, kindName(n))
		return "", false
	}
	if isNull(n) {
		return "", true
	}
	return d.expand(n, path)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "nothing"
}

// expand replaces ${VAR} and ${VAR:-default} in a scalar's text.
func (d *decoder) expand(n *yaml.Node, path string) (string, bool) {
	out, missing, err := expandEnv(n.Value, d.lookup)
	if err != nil {
		d.errorf(n, "%s: %v", path, err)
		return "", false
	}
	for _, name := range missing {
		d.unset = append(d.unset, unsetVar{name: name, pos: d.pos(n), path: path})
	}
	return out, true
}

// expandEnv expands variables in s. It returns the names of variables that
// were referenced without a default and are not set; they expand to "".
func expandEnv(s string, lookup func(string) (string, bool)) (string, []string, error) {
	if !strings.Contains(s, "$") {
		return s, nil, nil
	}
	var b strings.Builder
	var missing []string
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
			continue
		case '{':
		default:
			b.WriteByte(c)
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			return "", nil, fmt.Errorf("unterminated ${ in %q", s)
		}
		expr := s[i+2 : i+2+end]
		name, def, hasDef := strings.Cut(expr, ":-")
		if !validEnvName(name) {
			return "", nil, fmt.Errorf("invalid variable name %q in ${%s} (use letters, digits and _; write $$ for a literal $)", name, expr)
		}
		val, ok := lookup(name)
		switch {
		case ok && val != "":
			b.WriteString(val)
		case hasDef:
			b.WriteString(def)
		case !ok:
			missing = append(missing, name)
		}
		i += 2 + end
	}
	return b.String(), missing, nil
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// structInfo maps YAML keys to struct fields.
type structInfo struct {
	byName  map[string]int
	names   []string
	key     int // field that receives a named mapping's key, or -1
	enabled int // field of type Enabled, or -1
}

var enabledType = reflect.TypeFor[Enabled]()

func (d *decoder) info(t reflect.Type) *structInfo {
	if si, ok := d.fields[t]; ok {
		return si
	}
	si := &structInfo{byName: map[string]int{}, key: -1, enabled: -1}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if !f.IsExported() || tag == "" || tag == "-" {
			continue
		}
		if tag == ",key" {
			si.key = i
			continue
		}
		if f.Type == enabledType {
			si.enabled = i
		}
		si.byName[tag] = i
		si.names = append(si.names, tag)
	}
	d.fields[t] = si
	return si
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// structure decodes a mapping into a struct. Unknown and repeated keys are
// errors. The enabled key is decoded first, so that the part's unset
// variables can be dropped (enabled: false) or turn it off (if-set).
func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s: want a mapping, got %s", displayPath(path), kindName(n))
		return
	}
	si := d.info(v.Type())
	outer := d.unset
	d.unset = nil
	var enabled *Enabled
	if si.enabled >= 0 {
		enabled = v.Field(si.enabled).Addr().Interface().(*Enabled)
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "enabled" {
				d.value(n.Content[i+1], v.Field(si.enabled), join(path, "enabled"))
			}
		}
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		name, ok := d.key(k, path, seen)
		if !ok {
			continue
		}
		idx, known := si.byName[name]
		if !known {
			d.errorf(k, "unknown key %q in %s%s", name, displayPath(path), suggest(name, si.names))
			continue
		}
		if idx == si.enabled {
			continue
		}
		d.value(val, v.Field(idx), join(path, name))
	}
	inner := d.unset
	d.unset = outer
	if enabled != nil {
		switch {
		case enabled.mode == EnabledFalse:
			return
		case enabled.mode == EnabledIfSet && len(inner) > 0:
			for _, u := range inner {
				enabled.missing = appendUnique(enabled.missing, u.name)
			}
			return
		}
	}
	d.unset = append(d.unset, inner...)
}

// key checks a mapping key: a plain string, not repeated, not a merge key.
func (d *decoder) key(k *yaml.Node, path string, seen map[string]*yaml.Node) (string, bool) {
	if k.Kind != yaml.ScalarNode || isNull(k) {
		d.errorf(k, "%s: keys must be plain strings", displayPath(path))
		return "", false
	}
	if k.Value == "<<" {
		d.errorf(k, "%s: merge keys (<<) are not supported; repeat the values or use an alias for the whole value", displayPath(path))
		return "", false
	}
	if first, dup := seen[k.Value]; dup {
		d.errorf(k, "%s: key %q repeated (first at line %d)", displayPath(path), k.Value, first.Line)
		return "", false
	}
	seen[k.Value] = k
	return k.Value, true
}

func displayPath(path string) string {
	if path == "" {
		return "the spec"
	}
	return path
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// slice decodes a list, or, for element types with a key field, a mapping
// of name → element (channels, topics).
func (d *decoder) slice(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		v.SetZero()
		return
	}
	et := v.Type().Elem()
	if et.Kind() == reflect.Struct && d.info(et).key >= 0 {
		d.namedMap(n, v, path)
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "%s: want a list, got %s", displayPath(path), kindName(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.value(item, out.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(out)
}

func (d *decoder) namedMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s: want a mapping of name to %s, got %s", displayPath(path), strings.ToLower(v.Type().Elem().Name()), kindName(n))
		return
	}
	keyField := d.info(v.Type().Elem()).key
	out := reflect.MakeSlice(v.Type(), 0, len(n.Content)/2)
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, ok := d.key(n.Content[i], path, seen)
		if !ok {
			continue
		}
		elem := reflect.New(v.Type().Elem()).Elem()
		elem.Field(keyField).SetString(name)
		d.value(n.Content[i+1], elem, join(path, name))
		out = reflect.Append(out, elem)
	}
	v.Set(out)
}

// suggest proposes the known key closest to an unknown one.
func suggest(name string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if dist := editDistance(name, k); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// syntaxError turns the YAML parser's error into a diagnostic.
func syntaxError(file string, err error) Diagnostic {
	var le *yaml.LoadError
	if errors.As(err, &le) {
		msg := le.Message
		if le.ContextMsg != "" {
			msg = le.ContextMsg + ": " + msg
		}
		return Diagnostic{Pos: Pos{File: file, Line: max(le.Mark.Line, 1), Col: max(le.Mark.Column, 1)}, Severity: Error, Message: "malformed YAML: " + msg}
	}
	var les *yaml.LoadErrors
	if errors.As(err, &les) && len(les.Errors) > 0 {
		return syntaxError(file, les.Errors[0])
	}
	return Diagnostic{Pos: Pos{File: file, Line: 1, Col: 1}, Severity: Error, Message: "malformed YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
}
