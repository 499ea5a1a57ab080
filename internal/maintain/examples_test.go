package maintain

import (
	"context"
	"testing"

	"github.com/dpc-learning/dpcops/examples"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store/storetest"
)

// The example specs' jobs all build: their schedules parse in their zones
// and their events have a source.
func TestExampleSpecsSchedule(t *testing.T) {
	for name, y := range map[string][]byte{"dpc-learning": examples.DPCLearning, "local-postgres": examples.LocalPostgres, "demo": examples.Demo} {
		t.Run(name, func(t *testing.T) {
			s, diags := spec.Parse(name+".yaml", y, spec.Options{LookupEnv: func(k string) (string, bool) {
				return "postgres://nobody@127.0.0.1:1/none", k == "DPCOPS_WAREHOUSE_DSN"
			}})
			if diags.HasErrors() {
				t.Fatalf("spec: %v", diags.Errors())
			}
			st := storetest.Open(t)
			r, err := NewRunner(Options{Spec: s, Store: st})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			sch, err := NewScheduler(SchedulerOptions{Spec: s, Store: st, Runner: r})
			if err != nil {
				t.Fatal(err)
			}
			jobs, err := sch.Jobs(context.Background())
			if err != nil || len(jobs) != len(s.Maintenance) {
				t.Fatalf("jobs %+v %v", jobs, err)
			}
			for _, j := range jobs {
				if j.Schedule != "" && j.Mode == "auto" && j.Next == nil {
					t.Errorf("job %s has no next run", j.Job)
				}
			}
		})
	}
}
