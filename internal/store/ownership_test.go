package store

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// sqlTableRef finds the table a statement reads or writes after FROM,
// JOIN, INTO or UPDATE. A schema-qualified name (ops.pipeline_runs) yields
// its schema, which is never a store table.
var sqlTableRef = regexp.MustCompile(`(?i)\b(FROM|JOIN|INTO|UPDATE)\s+([a-z_]+)\b`)

// createTable finds the tables a migration creates.
var createTable = regexp.MustCompile(`(?i)\bCREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([a-z_]+)`)

// ownership is what doc.go's package comment says: each table's owning
// package directory, and the files allowed to read a table they do not
// own.
type ownership struct {
	owners     map[string]string          // table → package directory
	exceptions map[string]map[string]bool // file → tables
}

// readOwnership parses the two lists of doc.go's "Table ownership"
// section: preformatted lines "table  owner ..." and "file.go  table ...".
func readOwnership(t *testing.T) ownership {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "doc.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	o := ownership{owners: map[string]string{}, exceptions: map[string]map[string]bool{}}
	for _, line := range strings.Split(f.Doc.Text(), "\n") {
		fields := strings.Fields(line)
		if !strings.HasPrefix(line, "\t") || len(fields) < 2 {
			continue
		}
		switch {
		case strings.HasSuffix(fields[0], ".go"):
			if o.exceptions[fields[0]] == nil {
				o.exceptions[fields[0]] = map[string]bool{}
			}
			o.exceptions[fields[0]][fields[1]] = true
		case strings.HasPrefix(fields[1], "internal/"):
			if prev, ok := o.owners[fields[0]]; ok {
				t.Errorf("doc.go: table %s has two owners, %s and %s", fields[0], prev, fields[1])
			}
			o.owners[fields[0]] = fields[1]
		}
	}
	return o
}

// migrationTables returns the tables the migrations create.
func migrationTables(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations found: %v", err)
	}
	tables := map[string]bool{}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range createTable.FindAllStringSubmatch(string(b), -1) {
			tables[strings.ToLower(m[1])] = true
		}
	}
	return tables
}

// tableRef is one naming of a store table in a Go string literal.
type tableRef struct {
	file  string // slash-separated, relative to the module root
	line  int
	table string
}

// goTableRefs returns the store tables that the string literals of the
// non-test Go files under the module root's dirs name after FROM, JOIN,
// INTO or UPDATE. Only literals are read: SQL is written in them, and
// comments are prose ("turns transitions into outbox rows").
func goTableRefs(t *testing.T, root string, dirs []string, tables map[string]bool) []tableRef {
	t.Helper()
	var refs []tableRef
	fset := token.NewFileSet()
	for _, dir := range dirs {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if d.Name() == "testdata" {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				line := fset.Position(lit.Pos()).Line
				for _, m := range sqlTableRef.FindAllStringSubmatchIndex(lit.Value, -1) {
					table := strings.ToLower(lit.Value[m[4]:m[5]])
					if tables[table] {
						at := line + strings.Count(lit.Value[:m[0]], "\n")
						refs = append(refs, tableRef{filepath.ToSlash(rel), at, table})
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return refs
}

// TestTableOwnership holds the code to doc.go's table ownership: a
// package's SQL names only the tables it owns, but for the exceptions
// listed there, and the lists name every table the migrations create.
func TestTableOwnership(t *testing.T) {
	root := filepath.Join("..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from the test's directory: %v", err)
	}
	own := readOwnership(t)
	tables := migrationTables(t)
	for table := range tables {
		if _, ok := own.owners[table]; !ok {
			t.Errorf("doc.go: table %s (created by a migration) has no owner listed", table)
		}
	}
	for table, owner := range own.owners {
		if !tables[table] {
			t.Errorf("doc.go: %s is listed with an owner but no migration creates it", table)
		}
		if st, err := os.Stat(filepath.Join(root, owner)); err != nil || !st.IsDir() {
			t.Errorf("doc.go: owner %s of %s is not a package directory", owner, table)
		}
	}
	used := map[string]bool{}
	refs := goTableRefs(t, root, []string{"internal", "cmd"}, tables)
	sort.SliceStable(refs, func(i, j int) bool { return refs[i].file < refs[j].file })
	failed := false
	for _, r := range refs {
		pkg := filepath.ToSlash(filepath.Dir(filepath.FromSlash(r.file)))
		switch {
		case own.owners[r.table] == pkg:
		case own.exceptions[r.file][r.table]:
			used[r.file+" "+r.table] = true
		default:
			failed = true
			t.Errorf("%s:%d: %s names %s, owned by %s", r.file, r.line, pkg, r.table, own.owners[r.table])
		}
	}
	if failed {
		t.Log("a package reads another's table through the owner's functions; a read that cannot is listed as an exception in internal/store/doc.go")
	}
	for file, ts := range own.exceptions {
		for table := range ts {
			if !used[file+" "+table] {
				t.Errorf("doc.go: exception %s reads %s is stale: that file no longer names the table", file, table)
			}
		}
	}
}
