package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fillDisk makes the writer's connection refuse to grow the database, as
// a full disk does (SQLITE_FULL).
func fillDisk(t *testing.T, s *Store, full bool) {
	t.Helper()
	limit := "2147483646"
	if full {
		var pages int
		if err := s.reader.QueryRow("PRAGMA page_count").Scan(&pages); err != nil {
			t.Fatal(err)
		}
		limit = strconv.Itoa(pages)
	}
	// The pragma is per connection: the writer pool has one.
	if err := s.writeTx(context.Background(), func(tx *sql.Tx) error {
		_, err := tx.Exec("PRAGMA max_page_count = " + limit)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// TestWritableFollowsTheDisk: a store whose disk is full says so until a
// write goes through again; a caller's own error says nothing of the
// store.
func TestWritableFollowsTheDisk(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	batch := func(n int) []Datapoint {
		var out []Datapoint
		for i := range n {
			out = append(out, Datapoint{Metric: "M", Dims: "k=" + strconv.Itoa(i), Time: time.Unix(int64(i), 0), Value: 1})
		}
		return out
	}
	if err := s.InsertDatapoints(ctx, batch(10)); err != nil || s.Writable() != nil {
		t.Fatalf("a healthy store: %v, %v", err, s.Writable())
	}
	if err := s.WriteTx(ctx, func(*sql.Tx) error { return errors.New("the caller's own") }); err == nil || s.Writable() != nil {
		t.Errorf("a caller's error marked the store unwritable: %v", s.Writable())
	}
	fillDisk(t, s, true)
	for range 2 {
		if err := s.InsertDatapoints(ctx, batch(5000)); err == nil {
			t.Fatal("a write to a full disk went through")
		}
	}
	if err := s.Writable(); err == nil || !strings.Contains(err.Error(), "2 in a row") || !strings.Contains(err.Error(), "full") {
		t.Errorf("a full disk: %v", err)
	}
	fillDisk(t, s, false)
	if err := s.InsertDatapoints(ctx, batch(5000)); err != nil || s.Writable() != nil {
		t.Errorf("after the disk has room again: %v, %v", err, s.Writable())
	}
}
