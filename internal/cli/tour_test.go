package cli

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tourStep is one command of the README's tour, with what its comment
// promises, if anything.
type tourStep struct {
	line string
	args []string // after bin/dpcops; nil for curl
	url  string   // curl's URL, with $DPCOPS_URL unexpanded
	grep string   // curl … | grep X
	// promises are what the comments say the output holds: a comment
	// with ": ok:", or the lines of output under the command, each
	// without its leading and trailing "...".
	promises []string
}

// readmeTour returns the commands of the README's fenced block that
// holds the line starting with first, and the promises of the comment
// lines under each.
func readmeTour(t *testing.T, readme, first string) []tourStep {
	t.Helper()
	i := strings.Index(readme, "\n"+first)
	if i < 0 {
		t.Fatalf("README has no line %q", first)
	}
	start := strings.LastIndex(readme[:i+1], "```sh\n") + len("```sh\n")
	end := i + strings.Index(readme[i:], "```")
	if start < len("```sh\n") || end < i {
		t.Fatalf("README's line %q is not in a sh block", first)
	}
	var steps []tourStep
	sc := bufio.NewScanner(strings.NewReader(readme[start:end]))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		cmd, comment, _ := strings.Cut(line, "#")
		cmd, comment = strings.TrimSpace(cmd), strings.TrimSpace(comment)
		switch {
		case cmd == "" && len(steps) > 0 && comment != "":
			// A line of the command's output, shown under it.
			last := &steps[len(steps)-1]
			last.promises = append(last.promises, strings.TrimSuffix(strings.TrimPrefix(comment, "..."), " ..."))
		case strings.HasPrefix(cmd, "bin/dpcops "):
			s := tourStep{line: line, args: strings.Fields(strings.TrimPrefix(cmd, "bin/dpcops "))}
			if strings.Contains(comment, ": ok:") {
				s.promises = []string{comment}
			}
			steps = append(steps, s)
		case strings.HasPrefix(cmd, "curl -s "):
			url, grep, _ := strings.Cut(strings.TrimPrefix(cmd, "curl -s "), "| grep ")
			steps = append(steps, tourStep{line: line, url: strings.TrimSpace(url), grep: strings.TrimSpace(grep)})
		case cmd == "source dpcops-demo.env", strings.HasPrefix(cmd, "bash bench/"):
			// The environment is the test's to set; the benchmark has
			// its own figures in bench/RESULTS.md.
		case cmd != "":
			t.Fatalf("the tour has a command this test cannot run: %q", line)
		}
	}
	if len(steps) == 0 {
		t.Fatalf("no commands in the README's block of %q", first)
	}
	return steps
}

// TestReadmeTourRunsAsWritten runs the README's tour as a newcomer would:
// `dpcops demo`, then, in the environment it writes, each command the
// tour gives, checking its exit code and what its comment promises; then
// the tour without the demo. README and product cannot drift apart.
func TestReadmeTourRunsAsWritten(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	ctx, stop := context.WithCancel(context.Background())
	demoDone := make(chan result, 1)
	go func() {
		var out, errb bytes.Buffer
		code := mainWithEnv(ctx, []string{"demo", "--listen", "127.0.0.1:0", "--log-level", "warn"},
			IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}, "v-test", func(string) (string, bool) { return "", false })
		demoDone <- result{code, out.String(), errb.String()}
	}()
	defer func() {
		stop()
		if r := <-demoDone; r.code != 0 {
			t.Errorf("the demo ended with %d: %s", r.code, r.stderr)
		}
		if _, err := os.Stat(demoEnvFile); !os.IsNotExist(err) {
			t.Errorf("the demo left %s behind: %v", demoEnvFile, err)
		}
	}()
	env := waitDemoEnv(t, demoDone)
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for _, s := range readmeTour(t, string(readme), "source dpcops-demo.env") {
		if s.args == nil {
			body := getOK(t, strings.ReplaceAll(s.url, "$DPCOPS_URL", env["DPCOPS_URL"]))
			if s.grep != "" && !strings.Contains(body, s.grep) {
				t.Errorf("%s: no %q in the answer", s.line, s.grep)
			}
			continue
		}
		var out, errb bytes.Buffer
		code := mainWithEnv(context.Background(), s.args, IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}, "v-test", lookup)
		if code != 0 || strings.Contains(errb.String(), "level=WARN") {
			t.Errorf("%s: exit %d\n%s%s", s.line, code, out.String(), errb.String())
		}
		for _, p := range s.promises {
			if !strings.Contains(out.String(), p) {
				t.Errorf("%s: the README promises %q; the output is\n%s", s.line, p, out.String())
			}
		}
	}

	// Without the demo: the README's own files, from the repository.
	for _, s := range readmeTour(t, string(readme), "bin/dpcops spec default") {
		args := append([]string(nil), s.args...)
		redirect := "" // the file of a "> FILE"
		for i, a := range args {
			if a == ">" && i+1 < len(args) {
				redirect, args = args[i+1], args[:i]
				break
			}
			if _, err := os.Stat(filepath.Join(root, a)); err == nil && strings.Contains(a, "/") {
				args[i] = filepath.Join(root, a)
			}
		}
		var out, errb bytes.Buffer
		code := mainWithEnv(context.Background(), args, IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}, "v-test",
			func(string) (string, bool) { return "", false })
		if redirect != "" {
			if err := os.WriteFile(redirect, out.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		both := out.String() + errb.String()
		for _, p := range s.promises {
			if !strings.Contains(both, p) {
				t.Errorf("%s: the README promises %q; the output is\n%s", s.line, p, both)
			}
		}
		if code != 0 && len(s.promises) == 0 {
			t.Errorf("%s: exit %d: %s", s.line, code, errb.String())
		}
	}
}

// waitDemoEnv waits for the demo to write its environment file, and
// returns the environment it sets.
func waitDemoEnv(t *testing.T, demoDone <-chan result) map[string]string {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if b, err := os.ReadFile(demoEnvFile); err == nil {
			env, err := sourced(demoEnvFile)
			if err != nil {
				t.Fatalf("%s: %v\n%s", demoEnvFile, err, b)
			}
			return env
		}
		select {
		case r := <-demoDone:
			t.Fatalf("the demo ended before it served: %d %s", r.code, r.stderr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the demo did not write its environment file")
		}
	}
}

func getOK(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(b)
}
