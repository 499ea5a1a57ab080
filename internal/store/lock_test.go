package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

func TestExclusiveOpenRefusesASecondHolder(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	first, err := Open(ctx, dir, Options{Exclusive: true})
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	_, err = Open(ctx, dir, Options{Exclusive: true})
	var inUse *InUseError
	if !errors.As(err, &inUse) || inUse.PID != os.Getpid() || inUse.Host != host {
		t.Fatalf("second exclusive open: want an InUseError naming PID %d on %s, got %v", os.Getpid(), host, err)
	}
	want := fmt.Sprintf("store in use by PID %d on %s", os.Getpid(), host)
	if msg := err.Error(); msg[:len(want)] != want {
		t.Errorf("message %q, want it to start with %q", msg, want)
	}
	if err := CheckNotInUse(dir); !errors.As(err, &inUse) {
		t.Errorf("CheckNotInUse beside a holder: %v", err)
	}
	// Readers and plain writers (a retry, a note) work beside the holder.
	for _, o := range []Options{{ReadOnly: true}, {}} {
		s, err := Open(ctx, dir, o)
		if err != nil {
			t.Fatalf("%+v beside an exclusive holder: %v", o, err)
		}
		s.Close()
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if err := CheckNotInUse(dir); err != nil {
		t.Errorf("CheckNotInUse after the holder closed: %v", err)
	}
	again, err := Open(ctx, dir, Options{Exclusive: true})
	if err != nil {
		t.Fatalf("exclusive open after the holder closed: %v", err)
	}
	again.Close()
	// A directory that holds nothing is not in use, and the check leaves
	// nothing behind.
	missing := filepath.Join(t.TempDir(), "none")
	if err := CheckNotInUse(missing); err != nil {
		t.Errorf("CheckNotInUse of a missing directory: %v", err)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Error("CheckNotInUse created the directory")
	}
}

// TestLockReleasedWhenTheHolderIsKilled kills a child that holds the
// store with SIGKILL: the kernel releases the lock, and the next exclusive
// open succeeds without any clean-up.
func TestLockReleasedWhenTheHolderIsKilled(t *testing.T) {
	if dir := os.Getenv("DPCOPS_STORE_LOCK_CHILD"); dir != "" {
		s, err := Open(context.Background(), dir, Options{Exclusive: true})
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		defer s.Close()
		fmt.Println("locked")
		select {} // until killed
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockReleasedWhenTheHolderIsKilled$")
	cmd.Env = append(os.Environ(), "DPCOPS_STORE_LOCK_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(out)
	if !sc.Scan() || sc.Text() != "locked" {
		t.Fatalf("child: %q", sc.Text())
	}
	_, err = Open(context.Background(), dir, Options{Exclusive: true})
	var inUse *InUseError
	if !errors.As(err, &inUse) || inUse.PID != cmd.Process.Pid {
		t.Fatalf("beside the child: want the child's PID %d, got %v", cmd.Process.Pid, err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	s, err := Open(context.Background(), dir, Options{Exclusive: true})
	if err != nil {
		t.Fatalf("after SIGKILL of the holder: %v", err)
	}
	defer s.Close()
	b, _ := os.ReadFile(filepath.Join(dir, LockFile))
	if want := strconv.Itoa(os.Getpid()) + " "; string(b[:len(want)]) != want {
		t.Errorf("lock file %q should name the new holder %d", b, os.Getpid())
	}
}
