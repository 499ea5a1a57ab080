package render

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclwrite"
)

// randomSpec builds a valid spec from a seed: alarms over every kind of
// series (dpcops' own, AWS's, per QueryType, the usage limit, math),
// random names, statistics, periods, routes and schedules.
func randomSpec(rng *rand.Rand, name string) string {
	pick := func(xs ...string) string { return xs[rng.Intn(len(xs))] }
	var b strings.Builder
	b.WriteString(strings.Replace(baseSpec, "alarms:\n  - {name: A, metric: Delay, comparison: GreaterThanThreshold, threshold: 1, topics: [t]}\n", "", 1))
	b.WriteString("alarms:\n")
	n := 1 + rng.Intn(6)
	for i := 0; i < n; i++ {
		src := pick("metric: Delay", "metric: Usage", "metric: QueriesFailed", `expression: "DIFF(QueriesFailed)"`,
			`expression: "100 * QueriesFailed / (QueriesFailed + QueriesSucceeded)"`, `expression: "SUM([Delay, Delay]) * 2"`)
		stat := pick("Sum", "Average", "Maximum", "Minimum", "SampleCount", "p99", "p95.5")
		period := pick("1m", "5m", "1h")
		evals := 1 + rng.Intn(3)
		fmt.Fprintf(&b, "  - {name: %s, %s, statistic: %s, period: %s, evaluation_periods: %d, datapoints_to_alarm: %d, comparison: %s, threshold: %g, treat_missing_data: %s, severity: %s, topics: [t]}\n",
			yamlString(fmt.Sprintf("%s-%d", name, i)), src, stat, period, evals, 1+rng.Intn(evals),
			pick("GreaterThanThreshold", "LessThanOrEqualToThreshold"), rng.Float64()*100-50,
			pick("missing", "ignore", "breaching", "notBreaching"), pick("critical", "warning", "info"))
	}
	return b.String()
}

// TestAnyValidSpecRendersCanonicalHCL: for random valid specs, rendering
// either refuses with problems that each name an item and a reason, or
// yields files that parse, are canonical, and come out the same twice.
func TestAnyValidSpecRendersCanonicalHCL(t *testing.T) {
	rng := rand.New(rand.NewSource(8))
	rendered, refused := 0, 0
	for i := 0; i < 150; i++ {
		name := hostile[rng.Intn(len(hostile))]
		y := randomSpec(rng, name)
		s := parseSpec(t, y)
		files, err := Terraform(s)
		var re *Error
		if errors.As(err, &re) {
			for _, p := range re.Problems {
				if p.Item == "" || p.Reason == "" || p.Pos.Line == 0 {
					t.Fatalf("problem without item, reason or place: %+v", p)
				}
			}
			refused++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		rendered++
		parseModule(t, files)
		again, _ := Terraform(s)
		for name, data := range files {
			if strings.HasSuffix(name, ".tf") && !bytes.Equal(hclwrite.Format(data), data) {
				t.Fatalf("%s not canonical for spec:\n%s", name, y)
			}
			if !bytes.Equal(again[name], data) {
				t.Fatalf("%s differs between two renderings", name)
			}
		}
	}
	if rendered < 50 || refused == 0 {
		t.Fatalf("rendered %d, refused %d: the generator must reach both outcomes", rendered, refused)
	}
}

// FuzzTerraform renders the base spec with a fuzzed alarm name and
// description: whatever the text, the output parses and is canonical, and
// the alarm's name reads back unchanged, or the name is refused.
func FuzzTerraform(f *testing.F) {
	for _, h := range hostile {
		f.Add(h, h+"\n")
	}
	f.Fuzz(func(t *testing.T, name, desc string) {
		if name == "" || len(name) > 255 || strings.ContainsRune(name+desc, 0xFFFD) {
			return
		}
		s := parseSpec(t, baseSpec)
		s.Alarms[0].Name, s.Alarms[0].Description = name, desc
		files, err := Terraform(s)
		var re *Error
		if errors.As(err, &re) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := parseModule(t, files)
		for _, b := range p.resources("aws_cloudwatch_metric_alarm") {
			got := p.value(b.Body, "alarm_name").AsString()
			if got == name {
				return
			}
		}
		t.Fatalf("alarm %q not read back", name)
	})
}
