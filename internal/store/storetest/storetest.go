// Package storetest gives tests a store of their own: opened in a
// temporary directory and closed when the test ends, and checks that hold
// for any store.
package storetest

import (
	"context"
	"testing"

	"github.com/dpc-learning/dpcops/internal/store"
)

// Open returns a fresh store for the test, closed when it ends.
func Open(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// ForeignKeysHold fails the test if any row refers to a row that is gone.
func ForeignKeysHold(t testing.TB, st *store.Store) {
	t.Helper()
	if bad, err := st.ForeignKeyCheck(context.Background()); err != nil || len(bad) > 0 {
		t.Errorf("foreign keys: %v %v", bad, err)
	}
}
