package render

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Report says how a directory differs from what the spec renders.
type Report struct {
	// Missing are files the spec renders that the directory lacks; Extra
	// the directory's files the spec does not render; Changed those whose
	// content differs.
	Missing, Extra, Changed []string
	// Diff is a unified diff per file, from the directory to the rendering.
	Diff string
}

// Equal reports whether the directory holds exactly the rendered files.
func (r *Report) Equal() bool {
	return len(r.Missing)+len(r.Extra)+len(r.Changed) == 0
}

// Summary is one line per difference.
func (r *Report) Summary() string {
	var b strings.Builder
	for _, n := range r.Missing {
		fmt.Fprintf(&b, "missing: %s (the spec renders it)\n", n)
	}
	for _, n := range r.Extra {
		fmt.Fprintf(&b, "extra: %s (the spec does not render it)\n", n)
	}
	for _, n := range r.Changed {
		fmt.Fprintf(&b, "changed: %s\n", n)
	}
	return b.String()
}

// Check compares dir with the rendered files. Hidden entries and
// subdirectories of dir are not part of the module and are ignored.
func Check(dir string, files Files) (*Report, error) {
	onDisk, err := moduleFiles(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	rep := &Report{}
	var diff strings.Builder
	have := map[string]bool{}
	for _, name := range onDisk {
		have[name] = true
	}
	for _, name := range files.Names() {
		path := filepath.Join(dir, name)
		if !have[name] {
			rep.Missing = append(rep.Missing, path)
			diff.WriteString(unifiedDiff("/dev/null", "rendered/"+name, "", string(files[name])))
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if d := unifiedDiff(path, "rendered/"+name, string(data), string(files[name])); d != "" {
			rep.Changed = append(rep.Changed, path)
			diff.WriteString(d)
		}
	}
	for _, name := range onDisk {
		if _, ok := files[name]; ok {
			continue
		}
		path := filepath.Join(dir, name)
		rep.Extra = append(rep.Extra, path)
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		diff.WriteString(unifiedDiff(path, "/dev/null", string(data), ""))
	}
	rep.Diff = diff.String()
	return rep, nil
}
