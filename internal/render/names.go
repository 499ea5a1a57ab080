package render

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/dpc-learning/dpcops/internal/spec"
)

// namer hands out Terraform identifiers (resource and variable names)
// made from spec names: lower case, [a-z0-9_], starting with a letter,
// and unique within the namer. The spec's order decides which of two
// names that sanitise alike gets the suffix, so output stays stable.
type namer struct {
	used map[string]bool
	// fallback prefixes a name with nothing usable in it ("アラーム").
	fallback string
	n        int
}

func newNamer(fallback string, reserved ...string) *namer {
	nm := &namer{used: map[string]bool{}, fallback: fallback}
	for _, r := range reserved {
		nm.used[r] = true
	}
	return nm
}

// name returns a fresh identifier for s.
func (nm *namer) name(s string) string {
	base := sanitize(s)
	if base == "" {
		nm.n++
		base = nm.fallback + "_" + strconv.Itoa(nm.n)
	}
	id := base
	for i := 2; nm.used[id]; i++ {
		id = base + "_" + strconv.Itoa(i)
	}
	nm.used[id] = true
	return id
}

// sanitize maps s to [a-z0-9_], collapsing runs of other characters into
// one underscore; a leading digit gets an "n" in front.
func sanitize(s string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			under = false
			continue
		}
		if !under && b.Len() > 0 {
			b.WriteByte('_')
			under = true
		}
	}
	out := strings.TrimSuffix(b.String(), "_")
	if out != "" && out[0] >= '0' && out[0] <= '9' {
		out = "n" + out
	}
	return out
}

// awsName maps s to the characters an AWS name allows (letters, digits,
// '-' and '_'), replacing others with '-'.
func awsName(s string) string {
	return strings.Map(func(r rune) rune {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_') {
			return r
		}
		return '-'
	}, s)
}

// Problem is one spec item the AWS-native form cannot express.
type Problem struct {
	// Pos is where the item is in the spec, when known.
	Pos spec.Pos
	// Item names the item: "alarm Alert-ELT-Delay".
	Item string
	// Reason says why, and what to do instead.
	Reason string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s: %s: %s", p.Pos, p.Item, p.Reason)
}

// Error lists every spec item that could not be rendered.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return fmt.Sprintf("cannot render %d item(s):\n%s", len(e.Problems), strings.Join(lines, "\n"))
}

// problems collects Problems while rendering.
type problems struct {
	s    *spec.Spec
	list []Problem
}

func (ps *problems) add(path, item, format string, args ...any) {
	ps.list = append(ps.list, Problem{Pos: ps.s.Pos(path), Item: item, Reason: fmt.Sprintf(format, args...)})
}

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	sort.SliceStable(ps.list, func(i, j int) bool {
		a, b := ps.list[i].Pos, ps.list[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return &Error{Problems: ps.list}
}

// hasControl reports whether s holds a control character, which no AWS
// name accepts.
func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// quoteOdd quotes a name with control characters, so that a problem
// stays on one line.
func quoteOdd(name string) string {
	if hasControl(name) {
		return strconv.Quote(name)
	}
	return name
}
