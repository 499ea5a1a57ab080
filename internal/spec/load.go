package spec

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"github.com/dpc-learning/dpcops/examples"
	yaml "go.yaml.in/yaml/v4"
)

// DefaultFile is the name diagnostics give the built-in spec.
const DefaultFile = "<built-in spec>"

// maxSpecBytes bounds the size of a spec file.
const maxSpecBytes = 4 << 20

// Options tune loading.
type Options struct {
	// LookupEnv resolves ${VAR}; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// ReadFile reads *_file secrets; nil means os.ReadFile.
	ReadFile func(string) ([]byte, error)
	// Stdin is read for the path "-"; nil means os.Stdin.
	Stdin io.Reader
}

func (o Options) lookup() func(string) (string, bool) {
	if o.LookupEnv != nil {
		return o.LookupEnv
	}
	return os.LookupEnv
}

func (o Options) readFile() func(string) ([]byte, error) {
	if o.ReadFile != nil {
		return o.ReadFile
	}
	return os.ReadFile
}

// DefaultYAML returns the built-in spec: the seed's design, mapped onto
// what AWS offers. It is examples/dpc-learning.yaml.
func DefaultYAML() []byte { return bytes.Clone(examples.DPCLearning) }

// Default loads the built-in spec.
func Default(opts Options) (*Spec, Diagnostics) {
	return Parse(DefaultFile, examples.DPCLearning, opts)
}

// Load reads and checks the spec at path; "-" reads standard input. The
// error is for a file that cannot be read; problems in the spec itself are
// diagnostics.
func Load(path string, opts Options) (*Spec, Diagnostics, error) {
	var data []byte
	var err error
	if path == "-" {
		in := opts.Stdin
		if in == nil {
			in = os.Stdin
		}
		data, err = io.ReadAll(io.LimitReader(in, maxSpecBytes+1))
		path = "<stdin>"
	} else {
		data, err = readLimited(path)
	}
	if err != nil {
		return nil, nil, err
	}
	if len(data) > maxSpecBytes {
		return nil, nil, fmt.Errorf("%s: spec is larger than %d bytes", path, maxSpecBytes)
	}
	s, diags := Parse(path, data, opts)
	return s, diags, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxSpecBytes+1))
}

// Parse decodes, completes with defaults and checks a spec. It returns the
// spec (nil only when the YAML itself is malformed) and every problem found,
// sorted by position. A spec with error diagnostics must not be used.
func Parse(file string, data []byte, opts Options) (*Spec, Diagnostics) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, Diagnostics{syntaxError(file, err)}
	}
	s := &Spec{src: &source{file: file, pos: map[string]Pos{}}}
	d := &decoder{src: s.src, lookup: opts.lookup(), fields: map[reflect.Type]*structInfo{}, active: map[*yaml.Node]bool{}}
	doc := &root
	if doc.Kind == 0 || doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil, Diagnostics{{Pos: Pos{File: file, Line: 1, Col: 1}, Severity: Error, Message: "the spec is empty"}}
		}
		doc = doc.Content[0]
	}
	if doc.Kind != yaml.MappingNode {
		d.errorf(doc, "the spec must be a mapping of sections (platform, warehouse, metrics, alarms...), got %s", kindName(doc))
		return nil, d.diags
	}
	d.value(doc, reflect.ValueOf(s).Elem(), "")
	for _, u := range d.unset {
		d.diags = append(d.diags, Diagnostic{Pos: u.pos, Severity: Error,
			Message: fmt.Sprintf("environment variable %s is not set (used by %s); set it, give a default with ${%s:-value}, or turn the part off with enabled: false or if-set", u.name, u.path, u.name)})
	}
	c := &checker{s: s, src: s.src, readFile: opts.readFile(), unset: map[string]bool{}}
	for _, u := range d.unset {
		c.unset[u.path] = true
	}
	c.diags = d.diags
	s.applyDefaults()
	c.resolveFiles()
	c.check()
	c.checkAWS()
	sortDiagnostics(c.diags)
	return s, c.diags
}

// Pos returns the position of a path in the spec ("alarms[2].threshold"),
// or of its nearest written ancestor.
func (s *Spec) Pos(path string) Pos {
	return s.src.at(path)
}

// File returns the file the spec came from.
func (s *Spec) File() string {
	if s.src == nil {
		return ""
	}
	return s.src.file
}

func sortDiagnostics(ds Diagnostics) {
	// A stable insertion sort keeps problems at one position in the order
	// they were found; specs are small.
	for i := 1; i < len(ds); i++ {
		for j := i; j > 0 && lessPos(ds[j].Pos, ds[j-1].Pos); j-- {
			ds[j], ds[j-1] = ds[j-1], ds[j]
		}
	}
}

func lessPos(a, b Pos) bool {
	if a.Line != b.Line {
		return a.Line < b.Line
	}
	return a.Col < b.Col
}

// secretFile reads a *_file secret: its content without surrounding space.
func secretFile(read func(string) ([]byte, error), path string) (Secret, error) {
	b, err := read(path)
	if err != nil {
		return "", err
	}
	return Secret(strings.TrimSpace(string(b))), nil
}
