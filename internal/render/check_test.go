package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writtenModule(t *testing.T) (string, Files) {
	t.Helper()
	files, err := Terraform(parseSpec(t, baseSpec))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "modules", "operations")
	if err := WriteDir(dir, files); err != nil {
		t.Fatal(err)
	}
	return dir, files
}

// TestCheck covers the pull-request gate: equal, changed, missing and
// extra files, with Terraform's own hidden files ignored.
func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, dir string)
		// want is the summary line; "" means equal.
		want, diff string
	}{
		{"equal", func(*testing.T, string) {}, "", ""},
		{"hidden files and directories are Terraform's", func(t *testing.T, dir string) {
			mustWrite(t, filepath.Join(dir, ".terraform.lock.hcl"), "x")
			if err := os.Mkdir(filepath.Join(dir, ".terraform"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, "", ""},
		{"changed", func(t *testing.T, dir string) {
			path := filepath.Join(dir, "alarms.tf")
			data, _ := os.ReadFile(path)
			mustWrite(t, path, strings.Replace(string(data), `comparison_operator = "GreaterThanThreshold"`, `comparison_operator = "LessThanThreshold"`, 1))
		}, "changed: DIR/alarms.tf", `-  comparison_operator = "LessThanThreshold"` + "\n" + `+  comparison_operator = "GreaterThanThreshold"`},
		{"missing", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "maintenance.tf")); err != nil {
				t.Fatal(err)
			}
		}, "missing: DIR/maintenance.tf", "+++ rendered/maintenance.tf"},
		{"extra", func(t *testing.T, dir string) {
			mustWrite(t, filepath.Join(dir, "extra.tf"), "# mine\n")
		}, "extra: DIR/extra.tf", "--- DIR/extra.tf\n+++ /dev/null\n@@ -1 +0,0 @@\n-# mine"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, files := writtenModule(t)
			tt.change(t, dir)
			rep, err := Check(dir, files)
			if err != nil {
				t.Fatal(err)
			}
			summary := strings.ReplaceAll(rep.Summary(), dir, "DIR")
			diff := strings.ReplaceAll(rep.Diff, dir, "DIR")
			if tt.want == "" {
				if !rep.Equal() || summary != "" || diff != "" {
					t.Fatalf("want equal, got:\n%s%s", summary, diff)
				}
				return
			}
			if rep.Equal() || !strings.HasPrefix(summary, tt.want) || !strings.Contains(diff, tt.diff) {
				t.Fatalf("summary:\n%s\ndiff:\n%s", summary, diff)
			}
		})
	}
}

func TestCheckOfAMissingDirListsEveryFile(t *testing.T) {
	files, err := Terraform(parseSpec(t, baseSpec))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Check(filepath.Join(t.TempDir(), "none"), files)
	if err != nil || len(rep.Missing) != len(files) {
		t.Fatalf("%v %+v", err, rep)
	}
}

// TestWriteDirRemovesOnlyItsOwnStaleFiles: a file an earlier rendering
// wrote goes when the spec stops rendering it; the user's files stay.
func TestWriteDirRemovesOnlyItsOwnStaleFiles(t *testing.T) {
	dir, _ := writtenModule(t)
	mustWrite(t, filepath.Join(dir, "mine.tf"), "# mine\n")
	files, err := Terraform(parseSpec(t, strings.Replace(baseSpec, `schedule: "0 4 * * SUN"`, "after: pipeline_success", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := files["maintenance.tf"]; ok {
		t.Fatal("a spec without schedules renders no maintenance.tf")
	}
	if err := WriteDir(dir, files); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "maintenance.tf")); !os.IsNotExist(err) {
		t.Errorf("stale maintenance.tf kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "mine.tf")); err != nil {
		t.Errorf("the user's file was removed: %v", err)
	}
	rep, _ := Check(dir, files)
	if len(rep.Extra) != 1 || len(rep.Missing)+len(rep.Changed) != 0 {
		t.Errorf("%+v", rep)
	}
}

func TestUnifiedDiff(t *testing.T) {
	a := "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n"
	b := "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\neleven\n"
	// Changes up to 6 lines apart share a hunk, as in diff -u.
	want := "--- a\n+++ b\n@@ -2,9 +2,10 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n 9\n 10\n+eleven\n"
	if got := unifiedDiff("a", "b", a, b); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	far := "x\n" + a + "1\n2\n3\n4\n5\n6\n7\ny\n"
	farB := "X\n" + a + "1\n2\n3\n4\n5\n6\n7\nY\n"
	if got := unifiedDiff("a", "b", far, farB); strings.Count(got, "@@ -") != 2 {
		t.Fatalf("changes far apart want two hunks:\n%s", got)
	}
	if unifiedDiff("a", "b", a, a) != "" {
		t.Fatal("equal texts have no diff")
	}
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
