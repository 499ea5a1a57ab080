package web

import (
	"io/fs"
	"regexp"
	"testing"
)

// TestEveryLabelIsTranslated: every catalogue key a template uses ({{t
// "key"}} or {{tf "key" …}}) has its words in every language, so that no
// page shows a bare key.
func TestEveryLabelIsTranslated(t *testing.T) {
	use := regexp.MustCompile(`\{\{-?\s*tf? "([a-z_]+)"`)
	files, err := fs.Glob(assets, "templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("templates: %v", err)
	}
	seen := 0
	for _, f := range files {
		b, err := fs.ReadFile(assets, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range use.FindAllStringSubmatch(string(b), -1) {
			seen++
			for lang, words := range labels {
				if _, ok := words[m[1]]; !ok {
					t.Errorf("%s: label %q has no %s words", f, m[1], lang)
				}
			}
		}
	}
	if seen < 50 {
		t.Errorf("only %d labels found in the templates: is the pattern right?", seen)
	}
}
