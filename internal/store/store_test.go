package store

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func openTest(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func batch(metric string, start, n int) []Datapoint {
	out := make([]Datapoint, n)
	for i := range out {
		out[i] = Datapoint{Metric: metric, Dims: "Environment=prod", Unit: "Count",
			Time: t0.Add(time.Duration(start+i) * time.Second), Value: float64(start + i)}
	}
	return out
}

func TestOpenMigratesAndReopens(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	var v int
	if err := s.Reader().QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != SchemaVersion() || v < 1 {
		t.Fatalf("user_version = %d, %v; want %d", v, err, SchemaVersion())
	}
	var mode string
	s.writer.QueryRow("PRAGMA journal_mode").Scan(&mode)
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
	if err := s.InsertDatapoints(context.Background(), batch("M", 0, 10)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2 := openTest(t, dir)
	if n, _ := s2.CountDatapoints(context.Background()); n != 10 {
		t.Errorf("after reopen: %d datapoints, want 10", n)
	}
}

// TestConcurrentOpensOfAFreshStore opens one fresh directory from several
// goroutines at once, each with its own *Store as two processes would:
// every open succeeds and the schema ends at the latest version, each
// migration applied once.
func TestConcurrentOpensOfAFreshStore(t *testing.T) {
	const n = 8
	for round := 0; round < 5; round++ {
		dir := t.TempDir()
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				<-start
				s, err := Open(context.Background(), dir, Options{})
				if err == nil {
					err = s.Close()
				}
				errs[i] = err
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: open %d: %v", round, i, err)
			}
		}
		s := openTest(t, dir)
		var v int
		if err := s.Reader().QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != SchemaVersion() {
			t.Fatalf("round %d: user_version %d, %v; want %d", round, v, err, SchemaVersion())
		}
		s.Close()
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	if _, err := s.writer.Exec("PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, ro := range []bool{false, true} {
		_, err := Open(context.Background(), dir, Options{ReadOnly: ro})
		if !errors.Is(err, ErrNewerSchema) {
			t.Fatalf("read-only=%v: want ErrNewerSchema, got %v", ro, err)
		}
		if msg := err.Error(); !strings.Contains(msg, filepath.Join(dir, FileName)) || !strings.Contains(msg, "version 999") || !strings.Contains(msg, "upgrade dpcops") {
			t.Errorf("message %q should name the file, its version and the remedy", msg)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain-file")
	os.WriteFile(file, []byte("x"), 0o600)
	if _, err := Open(context.Background(), filepath.Join(file, "data"), Options{}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("data dir under a file: got %v", err)
	}
	if _, err := Open(context.Background(), t.TempDir(), Options{ReadOnly: true}); err == nil {
		t.Error("read-only open of a missing store must fail")
	}
	garbage := t.TempDir()
	os.WriteFile(filepath.Join(garbage, FileName), []byte(strings.Repeat("not a database ", 1000)), 0o600)
	if _, err := Open(context.Background(), garbage, Options{}); err == nil {
		t.Error("a file that is not a database must not open")
	}
}

func TestBatchIsAllOrNothing(t *testing.T) {
	eachDialect(t, testBatchIsAllOrNothing)
}

func testBatchIsAllOrNothing(t *testing.T, open func() *Store) {
	s := open()
	ctx := context.Background()
	if err := s.InsertDatapoints(ctx, batch("M", 0, 100)); err != nil {
		t.Fatal(err)
	}
	bad := batch("N", 0, 100)
	bad[50].Value = math.NaN()
	if err := s.InsertDatapoints(ctx, bad); err == nil {
		t.Fatal("a batch with NaN must be refused")
	}
	// A cancelled context writes nothing.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.InsertDatapoints(cctx, batch("Q", 0, 10)); err == nil {
		t.Fatal("want an error from a cancelled context")
	}
	// A cycle that fails inside its transaction, after its datapoints and
	// their new series were written: a log line the trigger refuses.
	refuseLogLine(t, s)
	err := s.WriteCycle(ctx, CycleWrite{Datapoints: batch("P", 0, 1000), Logs: []LogLine{{Time: t0, Source: "postgres", Severity: "ERROR", Message: "boom"}}})
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("want the trigger's refusal, got %v", err)
	}
	if n, _ := s.CountDatapoints(ctx); n != 100 {
		t.Fatalf("%d datapoints stored, want the first batch's 100 only", n)
	}
	if se, _ := s.ListSeries(ctx, ""); len(se) != 1 {
		t.Fatalf("series %v: the failed batches must leave no series", se)
	}
	// The series the failed batch would have created can still be written.
	if err := s.InsertDatapoints(ctx, batch("P", 0, 5)); err != nil {
		t.Fatal(err)
	}
	if pts, _ := s.Points(ctx, "P", "Environment=prod", t0, t0.Add(time.Hour)); len(pts) != 5 {
		t.Fatalf("P has %d points, want 5", len(pts))
	}
}

func TestPointsDuplicatesAndPrune(t *testing.T) {
	eachDialect(t, testPointsDuplicatesAndPrune)
}

func testPointsDuplicatesAndPrune(t *testing.T, open func() *Store) {
	s := open()
	ctx := context.Background()
	if err := s.InsertDatapoints(ctx, batch("M", 0, 60)); err != nil {
		t.Fatal(err)
	}
	// Out of order and a duplicate time: the later write wins.
	late := []Datapoint{
		{Metric: "M", Dims: "Environment=prod", Time: t0.Add(90 * time.Second), Value: 90},
		{Metric: "M", Dims: "Environment=prod", Time: t0.Add(10 * time.Second), Value: -1},
	}
	if err := s.InsertDatapoints(ctx, late); err != nil {
		t.Fatal(err)
	}
	pts, err := s.Points(ctx, "M", "Environment=prod", t0.Add(5*time.Second), t0.Add(91*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 56 || pts[0].Time != t0.Add(5*time.Second) || pts[5].Value != -1 || pts[55].Value != 90 {
		t.Fatalf("points: %d, first %v, [5]=%v, last %v", len(pts), pts[0], pts[5], pts[len(pts)-1])
	}
	for i := 1; i < len(pts); i++ {
		if !pts[i].Time.After(pts[i-1].Time) {
			t.Fatal("points not in time order")
		}
	}
	// One batch with one time twice: the later of the two stands.
	twice := []Datapoint{
		{Metric: "M", Dims: "Environment=prod", Time: t0.Add(20 * time.Second), Value: 7},
		{Metric: "M", Dims: "Environment=prod", Time: t0.Add(20 * time.Second), Value: 8},
	}
	if err := s.InsertDatapoints(ctx, twice); err != nil {
		t.Fatal(err)
	}
	if pts, _ := s.Points(ctx, "M", "Environment=prod", t0.Add(20*time.Second), t0.Add(21*time.Second)); len(pts) != 1 || pts[0].Value != 8 {
		t.Errorf("one time twice in a batch: %v", pts)
	}
	if pts, _ := s.Points(ctx, "M", "Environment=dev", t0, t0.Add(time.Hour)); pts != nil {
		t.Errorf("another series' points: %v", pts)
	}
	p, err := s.PruneDatapoints(ctx, t0.Add(30*time.Second))
	if err != nil || p.Rows != 30 {
		t.Fatalf("pruned %d, %v; want 30", p.Rows, err)
	}
	if c, _ := s.CountDatapoints(ctx); c != 31 {
		t.Errorf("%d left, want 31", c)
	}
}

func TestWriteTxRollsBack(t *testing.T) {
	eachDialect(t, testWriteTxRollsBack)
}

func testWriteTxRollsBack(t *testing.T, open func() *Store) {
	s := open()
	ctx := context.Background()
	boom := errors.New("boom")
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`INSERT INTO alarm_state (alarm, state) VALUES ('a', 'ALARM')`); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	var n int
	s.Reader().QueryRow(`SELECT count(*) FROM alarm_state`).Scan(&n)
	if n != 0 {
		t.Error("the failed transaction left a row")
	}
}

// crashBatch is the size of the batches the crash test's child writes.
const crashBatch = 5000

// TestCrashDuringBatchWrite kills a writer with SIGKILL in the middle of
// its batches, then checks that every batch is wholly present or wholly
// absent and that the database is sound.
func TestCrashDuringBatchWrite(t *testing.T) {
	if dir := os.Getenv("DPCOPS_STORE_CRASH_CHILD"); dir != "" {
		crashChild(dir)
		return
	}
	dir := t.TempDir()
	for round := 0; round < 4; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashDuringBatchWrite$")
		cmd.Env = append(os.Environ(), "DPCOPS_STORE_CRASH_CHILD="+dir, fmt.Sprintf("DPCOPS_STORE_CRASH_ROUND=%d", round))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill the child once it has committed a few batches and is in the
		// middle of the next: it prints "begin" before each one.
		sc := bufio.NewScanner(out)
		commits := 0
		for sc.Scan() {
			if sc.Text() == "committed" {
				commits++
			}
			if sc.Text() == "begin" && commits >= 2+round {
				break
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()

		s, err := Open(context.Background(), dir, Options{})
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		n, err := s.CountDatapoints(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n%crashBatch != 0 || n < int64(crashBatch*(2+round)) {
			t.Fatalf("round %d: %d datapoints: a batch was partly written", round, n)
		}
		if res, err := s.IntegrityCheck(context.Background()); err != nil || res != "ok" {
			t.Fatalf("round %d: integrity check: %q, %v", round, res, err)
		}
		s.Close()
	}
}

func crashChild(dir string) {
	round, _ := strconv.Atoi(os.Getenv("DPCOPS_STORE_CRASH_ROUND"))
	s, err := Open(context.Background(), dir, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for i := 0; ; i++ {
		fmt.Println("begin")
		metric := fmt.Sprintf("crash_%d_%d", round, i)
		if err := s.InsertDatapoints(context.Background(), batch(metric, 0, crashBatch)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("committed")
	}
}

// BenchmarkInsertDatapoints measures batch insert throughput: the figure
// bench/RESULTS.md records (goal ≥ 200 000 datapoints/s).
func BenchmarkInsertDatapoints(b *testing.B) {
	for _, size := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			s, err := Open(context.Background(), b.TempDir(), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			// 100 series, as a collection cycle over many metrics writes.
			dps := make([]Datapoint, size)
			names := make([]string, 100)
			for i := range names {
				names[i] = fmt.Sprintf("m%d", i)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j := range dps {
					dps[j] = Datapoint{Metric: names[j%100], Dims: "Environment=prod",
						Time: t0.Add(time.Duration(i*size+j) * time.Millisecond), Value: float64(j)}
				}
				if err := s.InsertDatapoints(context.Background(), dps); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "datapoints/s")
		})
	}
}
