package lease

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/store/storetest"
)

// TestASecondOpenLeaseIsRefused: whoever opened the first, a second open
// lease is refused with "ask again", on either store, and nothing is
// written for it.
func TestASecondOpenLeaseIsRefused(t *testing.T) {
	st := storetest.Open(t)
	m := &Manager{o: Options{Store: st}}
	now := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	l := Lease{Pipeline: "dbt", RaisedTo: 32, Normal: 8, Started: now, Expires: now.Add(time.Hour), AskedBy: "pipeline"}
	if _, err := m.insert(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	if _, err := m.insert(context.Background(), l); !errors.Is(err, errOpenMeanwhile) {
		t.Fatalf("a second open lease: %v", err)
	}
	var n int
	if err := st.Reader().QueryRow(`SELECT count(*) FROM capacity_leases`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d leases stored, %v", n, err)
	}
}
